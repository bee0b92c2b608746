"""Alerts for shops connected through GoQ's MakeShop app (new API): the installation's state
changes feed the same alerts as the legacy settings, through the real webhooks (live server),
the GraphQL sandbox over HTTP and a real SMTP server."""

import secrets

import pytest

from malls.alerts.models import ShopAlert
from malls.makeshop.app import installations
from malls.makeshop.app.models import MakeShopAppInstallation
from malls.makeshop.app.sandbox import (
    DEMO_APP_SHOPS,
    SANDBOX_API_KEY,
    SANDBOX_APP_ID,
    make_app_server,
    send_install,
    send_uninstall,
)
from malls.makeshop.app.tasks import verify_installation_task
from tests.factories import make_connection, make_shop, make_store

from .helpers import member

pytestmark = pytest.mark.django_db(transaction=True)
State = MakeShopAppInstallation.State
SHOP_ID = "demo-app"
TOKEN = DEMO_APP_SHOPS[SHOP_ID].token
BROKEN = "[GoQSystem] アプリのショップ: MakeShopとの接続が切れました"
FIXED = "[GoQSystem] アプリのショップ: MakeShopとの接続が復旧しました"


@pytest.fixture
def graphql(settings):
    server = make_app_server(min_interval=0.0).start_in_thread()
    settings.MAKESHOP_APP_GRAPHQL_URL = server.url
    settings.MAKESHOP_APP_ID = SANDBOX_APP_ID
    settings.MAKESHOP_APP_API_KEY = SANDBOX_API_KEY
    settings.MAKESHOP_APP_WEBHOOK_SECRET = secrets.token_urlsafe(32)
    yield server.graphql
    server.shutdown()


@pytest.fixture
def store(settings, graphql, live_server):
    """MakeShop's app store: install / uninstall webhooks to the live server."""
    target = {"app_url": live_server.url, "secret": settings.MAKESHOP_APP_WEBHOOK_SECRET,
              "app_id": SANDBOX_APP_ID}

    class AppStore:
        def install(self):
            assert send_install(SHOP_ID, graphql=graphql, **target) == 200

        def uninstall(self):
            assert send_uninstall(SHOP_ID, graphql=graphql, **target) == 200

    return AppStore()


def app_shop():
    """A GoQ shop with a MakeShop connection for the shop ID, no legacy codes."""
    shop = make_shop(store=make_store(name="アプリ店舗"), name="アプリのショップ")
    return make_connection(shop=shop, makeshop_shop_id=SHOP_ID, password=None,
                           order_auth_code=None, product_auth_code=None)


def installation():
    return MakeShopAppInstallation.objects.get(shop_id=SHOP_ID)


def working_app_shop(store):
    """Installed, verified by the job, and assigned by staff to the shop."""
    connection = app_shop()
    store.install()
    assert installation().state == State.VERIFIED
    installations.assign_installation(installation=installation(), connection=connection,
                                      actor=None)
    return connection


def test_uninstalling_an_app_that_worked_is_a_break_and_verified_again_is_fixed(smtp, store):
    connection = working_app_shop(store)
    someone = member(connection.shop.store)
    assert not smtp.received  # linking a working app is no news

    store.uninstall()

    alert = ShopAlert.objects.get(shop=connection.shop, closed_at=None)
    assert (alert.status, alert.reason) == ("uninstalled", "app_uninstalled")
    (broken,) = smtp.to(someone.email)
    assert broken.subject == BROKEN
    assert "アンインストールされました" in broken.text

    store.install()  # the merchant installs again: the job verifies the new token

    assert installation().state == State.VERIFIED
    assert [mail.subject for mail in smtp.to(someone.email)] == [BROKEN, FIXED]
    assert not ShopAlert.objects.filter(closed_at=None).exists()
    assert TOKEN not in "".join(mail.everything() for mail in smtp.received)


def test_a_token_makeshop_stops_accepting_is_a_break(smtp, store, graphql):
    connection = working_app_shop(store)
    someone = member(connection.shop.store)

    graphql.revoke(SHOP_ID)  # revoked on MakeShop's side without an uninstall webhook
    verify_installation_task.enqueue(str(installation().pk))

    assert installation().state == State.REJECTED
    alert = ShopAlert.objects.get(closed_at=None)
    assert (alert.status, alert.failed_check) == ("rejected", "app_token")
    assert [mail.subject for mail in smtp.to(someone.email)] == [BROKEN]


def test_makeshop_unreachable_is_not_a_break(smtp, store, settings):
    connection = working_app_shop(store)
    member(connection.shop.store)
    settings.MAKESHOP_APP_GRAPHQL_URL = "http://127.0.0.1:9/v1/graphql"  # nothing listens

    verify_installation_task.enqueue(str(installation().pk))

    assert installation().state == State.VERIFIED and installation().failure_reason
    assert not smtp.received and not ShopAlert.objects.exists()


def test_unclaimed_installations_alert_nobody(smtp, store):
    connection = app_shop()
    someone = member(connection.shop.store)

    store.install()  # no proof of control: it waits for staff
    store.uninstall()

    assert installation().is_unclaimed
    assert not smtp.to(someone.email) and not ShopAlert.objects.exists()


def test_an_app_that_never_worked_for_the_shop_is_not_a_break(smtp, store, graphql):
    connection = app_shop()
    someone = member(connection.shop.store)
    graphql.revoke(SHOP_ID)
    store.install()  # the token is refused from the start (install restores it: revoke after)
    graphql.revoke(SHOP_ID)
    verify_installation_task.enqueue(str(installation().pk))
    assert installation().state == State.REJECTED

    installations.assign_installation(installation=installation(), connection=connection,
                                      actor=None)
    store.uninstall()

    assert not smtp.to(someone.email) and not ShopAlert.objects.exists()


def test_a_working_app_linked_to_a_broken_shop_fixes_it(smtp, store):
    """A shop whose legacy API was retired is told it works again once its app does."""
    from malls.alerts.services import note_connection_change
    from malls.alerts.states import ConnectionState

    connection = app_shop()
    someone = member(connection.shop.store)
    note_connection_change(connection, ConnectionState("verified"),
                           ConnectionState("unverified", "legacy_api_retired"), ever_worked=True)
    store.install()

    installations.assign_installation(installation=installation(), connection=connection,
                                      actor=None)

    assert len(smtp.to(someone.email)) == 2  # broken (legacy API retired), then fixed
    assert smtp.to(someone.email)[1].subject == FIXED
    assert not ShopAlert.objects.filter(closed_at=None).exists()


def test_legacy_codes_failing_while_the_app_works_alert_nobody(smtp, store):
    """Once the shop uses the app, its old auth codes no longer speak for it: MakeShop's
    legacy API retiring must not tell the merchant that a working shop broke."""
    from malls.alerts.services import note_connection_change
    from malls.alerts.states import ConnectionState

    connection = working_app_shop(store)
    someone = member(connection.shop.store)
    connection.refresh_from_db()

    note_connection_change(connection, ConnectionState("verified"),
                           ConnectionState("unverified", "legacy_api_retired"), ever_worked=True)

    assert not smtp.to(someone.email) and not ShopAlert.objects.exists()
