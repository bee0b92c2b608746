"""A MakeShop shop's two ways to connect: the MakeShop app (new API) and auth codes (legacy).

The page says which API the shop uses, shows the app's state as this shop's own
installation has it, never a token, and lets the merchant remove the auth codes once
the app's access is verified.
"""

import secrets
from datetime import UTC, datetime

import pytest
from django.urls import reverse
from django.utils import timezone

from malls.makeshop.app import sandbox
from malls.makeshop.app.models import MakeShopAppInstallation
from malls.makeshop.models import MakeShopConnection
from malls.models import ChangeRecord

from ..factories import make_connection, make_shop, make_store
from ..screens_factories import make_member

State = MakeShopAppInstallation.State
Status = MakeShopConnection.Status
TOKEN = "app-token-canary-0123456789abcdefXYZ"  # noqa: S105 - a canary, not a secret


@pytest.fixture
def app_on(settings):
    """The new API switched on (nothing is called: these pages only read the database)."""
    settings.MAKESHOP_APP_GRAPHQL_URL = "http://127.0.0.1:9/v1/graphql"
    settings.MAKESHOP_APP_ID = sandbox.SANDBOX_APP_ID
    settings.MAKESHOP_APP_API_KEY = sandbox.SANDBOX_API_KEY
    settings.MAKESHOP_APP_WEBHOOK_SECRET = secrets.token_urlsafe(32)
    return settings


@pytest.fixture
def store(client):
    user, (store,) = make_member()
    client.force_login(user)
    return store


def legacy_shop(store, **extra):
    """A shop whose auth codes MakeShop accepted for shop ID "demo-shop"."""
    now = timezone.now()
    return make_connection(
        shop=make_shop(store=store, name="本店"), makeshop_shop_id="demo-shop",
        status=Status.VERIFIED, verified_at=now, order_auth_code_verified_at=now,
        password_verified_at=now, **extra,
    )


def install(connection=None, *, shop_id="demo-shop", state=State.VERIFIED, **extra):
    return MakeShopAppInstallation.objects.create(
        shop_id=shop_id, token=TOKEN, state=state, connection=connection,
        installed_at=timezone.now(), **extra,
    )


def app_url(shop):
    return reverse("malls:makeshop_app", args=[shop.pk])


def settings_url(shop):
    return reverse("malls:makeshop_settings", args=[shop.pk])


def en(client, url):
    return client.get(url, headers={"accept-language": "en"}).text


@pytest.mark.django_db
class TestTwoWaysToConnect:
    def test_a_legacy_shop_uses_the_auth_codes_and_is_offered_the_move_to_the_app(
        self, client, store, app_on
    ):
        connection = legacy_shop(store)

        html = en(client, settings_url(connection.shop))

        assert "Two ways to connect" in html
        assert "MakeShop app (new API)" in html and "Recommended" in html
        assert "Auth codes (legacy API)" in html
        assert "API in use" in html
        assert "Move to the MakeShop app" in html
        assert app_url(connection.shop) in html
        assert 'id="settings-form"' in html  # the legacy form stays on the page

    def test_a_new_shop_uses_no_api_yet_and_is_offered_both(self, client, store, app_on):
        shop = make_shop(store=store)

        html = en(client, settings_url(shop))

        assert "None yet" in html and "Connect with the MakeShop app" in html
        assert 'id="settings-form"' in html

    def test_the_app_in_use_is_said_and_the_auth_codes_are_no_longer_needed(
        self, client, store, app_on
    ):
        connection = legacy_shop(store)
        install(connection, verified_at=datetime(2026, 11, 28, 3, 4, tzinfo=UTC))

        html = en(client, settings_url(connection.shop))

        assert "the auth codes are no longer needed" in html
        assert "Installed, verified" in html and "2026-11-28 12:04" in html
        summary = html.split('shop-summary"')[1].split("</dl>")[0]
        assert "MakeShop app (new API)" in summary

    def test_with_the_new_api_off_only_the_auth_codes_are_offered_and_it_says_so(
        self, client, store
    ):
        connection = legacy_shop(store)
        install(connection)  # ignored: GoQ cannot use the new API now

        html = en(client, settings_url(connection.shop))

        assert "GoQ cannot connect shops through the MakeShop app yet" in html
        assert app_url(connection.shop) not in html
        assert "Recommended" not in html
        summary = html.split('shop-summary"')[1].split("</dl>")[0]
        assert "Auth codes (legacy API)" in summary
        page = en(client, app_url(connection.shop))
        assert "GoQ cannot connect shops through the MakeShop app yet" in page
        assert "How to install" not in page

    def test_the_pages_are_in_japanese_by_default(self, client, store, app_on):
        connection = legacy_shop(store)

        html = client.get(settings_url(connection.shop)).text
        page = client.get(app_url(connection.shop)).text

        for text in ("MakeShopアプリ", "認証コード", "推奨"):
            assert text in html, text
        assert "アプリストア" in page


