"""Inputs the fuzzers found that broke the app, kept as plain tests of the wanted behaviour."""

import io

import pytest
from django.core.exceptions import NON_FIELD_ERRORS
from django.test import Client
from django.urls import reverse

from malls.makeshop.models import MakeShopConnection
from tests.factories import make_connection, make_shop, make_user
from tests.screens_factories import make_member

pytestmark = pytest.mark.django_db

PASSWORD = "pass-for-tests-2026"


class TestSignIn:
    @pytest.mark.parametrize(
        "data",
        [{}, {"username": "merchant"}, {"username": "a\x00b", "password": "x"}],
        ids=["empty", "no password", "NUL in user name"],
    )
    def test_a_post_missing_or_breaking_a_field_is_answered_with_the_form(self, client, data):
        make_user(username="merchant", password=PASSWORD)

        response = client.post(reverse("login"), data)

        assert response.status_code == 200
        assert response.context["form"].errors

    def test_a_blank_password_does_not_wipe_the_failures_counted_so_far(self, settings):
        """Otherwise anyone could guess without end, resetting the count every few tries."""
        settings.SIGNIN_MAX_FAILURES = 3
        make_user(username="merchant", password=PASSWORD)
        # The blank attempt is also a server error today; the lockout is what this checks.
        client = Client(raise_request_exception=False)
        sign_in = reverse("login")

        for password in ("wrong-1", "wrong-2", "", "wrong-3"):
            client.post(sign_in, {"username": "merchant", "password": password})
        response = client.post(sign_in, {"username": "merchant", "password": PASSWORD})

        assert response.status_code == 429, "signed in although locked out"
        assert response.context["form"].has_error(NON_FIELD_ERRORS, "locked_out")


class TestStoreSwitcher:
    @pytest.mark.parametrize("next_url", ["x", "settings", "login"])
    def test_next_is_a_url_never_the_name_of_a_view(self, client, next_url):
        user, (store,) = make_member()
        client.force_login(user)

        response = client.post(reverse("malls:switch_store"), {"store": store.pk, "next": next_url})

        assert response.status_code == 302
        assert response["Location"] != reverse("login")


class TestNotificationEndpoint:
    def test_a_body_declared_in_a_charset_that_is_no_text_encoding_is_no_server_error(
        self, client
    ):
        """Read as UTF-8 (the charset ignored, as Django ignores unknown ones) or refused."""
        connection = make_connection(makeshop_shop_id="demo-shop")
        path = reverse("makeshop_notify:receive", args=[connection.notification_token])

        # generic(): post() would encode the body in the declared charset itself.
        response = client.generic(
            "POST", path, b"shopid=demo-shop", content_type="text/plain; charset=hex"
        )

        assert response.status_code in {200, 400}

    def test_a_path_missing_its_last_segments_is_not_redirected(self, client):
        """A 301 would make MakeShop's POST arrive as a GET without its body, or not at all."""
        connection = make_connection(makeshop_shop_id="demo-shop")
        path = reverse("makeshop_notify:receive", args=[connection.notification_token])

        response = client.post(f"{path}demo-shop/B000000001", "", content_type="text/plain")

        assert response.status_code in {200, 400, 404}


# The real handler closes the database connection between requests, as in production,
# which only a transactional test database survives.
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("path", ["/healthz", "/accounts/login/", "/makeshop/notify/x/"])
@pytest.mark.parametrize("charset", ["hex", "rot13", "zlib"])
def test_a_query_with_a_content_type_charset_that_is_no_text_encoding_is_no_server_error(
    path, charset
):
    """Django decodes the query string with the Content-Type's charset while it builds
    the request, before any middleware: a codec that is not a text encoding raises
    there, and the WSGI server answers 500. Sent through the production entry point."""
    from goq.wsgi import application

    environ = {
        "REQUEST_METHOD": "GET",
        "PATH_INFO": path,
        "QUERY_STRING": "a=b",
        "CONTENT_TYPE": f"text/plain; charset={charset}",
        "SERVER_NAME": "127.0.0.1",
        "SERVER_PORT": "80",
        "HTTP_HOST": "127.0.0.1",
        "REMOTE_ADDR": "127.0.0.1",
        "wsgi.url_scheme": "http",
        "wsgi.input": io.BytesIO(b""),
        "wsgi.errors": io.StringIO(),
    }
    statuses = []

    def start_response(status, headers, exc_info=None):
        statuses.append(int(status.split()[0]))

    b"".join(application(environ, start_response))

    assert statuses and statuses[0] < 500


@pytest.mark.parametrize(
    "shop", ["not-an-id", "9" * 20, "-1"],
    ids=["not a number", "past the id column's range", "negative"],
)
def test_the_admin_add_form_with_a_shop_that_is_no_id_shows_the_form_again(admin_client, shop):
    """The shop's autocomplete widget looked the raw value up while redrawing the form."""
    make_shop()

    response = admin_client.post(
        reverse("admin:malls_makeshopconnection_add"),
        {"shop": shop, "makeshop_shop_id": "fuzz-shop", "_save": "Save"},
    )

    assert response.status_code == 200
    assert not MakeShopConnection.objects.exists()
