"""A merchant connects a MakeShop shop in a real browser, in Japanese and in English.

Sign in → 各種設定 → モール詳細設定 → the shop → a save MakeShop rejects → a save while
MakeShop is down → a save that succeeds → the next steps (copy the notification URL)
→ the list → sign out. Screenshots of each step go to tests/artifacts/.
"""

import re

import pytest

from malls.makeshop.models import MakeShopConnection

from ..factories import make_shop, make_store, make_user
from ..screens_factories import demo_codes, running_sandbox

PASSWORD = "pass-for-tests-2026"
TIMEOUT_MS = 30_000  # a save waits for MakeShop (the sandbox), one call a second

TEXTS = {
    "ja": {
        "settings": "各種設定",
        "mall_settings": "モール詳細設定",
        "connected": "出店中のモール一覧",
        "page": "MakeShop外部システム連携設定",
        "save": "設定を保存して次へ進む",
        "keep": "接続未確認として保存",
        "back_to_form": "入力画面に戻る",
        "guide": "MakeShop側の設定",
        "copy": "コピー",
        "copied": "コピーしました",
        "verified": "確認済み",
        "rejected_advice": "変更",
        "down": "メンテナンス",
        "sign_out": "ログアウト",
        "not_received": "未受信",
    },
    "en": {
        "settings": "Settings",
        "mall_settings": "Mall settings",
        "connected": "Connected malls",
        "page": "MakeShop integration settings",
        "save": "Save and continue",
        "keep": "Keep as not yet verified",
        "back_to_form": "Go back to the form",
        "guide": "Next steps in MakeShop",
        "copy": "Copy",
        "copied": "Copied",
        "verified": "Verified",
        "rejected_advice": "変更 is pressed",
        "down": "under maintenance",
        "sign_out": "Sign out",
        "not_received": "Not received yet",
    },
}