@pytest.mark.django_db
class TestTheAppsState:
    @pytest.mark.parametrize(
        ("state", "label"),
        [
            (State.INSTALLED, "Installed, verifying"),
            (State.VERIFIED, "Installed, verified"),
            (State.REJECTED, "Refused by MakeShop"),
            (State.UNREACHABLE, "Installed, not yet verified"),
            (State.UNINSTALLED, "Uninstalled"),
        ],
    )
    def test_each_state_of_the_shops_installation_is_shown(
        self, client, store, app_on, state, label
    ):
        connection = legacy_shop(store)
        install(connection, state=state, uninstalled_at=timezone.now(),
                last_checked_at=timezone.now())

        html = en(client, app_url(connection.shop))

        assert label in html

    def test_before_any_install_the_page_waits_for_it_and_guides_step_by_step(
        self, client, store, app_on
    ):
        connection = legacy_shop(store)

        html = en(client, app_url(connection.shop))

        assert "Waiting for the app to be installed" in html
        for step in ("Open MakeShop's app store", "Install GoQSystem's app",
                     "Come back to this page", "Remove the auth codes"):
            assert step in html, step
        assert "Remove the auth codes from GoQ" not in html  # no button before verification

    def test_the_last_update_from_the_order_webhook_is_shown(self, client, store, app_on):
        connection = legacy_shop(store)
        install(connection, last_update_at=datetime(2026, 11, 28, 1, 30, tzinfo=UTC))

        html = en(client, app_url(connection.shop))

        assert "Last update from MakeShop" in html and "2026-11-28 10:30" in html

    def test_no_token_is_ever_in_the_pages(self, client, store, app_on):
        connection = legacy_shop(store)
        install(connection)

        for url in (settings_url(connection.shop), app_url(connection.shop),
                    reverse("malls:mall_list"), reverse("malls:makeshop_guide",
                                                        args=[connection.shop.pk])):
            assert TOKEN not in client.get(url).text, url

    def test_an_unclaimed_install_for_the_shops_proven_id_waits_for_staff(
        self, client, store, app_on
    ):
        connection = legacy_shop(store)
        install(None)  # installed before the codes were verified: staff link it

        html = en(client, app_url(connection.shop))

        assert "waiting for GoQ staff to confirm" in html

    def test_an_unclaimed_install_is_not_revealed_to_a_shop_that_only_typed_the_id(
        self, client, store, app_on
    ):
        """Settings kept as 接続未確認 prove nothing: the shop ID may be someone else's."""
        connection = make_connection(
            shop=make_shop(store=store), makeshop_shop_id="demo-shop", status=Status.UNVERIFIED
        )
        install(None)

        html = en(client, app_url(connection.shop))

        assert "waiting for GoQ staff" not in html
        assert "Waiting for the app to be installed" in html

    def test_another_stores_installation_never_shows(self, client, store, app_on):
        theirs = make_connection(shop=make_shop(store=make_store()), makeshop_shop_id="theirs")
        install(theirs, shop_id="theirs")
        mine = legacy_shop(store)

        html = en(client, app_url(mine.shop))

        state = html.split('class="summary app-state"')[1].split("</dl>")[0]
        assert "Waiting for the app to be installed" in state and "Installed" not in state
        assert client.get(app_url(theirs.shop)).status_code == 404


