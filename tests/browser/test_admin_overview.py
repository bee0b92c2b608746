"""GoQ staff open the admin in a real browser, in Japanese and in English: the overview
first, a number followed to the list of exactly those shops, and the connection list
whole on a 1,366 x 768 screen. Screenshots go to tests/artifacts/.
"""

import re
from datetime import timedelta

import pytest
from django.utils import timezone

from malls import services
from malls.makeshop.app.models import MakeShopAppInstallation
from malls.makeshop.models import MakeShopConnection
from malls.models import ChangeRecord, MallShop

from ..admin_factories import make_staff
from ..factories import make_connection, make_shop, make_store

Status = MakeShopConnection.Status
Check = MakeShopConnection.Check
App = MakeShopAppInstallation.State
PASSWORD = "pass-for-tests-2026"
SCREEN = {"width": 1366, "height": 768}

TEXTS = {
    "ja": {"header": "GoQSystem 管理", "overview": "MakeShop連携", "broke": "24時間以内",
           "verified": "接続確認済み", "chart": "過去30日間の日別ショップ数"},
    "en": {"header": "GoQSystem admin", "overview": "MakeShop connections",
           "broke": "in the last 24 hours", "verified": "Verified",
           "chart": "Shops per day, last 30 days"},
}

LONG_MESSAGE = (
    "認証に失敗しました。ショップの管理画面の「外部システム連携設定」で注文データ連携の認証コードを"
    "確認し、再発行した場合は新しいコードを登録してください。"
)


def shops_of_every_kind():
    """Shops in every state, with long names and MakeShop's long messages, and history;
    on both APIs, with the app's longest state words."""
    now = timezone.now()
    for n in range(4):
        working = make_connection(
            makeshop_shop_id=f"working-shop-with-a-long-id-{n}",
            shop=make_shop(store=make_store(name=f"株式会社ロングネーム商事オンラインストア本店{n}"),
                           application_status=MallShop.ApplicationStatus.APPROVED),
            status=Status.VERIFIED, verified_at=now - timedelta(hours=n),
        )
        if n < 2:
            MakeShopAppInstallation.objects.create(
                shop_id=working.makeshop_shop_id, token=f"browser-token-{n}",
                connection=working, installed_at=now,
                state=[App.VERIFIED, App.UNREACHABLE][n],
            )
    for n, (hours, check, reason) in enumerate([
        (2, Check.ORDER_AUTH_CODE, "token_rejected"),
        (5, Check.PASSWORD, "login_refused"),
        (80, Check.ORDER_AUTH_CODE, "token_rejected"),
        (400, Check.PRODUCT_AUTH_CODE, "not_enabled"),
    ]):
        connection = make_connection(
            makeshop_shop_id=f"broken-shop-{n}",
            shop=make_shop(store=make_store(name=f"壊れた接続のある店舗{n}")),
            status=Status.REJECTED, verified_at=now - timedelta(hours=hours + 24),
            failing_since=now - timedelta(hours=hours), failed_check=check,
            failure_reason=reason, makeshop_message=LONG_MESSAGE,
        )
        for old, new, ago in (("unset", "verified", hours + 240), ("verified", "rejected", hours)):
            record = services.record_change(
                shop=connection.shop, source=ChangeRecord.Source.TASK,
                action="makeshop.verified", changes={"status": [old, new]},
            )
            ChangeRecord.objects.filter(pk=record.pk).update(at=now - timedelta(hours=ago))
    make_connection(status=Status.UNVERIFIED, failed_check=Check.ORDER_AUTH_CODE,
                    failure_reason="maintenance", makeshop_message="ただいまメンテナンス中です")
    make_connection(status=Status.PENDING)


def count_in(link) -> int:
    return int(re.sub(r"\D", "", link.inner_text()))


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("lang", ["ja", "en"])
def test_staff_follow_a_number_of_the_overview_to_exactly_those_shops(
    browser, live_server, artifacts, lang
):
    from playwright.sync_api import expect

    t = TEXTS[lang]
    staff = make_staff(password=PASSWORD)
    shops_of_every_kind()
    context = browser.new_context(
        locale="ja-JP" if lang == "ja" else "en-US", timezone_id="Asia/Tokyo", viewport=SCREEN
    )
    context.add_cookies([{"name": "django_language", "value": lang, "url": live_server.url}])
    page = context.new_page()

    page.goto(f"{live_server.url}/admin/")
    page.fill("#id_username", staff.username)
    page.fill("#id_password", PASSWORD)
    page.keyboard.press("Enter")

    # The overview is the admin's first page, branded and in the chosen language.
    expect(page.locator("html")).to_have_attribute("lang", lang)
    expect(page.locator("#site-name")).to_have_text(t["header"])
    expect(page.get_by_role("heading", name=t["overview"])).to_be_visible()
    expect(page.locator("#goq-chart-title")).to_have_text(t["chart"])
    expect(page.locator("#goq-chart-table tbody tr")).to_have_count(30)
    page.screenshot(path=artifacts / f"admin-overview-{lang}.png", full_page=True)

    # Each number, followed, lists as many shops as it says.
    for row in (
        page.locator("#goq-broke tr", has_text=t["broke"]),
        page.locator("#goq-by-status tr", has_text=t["verified"]).first,
        page.locator("#goq-by-cause tr").first,
    ):
        link = row.get_by_role("link")
        expected = count_in(link)
        assert expected > 0
        link.click()
        expect(page.locator("#result_list tbody tr")).to_have_count(expected)
        page.go_back()

    # The whole connection list fits the screen: no column is cut.
    page.goto(f"{live_server.url}/admin/malls/makeshopconnection/")
    expect(page.locator("#result_list tbody tr")).to_have_count(10)
    page.screenshot(path=artifacts / f"admin-connections-{lang}-1366x768.png")
    fit = page.evaluate(
        """() => {
            const results = document.querySelector('#changelist-form .results');
            const table = results.querySelector('table');
            return {
                page: document.scrollingElement.scrollWidth,
                viewport: window.innerWidth,
                tableRight: table.getBoundingClientRect().right,
                resultsRight: results.getBoundingClientRect().right,
                resultsScroll: results.scrollWidth,
                resultsWidth: results.clientWidth,
            };
        }"""
    )
    assert fit["page"] <= fit["viewport"], fit
    assert fit["tableRight"] <= min(fit["viewport"], fit["resultsRight"] + 0.5), fit
    assert fit["resultsScroll"] <= fit["resultsWidth"], fit
    context.close()