@pytest.fixture
def sandbox(settings):
    with running_sandbox() as server:
        settings.MAKESHOP_API_BASE_URL = server.url
        yield server


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("lang", ["ja", "en"])
def test_a_merchant_connects_a_makeshop_shop(browser, live_server, sandbox, artifacts, lang):
    from playwright.sync_api import expect

    expect.set_options(timeout=TIMEOUT_MS)
    t = TEXTS[lang]
    user = make_user(password=PASSWORD)
    store = make_store(name="デモ店舗", members=[user])
    shop = make_shop(store=store, name="デモショップ本店")
    make_shop(store=store, mall_code="rakuten", name="楽天市場店")
    good = demo_codes("demo-shop")
    typed_secrets = {good["password"], good["order_auth_code"], good["product_auth_code"]}

    context = browser.new_context(
        locale="ja-JP", timezone_id="Asia/Tokyo", viewport={"width": 1280, "height": 900}
    )
    context.grant_permissions(["clipboard-read", "clipboard-write"], origin=live_server.url)
    page = context.new_page()
    page.set_default_timeout(TIMEOUT_MS)
    step = iter(range(1, 100))

    def shot(name):
        assert not any(secret in page.content() for secret in typed_secrets), name
        page.screenshot(path=artifacts / f"merchant-{lang}-{next(step):02d}-{name}.png",
                        full_page=True)

    # Signing in, in the chosen language (Japanese unless switched).
    page.goto(f"{live_server.url}/settings/malls/")
    expect(page).to_have_url(re.compile(r"/accounts/login/"))
    if lang == "en":
        page.get_by_role("button", name="English").click()
    expect(page.locator("html")).to_have_attribute("lang", lang)
    shot("sign-in")
    page.fill("#id_username", user.username)
    page.fill("#id_password", PASSWORD)
    page.keyboard.press("Enter")

    # Back where the merchant was going: the list of the store's shops.
    expect(page.get_by_role("heading", name=t["connected"])).to_be_visible()
    expect(page.get_by_role("row", name=re.compile("デモショップ本店"))).to_contain_text(
        t["not_received"]
    )
    shot("list")
    page.get_by_role("link", name=t["settings"], exact=True).first.click()
    page.get_by_role("link", name=t["mall_settings"]).click()
    page.get_by_role("link", name="デモショップ本店").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(t["page"])
    shot("empty-form")

    # MakeShop rejects the order data auth code: nothing is saved, and the page says so as
    # one verdict on the settings (never which secret was wrong: no password oracle).
    page.fill("#id_shop_id", "demo-shop")
    page.fill("#id_password", good["password"])
    page.fill("#id_order_auth_code", "ffffffffffffffffffffffffffffffff")
    page.get_by_role("button", name=t["save"]).click()
    summary = page.locator(".error-summary")
    expect(summary).to_be_focused()
    expect(summary).to_contain_text(t["rejected_advice"])
    expect(page.locator("#id_order_auth_code_error")).to_have_count(0)
    expect(page.locator("#id_shop_id")).to_have_value("demo-shop")
    shot("rejected")
    assert not MakeShopConnection.objects.filter(shop=shop).exists()
    page.locator("#id_order_auth_code").click()
    page.keyboard.type(demo_codes("demo-maint")["order_auth_code"])

    # MakeShop is down: the merchant is asked, and chooses to go back.
    page.fill("#id_shop_id", "demo-maint")
    page.fill("#id_password", "demo-maint-password")
    page.get_by_role("button", name=t["save"]).click()
    decision = page.locator(".decision")
    expect(decision).to_be_focused()
    expect(decision).to_contain_text(t["down"])
    expect(page.get_by_role("button", name=re.compile(t["keep"]))).to_be_visible()
    expect(page.locator("#id_shop_id")).to_have_value("demo-maint")
    shot("makeshop-down")
    page.get_by_role("link", name=t["back_to_form"]).click()
    assert not MakeShopConnection.objects.filter(shop=shop).exists()

    # All accepted: saved, and on to the next steps. Submitted with the Enter key.
    page.fill("#id_shop_id", "demo-shop")
    page.fill("#id_password", good["password"])
    page.fill("#id_order_auth_code", good["order_auth_code"])
    page.fill("#id_product_auth_code", good["product_auth_code"])
    page.locator("#id_product_auth_code").press("Enter")
    expect(page.get_by_role("heading", level=1)).to_have_text(t["guide"])
    expect(page.locator(".message--success")).to_be_visible()
    connection = MakeShopConnection.objects.get(shop=shop)
    assert connection.status == MakeShopConnection.Status.VERIFIED
    url_field = page.locator("#notification-url")
    expect(url_field).to_have_value(
        re.compile(rf"/makeshop/notify/{connection.notification_token}/\[SHOPID\]/")
    )
    page.get_by_role("button", name=t["copy"], exact=True).click()
    expect(page.locator("#copy-status")).to_contain_text(t["copied"])
    assert page.evaluate("navigator.clipboard.readText()") == url_field.input_value()
    shot("guide")

    # The list now shows the shop as verified, with its shop ID.
    page.get_by_role("link", name=t["mall_settings"]).first.click()
    row = page.get_by_role("row", name=re.compile("デモショップ本店"))
    expect(row).to_contain_text("demo-shop")
    expect(row).to_contain_text(t["verified"])
    shot("list-verified")

    # The saved secrets are shown by their last 4 characters only.
    page.get_by_role("link", name="デモショップ本店").click()
    expect(page.locator("#id_order_auth_code_helptext")).to_contain_text(
        good["order_auth_code"][-4:]
    )
    expect(page.locator("#id_order_auth_code")).to_have_value("")
    shot("saved-form")

    page.get_by_role("button", name=t["sign_out"]).click()
    expect(page).to_have_url(re.compile(r"/accounts/login/"))
    shot("signed-out")
    page.goto(f"{live_server.url}/settings/malls/")
    expect(page).to_have_url(re.compile(r"/accounts/login/"))
    context.close()