@pytest.mark.django_db
class TestRemovingTheAuthCodes:
    def remove_url(self, shop):
        return reverse("malls:makeshop_remove_legacy_codes", args=[shop.pk])

    def test_once_the_app_is_verified_the_merchant_removes_the_codes(
        self, client, store, app_on
    ):
        connection = legacy_shop(store)
        install(connection)
        assert "Remove the auth codes from GoQ" in en(client, app_url(connection.shop))

        response = client.post(self.remove_url(connection.shop), follow=True)

        assert response.redirect_chain[-1][0] == app_url(connection.shop)
        assert 'class="message message--success"' in response.text
        connection.refresh_from_db()
        for name in MakeShopConnection.SECRET_FIELDS:
            assert getattr(connection, name) is None
        assert connection.makeshop_shop_id == "demo-shop"
        record = ChangeRecord.objects.get(action="makeshop.legacy_codes_removed")
        assert record.source == ChangeRecord.Source.MERCHANT and record.shop == connection.shop
        assert "connected through the MakeShop app only" in en(client, app_url(connection.shop))

    def test_the_codes_stay_while_the_app_is_not_verified(self, client, store, app_on):
        connection = legacy_shop(store)
        install(connection, state=State.INSTALLED)

        response = client.post(self.remove_url(connection.shop), follow=True)

        assert 'class="message message--error"' in response.text
        connection.refresh_from_db()
        assert connection.order_auth_code.reveal() == "0123456789abcdef0123456789abcdef"
        assert not ChangeRecord.objects.filter(action="makeshop.legacy_codes_removed").exists()

    def test_removing_is_a_post_of_a_member_only(self, client, store, app_on):
        connection = legacy_shop(store)
        install(connection)
        theirs = make_connection(shop=make_shop(store=make_store()), makeshop_shop_id="x")

        assert client.get(self.remove_url(connection.shop)).status_code == 405
        assert client.post(self.remove_url(theirs.shop)).status_code == 404
        assert client.post(self.remove_url(make_shop(store=store))).status_code == 404
        theirs.refresh_from_db()
        assert theirs.password is not None


@pytest.mark.django_db
class TestTheList:
    def test_each_makeshop_shop_shows_its_api_and_state(self, client, store, app_on):
        on_app = legacy_shop(store)
        install(on_app)
        make_connection(shop=make_shop(store=store, name="旧API店"), makeshop_shop_id="old",
                        status=Status.VERIFIED, verified_at=timezone.now())
        moving = make_connection(shop=make_shop(store=store, name="移行中"),
                                 makeshop_shop_id="moving", status=Status.VERIFIED,
                                 verified_at=timezone.now())
        install(moving, shop_id="moving", state=State.INSTALLED)

        html = en(client, reverse("malls:mall_list"))

        rows = {row.split("</th>")[0]: row for row in html.split('<th scope="row">')[1:]}
        by_name = {next(name for name in ("本店", "旧API店", "移行中") if name in key): row
                   for key, row in rows.items()}
        assert "MakeShop app (new API)" in by_name["本店"]
        assert "Installed, verified" in by_name["本店"]
        assert "Auth codes (legacy API)" in by_name["旧API店"]
        assert "Auth codes (legacy API)" in by_name["移行中"]
        assert "MakeShop app: Installed, verifying" in by_name["移行中"]

    def test_with_the_new_api_off_the_list_shows_the_legacy_api_only(self, client, store):
        install(legacy_shop(store))

        html = en(client, reverse("malls:mall_list"))

        assert "Auth codes (legacy API)" in html and "MakeShop app" not in html
