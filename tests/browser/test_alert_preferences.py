"""A merchant turns shop alert e-mails off and back on, and picks English, in a real browser."""

import re

import pytest

from malls.alerts.models import AlertPreference

from ..factories import make_store, make_user

PASSWORD = "pass-for-tests-2026"


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_a_merchant_toggles_alert_e_mails(browser, live_server, artifacts):
    from playwright.sync_api import expect

    user = make_user(password=PASSWORD, email="merchant@shop.example")
    make_store(name="デモ店舗", members=[user])
    context = browser.new_context(locale="ja-JP", timezone_id="Asia/Tokyo")
    page = context.new_page()
    page.set_default_timeout(15_000)

    page.goto(f"{live_server.url}/settings/")
    page.fill("#id_username", user.username)
    page.fill("#id_password", PASSWORD)
    page.keyboard.press("Enter")
    page.get_by_role("link", name="メール通知").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("メール通知")
    box = page.get_by_label("ショップの接続が切れたとき・復旧したときにメールで知らせる")
    expect(box).to_be_checked()
    expect(page.get_by_text("merchant@shop.example")).to_be_visible()

    box.uncheck()
    page.get_by_role("button", name="保存する").click()
    expect(page.get_by_role("status")).to_contain_text("メール通知の設定を保存しました")
    expect(box).not_to_be_checked()
    page.screenshot(path=artifacts / "alerts-preferences-off.png", full_page=True)
    assert AlertPreference.objects.get(user=user).alerts_enabled is False

    box.check()
    page.get_by_label("English").check()
    page.get_by_role("button", name="保存する").click()
    expect(page.get_by_role("status")).to_contain_text("保存しました")
    expect(box).to_be_checked()
    expect(page.get_by_label("English")).to_be_checked()
    saved = AlertPreference.objects.get(user=user)
    assert (saved.alerts_enabled, saved.language) == (True, "en")
    expect(page).to_have_url(re.compile(r"/settings/alerts/$"))
    context.close()
