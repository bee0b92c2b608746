"""Form notifications in a charset other than UTF-8 are decoded with it and recorded.

Django refuses every form body labelled with another charset (RFC 1866 says UTF-8);
MakeShop's charset is not published and its API speaks EUC-JP and Shift_JIS.
"""

import io
from urllib.parse import urlencode

import pytest
from django.urls import reverse

from malls.makeshop.models import NotificationEvent
from malls.makeshop.notification_records import Kind
from tests.factories import make_connection

pytestmark = pytest.mark.django_db

CHARSETS = ["Shift_JIS", "EUC-JP", "ISO-2022-JP", "UTF-16", "CP932", "utf8", "UTF-8", "latin-1"]
VALUES = {"shopid": "demo-shop", "ordernum": "A-77", "cmd": "入金完了時"}


def post(client, connection, body: bytes, charset: str):
    path = reverse("makeshop_notify:receive", args=[connection.notification_token])
    # generic(): post() would encode a dict as UTF-8 itself.
    return client.generic(
        "POST", path, body, content_type=f"application/x-www-form-urlencoded; charset={charset}"
    )


def japanese(charset):
    return "latin" not in charset.lower()


@pytest.mark.parametrize("charset", CHARSETS)
def test_a_percent_encoded_form_in_the_declared_charset_is_recorded(client, charset):
    connection = make_connection(makeshop_shop_id="demo-shop")
    values = VALUES if japanese(charset) else {**VALUES, "cmd": "入金完了時".encode().hex()}
    body = urlencode(values, encoding=charset).encode(charset)

    response = post(client, connection, body, charset)

    assert response.status_code == 200, response.content
    event = NotificationEvent.objects.get()
    assert event.order_number == "A-77"
    if japanese(charset):
        assert (event.kind, event.raw_command) == (Kind.PAYMENT_COMPLETED, "入金完了時")


@pytest.mark.parametrize("charset", ["Shift_JIS", "EUC-JP", "ISO-2022-JP", "UTF-16", "CP932"])
def test_a_raw_form_in_the_declared_charset_is_recorded(client, charset):
    connection = make_connection(makeshop_shop_id="demo-shop")
    body = "shopid=demo-shop&ordernum=A-78&cmd=入金完了時".encode(charset)

    response = post(client, connection, body, charset)

    assert response.status_code == 200
    event = NotificationEvent.objects.get()
    assert (event.kind, event.order_number, event.raw_command) == (
        Kind.PAYMENT_COMPLETED, "A-78", "入金完了時"
    )


@pytest.mark.parametrize("charset", ["Shift_JIS", "EUC-JP"])
def test_a_plain_ascii_form_labelled_japanese_is_recorded(client, charset):
    connection = make_connection(makeshop_shop_id="demo-shop")

    response = post(client, connection, b"shopid=demo-shop&ordernum=5&cmd=modify", charset)

    assert response.status_code == 200
    assert NotificationEvent.objects.get().kind == Kind.ORDER_EDITED


def test_bytes_the_charset_cannot_decode_do_not_fail_the_notification(client):
    connection = make_connection(makeshop_shop_id="demo-shop")

    response = post(client, connection, b"shopid=demo-shop&ordernum=9&cmd=\xff\xfe%FF", "euc-jp")

    assert response.status_code == 200
    assert NotificationEvent.objects.get().order_number == "9"


@pytest.mark.django_db(transaction=True)
def test_through_the_production_entry_point(client):
    from goq.wsgi import application

    connection = make_connection(makeshop_shop_id="demo-shop")
    body = urlencode(VALUES, encoding="shift_jis").encode()
    environ = {
        "REQUEST_METHOD": "POST",
        "PATH_INFO": reverse("makeshop_notify:receive", args=[connection.notification_token]),
        "QUERY_STRING": "",
        "CONTENT_TYPE": "application/x-www-form-urlencoded; charset=Shift_JIS",
        "CONTENT_LENGTH": str(len(body)),
        "SERVER_NAME": "127.0.0.1", "SERVER_PORT": "80", "HTTP_HOST": "127.0.0.1",
        "REMOTE_ADDR": "127.0.0.1", "wsgi.url_scheme": "http",
        "wsgi.input": io.BytesIO(body), "wsgi.errors": io.StringIO(),
    }
    statuses = []
    b"".join(application(environ, lambda status, headers, exc=None: statuses.append(status)))

    assert statuses == ["200 OK"]
    assert NotificationEvent.objects.get().raw_command == "入金完了時"
