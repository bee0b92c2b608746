"""Canary: the app token, GoQ's API key and the webhook secret never surface in a log
line (every logger at DEBUG), a result, an error report or a database column.

Each secret holds a marker of letters and digits that every encoding it could leak
in leaves intact; finding no marker anywhere means finding no secret.
"""

import logging
import sys

import pytest
import requests
from django.db import connection as db
from django.views.debug import ExceptionReporter

from malls.makeshop.app import installations
from malls.makeshop.app.models import MakeShopAppInstallation
from malls.makeshop.app.sandbox import (
    SANDBOX_APP_ID,
    DemoAppShop,
    send_install,
    send_order_update,
    send_uninstall,
)
from tests.factories import make_connection
from tests.log_capture import Capture

MARKERS = ("Tq4Rapptoken", "Vx2Napikey", "Pz8Lwebhook", "Hb8Twrong")
TOKEN = "Tq4Rapptoken-0f3a/+=~tok"
API_KEY = "Vx2Napikey-9c1e-0000-key"
SECRET = "Pz8Lwebhook-" + "s" * 32
WRONG = "Hb8Twrong-5d2b-token"
SHOP = "canary-shop"

pytestmark = pytest.mark.django_db(transaction=True)




@pytest.fixture
def canary_graphql(make_graphql):
    return make_graphql(shops={SHOP: DemoAppShop(SHOP, TOKEN)}, api_key=API_KEY,
                        min_interval=0.0)


@pytest.fixture
def canary(settings, canary_graphql, live_server):
    graphql = canary_graphql
    settings.MAKESHOP_APP_GRAPHQL_URL = graphql.url
    settings.MAKESHOP_APP_ID = SANDBOX_APP_ID
    settings.MAKESHOP_APP_API_KEY = API_KEY
    settings.MAKESHOP_APP_WEBHOOK_SECRET = SECRET
    return {"app_url": live_server.url, "secret": SECRET}


def assert_no_marker(text):
    for marker in MARKERS:
        assert marker not in text


def every_database_value() -> str:
    texts = []
    with db.cursor() as cursor:
        for table in db.introspection.table_names():
            cursor.execute(f"SELECT * FROM {db.ops.quote_name(table)}")  # noqa: S608
            texts.extend(repr(row) for row in cursor.fetchall())
    return "\n".join(texts)


def test_the_whole_life_of_an_installation_leaks_nothing(canary, canary_graphql, logs):
    make_connection(makeshop_shop_id=SHOP)
    shops = {SHOP: DemoAppShop(SHOP, TOKEN)}

    assert send_install(SHOP, shops=shops, **canary) == 200
    assert MakeShopAppInstallation.objects.get().state == "verified"
    assert send_install(SHOP, shops=shops, token=WRONG, **canary) == 200  # pending, refused
    assert MakeShopAppInstallation.objects.get().state == "verified"
    assert send_order_update(SHOP, **canary) == 200
    assert send_install(SHOP, shops=shops, **canary | {"secret": "Pz8Lwebhook-x" * 3}) == 404
    assert send_uninstall(SHOP, **canary) == 200  # reported; MakeShop still accepts the token
    assert MakeShopAppInstallation.objects.get().state == "verified"
    assert send_uninstall(SHOP, graphql=canary_graphql.graphql, **canary) == 200
    assert MakeShopAppInstallation.objects.get().state == "uninstalled"

    assert "malls.makeshop.app" in logs.text  # the app did log...
    assert_no_marker(logs.text)  # ...but none of its secrets
    assert_no_marker(every_database_value())


def test_the_path_secret_is_masked_in_server_logs(canary):
    server_log = logging.getLogger("django.server")  # Django does not propagate it
    capture = Capture()
    server_log.addHandler(capture)
    try:
        server_log.info('"POST /makeshop/app/%s/install HTTP/1.1" 200', SECRET)
    finally:
        server_log.removeHandler(capture)
    assert "/makeshop/app/***/install" in capture.text
    assert_no_marker(capture.text)


def test_a_failure_inside_the_webhook_leaks_nothing(canary, logs, monkeypatch):
    def broken(**kwargs):
        raise RuntimeError(f"storage broke while storing {kwargs['token']}")

    monkeypatch.setattr(installations, "store_installation", broken)

    assert send_install(SHOP, shops={SHOP: DemoAppShop(SHOP, TOKEN)}, **canary) == 500
    assert "RuntimeError" in logs.text
    assert_no_marker(logs.text)


def test_a_failure_inside_the_client_leaks_nothing(canary, logs, make_client, monkeypatch):
    client = make_client(canary_url := "http://127.0.0.1:9/v1/graphql", api_key=API_KEY)

    def broken_transport(request, **kwargs):
        headers = dict(request.headers)  # the secrets, as a local of a frame inside the call
        raise RuntimeError(f"transport broke sending {headers}")

    monkeypatch.setattr(client._session.get_adapter(canary_url), "send", broken_transport)
    result = client.verify_token(shop_id=SHOP, token=TOKEN)

    assert (result.outcome, result.reason) == ("unexpected", "internal_error")
    assert_no_marker(logs.text + repr(result) + repr(client))


@pytest.mark.usefixtures("canary")  # settings set, but not a local of this frame
def test_an_error_report_through_the_services_shows_no_secret(monkeypatch):
    def failing_save(self, *args, **kwargs):
        raise RuntimeError("database went away")

    monkeypatch.setattr(MakeShopAppInstallation, "save", failing_save)
    try:
        installations.store_installation(shop_id=SHOP, token=TOKEN)
    except RuntimeError:
        report = ExceptionReporter(None, *sys.exc_info())
        text = report.get_traceback_text() + report.get_traceback_html()
    assert "database went away" in text
    assert_no_marker(text)


def test_a_rejected_token_echoed_by_makeshop_is_scrubbed(scripted, make_client, logs):
    from .conftest import json_answer

    server = scripted(json_answer(200, {"errors": [
        {"message": f"Unknown token {WRONG} for key {API_KEY}", "extensions": {"code": "X"}}
    ]}))

    result = make_client(server.url, api_key=API_KEY).verify_token(shop_id=SHOP, token=WRONG)

    assert result.message == "Unknown token *** for key ***"
    assert_no_marker(logs.text + repr(result))


def test_settings_repr_hides_the_secrets(canary):
    from malls.makeshop.app.config import get_config

    assert_no_marker(repr(get_config()))
    assert requests  # imported for the live server's client side
