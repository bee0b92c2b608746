"""Labels and advice for every reason, in Japanese by default, for both connection models."""

import pytest
from django.utils import translation

from malls.rakuten import verdicts
from malls.rakuten.api import Check, Reason


@pytest.fixture(autouse=True)
def _english():
    with translation.override("en"):
        yield


def test_every_reason_and_check_has_a_label():
    assert set(verdicts.REASON_LABELS) == set(Reason)
    assert all(verdicts.check_label(check) for check in Check)
    assert verdicts.reason_label("something_else") == "something_else"


@pytest.mark.parametrize("reason", [r for r in Reason if r.outcome == "rejected"])
def test_every_refusal_has_advice_of_its_own(reason):
    text = verdicts.advice(reason, rejected=True, reported_shop="demo-neighbour")
    if reason is not Reason.UNAUTHORISED:
        assert text != verdicts.advice(Reason.UNAUTHORISED, rejected=True)
    assert text != str(verdicts.ADVICE["rejected"])


def test_other_shop_advice_names_the_shop_rms_reports():
    text = verdicts.advice(Reason.OTHER_SHOP, rejected=True, reported_shop="demo-neighbour")
    assert "demo-neighbour" in text


def test_functions_not_enabled_name_the_function_and_the_step_merchants_miss(settings):
    settings.RAKUTEN_SERVICE_SECRET = ""
    text = verdicts.advice(Reason.ORDERS_NOT_ENABLED, rejected=True)
    assert "rpay.order.searchOrder" in text
    assert "確認する" in text
    assert "license.expiryDate.get" in verdicts.advice(Reason.EXPIRY_NOT_ENABLED, rejected=True)
    assert "shop.shopMaster.get" in verdicts.advice(Reason.SHOP_NOT_ENABLED, rejected=True)


def test_with_goqs_product_the_advice_is_to_approve_it(settings):
    settings.RAKUTEN_SERVICE_SECRET = "SP000000_sandboxgoqproduct"
    text = verdicts.advice(Reason.ORDERS_NOT_ENABLED, rejected=True)
    assert "システム開発企業からのAPIアクセス許可設定" in text
    assert "利用機能編集" not in text


def test_no_verdict_is_never_the_merchants_fault():
    for reason in Reason:
        if reason.outcome != "rejected":
            text = verdicts.advice(reason, rejected=False)
            assert "GoQ will check again later" in text or "kept" in text


def test_the_renewal_guide_gives_both_paths_and_says_paste_at_once(settings):
    settings.RAKUTEN_SERVICE_SECRET = ""
    text = " ".join(verdicts.renewal_steps())
    assert "アプリ一覧" in text and "2-1 WEB API" in text
    assert "新しいライセンスキーを発行" in text
    assert "serviceSecret does not change" in text
    assert "at once" in text


def test_the_setup_guide_depends_on_the_connection_model(settings):
    settings.RAKUTEN_SERVICE_SECRET = ""
    assert "rpay.order.searchOrder" in " ".join(verdicts.setup_steps())
    settings.RAKUTEN_SERVICE_SECRET = "SP000000_sandboxgoqproduct"
    assert "承認のお願い" in " ".join(verdicts.setup_steps())


def test_merchants_read_japanese_by_default():
    with translation.override("ja"):
        assert verdicts.reason_label(Reason.PENDING_ACTIVATION) == "新しいキーが未有効"
        text = verdicts.advice(Reason.OTHER_SHOP, rejected=True, reported_shop="demo-neighbour")
        assert "別の楽天店舗" in text and "demo-neighbour" in text
        assert "古いキー" in " ".join(verdicts.renewal_steps())
