"""Webhook bodies in every legal framing, and bodies nobody can read: a 4xx, never a 500;
an unreadable token is one installation's verdict, never a crash of the run."""

import http.client
import io
import json
from datetime import timedelta

import pytest
import requests
from django.core.management import CommandError, call_command
from django.utils import timezone

from malls.makeshop.app import installations
from malls.makeshop.app.models import MakeShopAppInstallation
from malls.makeshop.app.sandbox import DEMO_APP_SHOPS, SANDBOX_APP_ID, send_install, webhook_url

from .conftest import post_chunked

pytestmark = pytest.mark.django_db(transaction=True)
State = MakeShopAppInstallation.State
TOKEN = DEMO_APP_SHOPS["demo-shop"].token


@pytest.fixture
def app(app_settings, live_server):
    return {"app_url": live_server.url, "secret": app_settings.MAKESHOP_APP_WEBHOOK_SECRET}


def path(app, name):
    return webhook_url("", app["secret"], name)


def install_body(shop_id="demo-shop", token=TOKEN) -> bytes:
    return json.dumps({"app_id": SANDBOX_APP_ID, "plan_id": 1, "app_name": "GoQSystem",
                       "shop_id": shop_id, "token": token}).encode()


# --- Framing, over gunicorn as deployed ---------------------------------------------------


def test_a_chunked_install_keeps_its_token_and_the_job_verifies_it(gunicorn_app):
    status, text = post_chunked(gunicorn_app["app_url"], path(gunicorn_app, "install"),
                                install_body(), pieces=4)

    assert (status, text) == (200, "OK")
    installation = MakeShopAppInstallation.objects.get()
    assert installation.token.reveal() == TOKEN
    assert installation.state == State.VERIFIED  # the job used it against the sandbox


def test_chunked_bodies_over_the_cap_or_unreadable_are_4xx(gunicorn_app):
    install = path(gunicorn_app, "install")
    orders = path(gunicorn_app, "orders")
    padded = json.dumps({"pad": "x" * 70_000}).encode()

    assert post_chunked(gunicorn_app["app_url"], install, padded)[0] == 413
    assert post_chunked(gunicorn_app["app_url"], install, b"[" * 30_000)[0] == 400
    assert post_chunked(gunicorn_app["app_url"], orders, b"[" * 30_000, "text/plain")[0] == 400
    assert not MakeShopAppInstallation.objects.exists()


def test_a_server_that_cannot_end_a_chunked_body_answers_411_not_a_lost_token(app):
    # Django's test server (like runserver) passes no end of a chunked body to the app.
    status, _ = post_chunked(app["app_url"], path(app, "install"), install_body())

    assert status == 411
    assert not MakeShopAppInstallation.objects.exists()


# --- Bodies nobody can read ------------------------------------------------------------------


def test_deep_json_with_a_non_json_content_type_is_not_a_500(app):
    send_install("demo-shop", **app)
    orders = webhook_url(app["app_url"], app["secret"], "orders")
    for body in (b"[" * 30_000, b'{"a":' * 30_000, b"\xff\xfe\x00garbage", b"1e400"):
        answer = requests.post(orders, data=body, timeout=30,
                               headers={"Content-Type": "text/plain"})
        assert answer.status_code < 500, body[:10]


@pytest.mark.parametrize("length", ["-1", "abc", "99999999999"])
def test_a_bad_content_length_is_a_4xx(app, length):
    host, port = app["app_url"].removeprefix("http://").split(":")
    conn = http.client.HTTPConnection(host, int(port), timeout=10)
    conn.putrequest("POST", path(app, "install"))
    conn.putheader("Content-Type", "application/json")
    conn.putheader("Content-Length", length)
    conn.endheaders()
    status = conn.getresponse().status
    conn.close()

    assert 400 <= status < 500


# --- Unreadable tokens -------------------------------------------------------------------------


def swap_tokens(first, second):
    """Each row's ciphertext is bound to its row: swapped, neither can be decrypted."""
    rows = MakeShopAppInstallation.objects
    one, two = (rows.values_list("token", flat=True).get(pk=row.pk) for row in (first, second))
    rows.filter(pk=first.pk).update(token=two)
    rows.filter(pk=second.pk).update(token=one)


def test_an_unreadable_token_is_that_installations_verdict_not_a_crash(app, app_settings):
    send_install("demo-shop", **app)
    send_install("demo-app", **app)
    first, second = MakeShopAppInstallation.objects.order_by("shop_id")
    swap_tokens(first, second)
    readable = installations.store_installation(shop_id="other-shop", token="not-known-here")
    MakeShopAppInstallation.objects.filter(pk=readable.pk).update(  # checked after the others
        state=State.INSTALLED, last_checked_at=timezone.now() + timedelta(days=1)
    )
    out = io.StringIO()

    with pytest.raises(CommandError) as exit_:  # rejected tokens: exit code 1 for cron
        call_command("verify_makeshop", "--all", stdout=out)

    assert exit_.value.returncode == 1
    lines = out.getvalue().splitlines()[1:]
    assert sorted(lines[:2]) == [
        "demo-app (MakeShop app): rejected (rejected unreadable)",
        "demo-shop (MakeShop app): rejected (rejected unreadable)",
    ]
    assert lines[2:] == [  # the run went on
        'other-shop (MakeShop app): rejected (rejected token_rejected "Unauthorized")',
        "3 app installation(s): 3 rejected",
    ]
    again = MakeShopAppInstallation.objects.get(pk=first.pk)
    MakeShopAppInstallation.objects.filter(pk=first.pk).update(state=State.VERIFIED)
    result = installations.verify_installation(installation=again)
    assert (result.outcome, result.reason) == ("rejected", "unreadable")
    assert again.state == State.REJECTED  # the caller's row is refreshed, its token not read


ODD_BODIES = [
    (b"", "application/json"),
    (b"null", "application/json"),
    (b"[]", "application/json"),
    (b'{"app_id": []}', "application/json"),
    (b'{"app_id": {"x": 1}, "shop_id": 7}', "application/json"),
    (b'{"app_id": 1e400}', "application/json"),
    (b'{"app_id": "' + b"9" * 5000 + b'"}', "application/json"),
    (b"\xef\xbb\xbf{}", "application/json"),
    ("{}".encode("utf-16"), "application/json"),
    (b"\xff" * 100, "text/plain; charset=undefined"),
    (b"{" * 30_000, "application/x-www-form-urlencoded"),
    (b'{"shop_id": "demo-shop", "orders": ' + b"[" * 5000 + b"]" * 5000 + b"}", "text/plain"),
    (b"a=1&b=2", "multipart/form-data; boundary=x"),
]


@pytest.mark.parametrize("name", ["install", "uninstall", "orders", "orders/demo-shop",
                                  "reconsent"])
def test_no_body_is_a_500_at_any_webhook(app, name):
    url = webhook_url(app["app_url"], app["secret"], name)
    for body, content_type in ODD_BODIES:
        answer = requests.post(url, data=body, headers={"Content-Type": content_type},
                               timeout=30)
        assert answer.status_code < 500, (name, body[:20], content_type)
