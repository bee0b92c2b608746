"""Several webhook URL secrets while MakeShop changes the registered URLs: every one is
served (over real HTTP), the first is the one printed, each is checked at start-up, and a
refused install is logged and kept for staff instead of failing silently."""

import logging
import secrets

import pytest

from malls.makeshop.app.checks import check_app_configuration
from malls.makeshop.app.config import get_config, is_enabled
from malls.makeshop.app.models import AppWebhookReceipt, MakeShopAppInstallation
from malls.makeshop.app.sandbox import (
    send_install,
    send_order_update,
    send_uninstall,
    webhook_url,
)
from malls.makeshop.models import NotificationEvent

from .conftest import post_json, proven

OLD, NEW = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
State = MakeShopAppInstallation.State


@pytest.fixture
def app(app_settings, live_server, legacy_sandbox):
    app_settings.MAKESHOP_APP_WEBHOOK_SECRET = f"{NEW}, {OLD}"
    return {"app_url": live_server.url}


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("first, second", [(OLD, NEW), (NEW, OLD)])
def test_install_order_and_uninstall_work_at_an_old_and_a_new_secret(
    app, first, second, graphql
):
    connection = proven()

    assert send_install("demo-shop", secret=first, **app) == 200
    assert send_order_update("demo-shop", secret=second, order_number="R1", **app) == 200
    assert send_order_update("demo-shop", secret=first, order_number="R2", **app) == 200
    # MakeShop revokes the token, then posts the uninstall.
    assert send_uninstall("demo-shop", secret=second, graphql=graphql.graphql, **app) == 200

    assert MakeShopAppInstallation.objects.get().state == State.UNINSTALLED
    assert sorted(NotificationEvent.objects.filter(connection=connection).values_list(
        "order_number", flat=True)) == ["R1", "R2"]
    assert send_install("demo-shop", secret=secrets.token_urlsafe(32), **app) == 404


def test_the_first_secret_is_the_printed_one_and_every_one_is_checked(settings):
    settings.MAKESHOP_APP_GRAPHQL_URL = "https://app-api.makeshop.jp/v1/graphql"
    settings.MAKESHOP_APP_ID, settings.MAKESHOP_APP_API_KEY = "goq", "k" * 40
    settings.MAKESHOP_APP_WEBHOOK_SECRET = f" {NEW} ,{OLD},"
    settings.DEBUG = False

    config = get_config()
    assert (config.webhook_secret, config.webhook_secrets) == (NEW, (NEW, OLD))
    assert is_enabled() and check_app_configuration() == []
    assert NEW not in repr(config) and OLD not in repr(config)

    settings.MAKESHOP_APP_WEBHOOK_SECRET = f"{NEW},too-short"
    (error,) = check_app_configuration()
    assert error.id == "makeshop.E101" and "secret number 2" in error.msg
    assert NEW not in error.msg + error.hint and "too-short" not in error.msg
    assert "comma-separated" in error.hint
    assert not is_enabled()


@pytest.mark.django_db(transaction=True)
def test_a_refused_install_is_logged_and_kept_for_staff(app, caplog):
    caplog.set_level(logging.WARNING, logger="malls.makeshop.app.webhooks")
    token = "refused-token-CANARY-1234"

    foreign = send_install("demo-shop", secret=NEW, app_id="not-goq", token=token, **app)
    unknown_url = send_install("demo-shop", secret=secrets.token_urlsafe(32), **app)

    assert (foreign, unknown_url) == (403, 404)
    assert not MakeShopAppInstallation.objects.exists()
    receipt = AppWebhookReceipt.objects.get()
    assert (receipt.kind, receipt.status, receipt.shop_id) == ("install", 403, "demo-shop")
    assert receipt.shape["token"] == f"str:{len(token)}"
    text = caplog.text
    assert "install refused (403) for shop demo-shop" in text
    assert "install refused (404)" in text and "add its secret back" in text
    assert token not in text and NEW not in text and OLD not in text


@pytest.mark.django_db(transaction=True)
def test_a_refused_order_update_is_not_kept(app):
    url = webhook_url(app["app_url"], NEW, "orders")
    assert post_json(url, {"app_id": "not-goq", "shop_id": "demo-shop"}).status_code == 403
    assert not AppWebhookReceipt.objects.exists()
