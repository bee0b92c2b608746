"""A merchant moves a MakeShop shop from its auth codes (legacy API) to the MakeShop app.

A shop whose auth codes MakeShop verified → its page, the app option → MakeShop's app
store installs GoQ's app (the install webhook, POSTed over HTTP to the live server;
the verification job runs at once with the test's immediate task backend and asks the
GraphQL sandbox) → the page says the shop uses the app, verified → the merchant removes
the auth codes → the list shows the app. Screenshots of each step go to tests/artifacts/.
"""

import re
import secrets

import pytest
from django.utils import timezone

from malls.makeshop.app import sandbox as app_sandbox
from malls.makeshop.app.models import MakeShopAppInstallation
from malls.makeshop.models import MakeShopConnection
from malls.models import ChangeRecord

from ..admin_factories import sandbox_for
from ..factories import make_connection, make_shop, make_store, make_user
from ..screens_factories import demo_codes

PASSWORD = "pass-for-tests-2026"
TIMEOUT_MS = 30_000

TEXTS = {
    "ja": {
        "legacy": "認証コード（旧API）",
        "app": "MakeShopアプリ（新API）",
        "move": "MakeShopアプリに移行する",
        "app_page": "MakeShopアプリで接続する",
        "waiting": "アプリのインストール待ち",
        "verified": "インストール済み・確認済み",
        "remove": "GoQから認証コードを削除する",
        "app_only": "MakeShopアプリのみで接続されています",
        "mall_settings": "モール詳細設定",
    },
    "en": {
        "legacy": "Auth codes (legacy API)",
        "app": "MakeShop app (new API)",
        "move": "Move to the MakeShop app",
        "app_page": "Connect with the MakeShop app",
        "waiting": "Waiting for the app to be installed",
        "verified": "Installed, verified",
        "remove": "Remove the auth codes from GoQ",
        "app_only": "connected through the MakeShop app only",
        "mall_settings": "Mall settings",
    },
}


@pytest.fixture
def graphql(settings):
    """The new API on, its GraphQL endpoint the sandbox; the webhook secret is fresh."""
    server = app_sandbox.make_app_server().start_in_thread()
    settings.MAKESHOP_APP_GRAPHQL_URL = server.url
    settings.MAKESHOP_APP_ID = app_sandbox.SANDBOX_APP_ID
    settings.MAKESHOP_APP_API_KEY = app_sandbox.SANDBOX_API_KEY
    settings.MAKESHOP_APP_WEBHOOK_SECRET = secrets.token_urlsafe(32)
    yield server
    server.shutdown()


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("lang", ["ja", "en"])
def test_a_merchant_moves_a_legacy_shop_to_the_makeshop_app(
    browser, live_server, graphql, settings, artifacts, lang
):
    from playwright.sync_api import expect

    expect.set_options(timeout=TIMEOUT_MS)
    t = TEXTS[lang]
    user = make_user(password=PASSWORD)
    store = make_store(name="デモ店舗", members=[user])
    codes = demo_codes("demo-shop")
    now = timezone.now()
    connection = make_connection(
        shop=make_shop(store=store, name="デモショップ本店"), makeshop_shop_id="demo-shop",
        password=codes["password"], order_auth_code=codes["order_auth_code"],
        product_auth_code=codes["product_auth_code"], status=MakeShopConnection.Status.VERIFIED,
        verified_at=now, password_verified_at=now, order_auth_code_verified_at=now,
        product_auth_code_verified_at=now,
    )
    app_token = app_sandbox.DEMO_APP_SHOPS["demo-shop"].token
    never_shown = {app_token, *codes.values()} - {"demo-shop"}

    context = browser.new_context(
        locale="ja-JP", timezone_id="Asia/Tokyo", viewport={"width": 1280, "height": 900}
    )
    page = context.new_page()
    page.set_default_timeout(TIMEOUT_MS)
    step = iter(range(1, 100))

    def shot(name):
        html = page.content()
        assert not any(secret in html for secret in never_shown), name
        page.screenshot(path=artifacts / f"move-to-app-{lang}-{next(step):02d}-{name}.png",
                        full_page=True)

    page.goto(f"{live_server.url}/settings/malls/")
    if lang == "en":
        page.get_by_role("button", name="English").click()
    page.fill("#id_username", user.username)
    page.fill("#id_password", PASSWORD)
    page.keyboard.press("Enter")

    # The list: the shop on the legacy API, verified.
    row = page.get_by_role("row", name=re.compile("デモショップ本店"))
    expect(row).to_contain_text(t["legacy"])
    shot("list-legacy")

    # The shop's page offers the two ways, and the move to the app.
    page.get_by_role("link", name="デモショップ本店").click()
    summary = page.locator("dl.shop-summary")
    expect(summary).to_contain_text(t["legacy"])
    shot("shop-two-ways")
    page.get_by_role("link", name=t["move"]).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(t["app_page"])
    expect(page.locator(".app-state")).to_contain_text(t["waiting"])
    shot("app-waiting")

    # In MakeShop's app store the merchant installs GoQ's app: MakeShop calls GoQ. The job
    # links it once MakeShop (the legacy sandbox) accepts the shop's code again.
    with sandbox_for(settings):
        status = app_sandbox.send_install(
            "demo-shop", app_url=live_server.url, secret=settings.MAKESHOP_APP_WEBHOOK_SECRET,
            graphql=graphql.graphql,
        )
    assert status == 200
    installation = MakeShopAppInstallation.objects.get(shop_id="demo-shop")
    assert installation.connection_id == connection.pk
    assert installation.state == MakeShopAppInstallation.State.VERIFIED

    # Back on the page: the shop now uses the app, verified.
    page.reload()
    expect(page.locator(".app-state")).to_contain_text(t["verified"])
    expect(summary).to_contain_text(t["app"])
    shot("app-verified")

    # The auth codes are no longer needed: the merchant removes them.
    page.get_by_role("button", name=t["remove"]).click()
    expect(page.locator(".message--success")).to_be_visible()
    expect(page.locator("main")).to_contain_text(t["app_only"])
    shot("codes-removed")
    connection.refresh_from_db()
    assert all(getattr(connection, name) is None for name in MakeShopConnection.SECRET_FIELDS)
    assert ChangeRecord.objects.filter(
        shop=connection.shop, action="makeshop.legacy_codes_removed", actor=user
    ).count() == 1

    # The list shows the shop on the app.
    page.get_by_role("link", name=t["mall_settings"]).first.click()
    row = page.get_by_role("row", name=re.compile("デモショップ本店"))
    expect(row).to_contain_text(t["app"])
    expect(row).to_contain_text(t["verified"])
    shot("list-app")
    context.close()
