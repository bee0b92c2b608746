"""The input rules and the vocabulary every other module reads."""

import pytest

from malls.rakuten import api
from malls.rakuten.api import Check, CheckResult, InvalidKey, KeyFormat, Outcome, Reason
from malls.rakuten.client import esa_header


def test_the_header_is_esa_and_base64_of_secret_colon_key_as_rms_documents():
    # RMS's own example: serviceSecret=aaa, licenseKey=bbb -> ESA YWFhOmJiYg==
    assert esa_header("aaa", "bbb") == "ESA YWFhOmJiYg=="


@pytest.mark.parametrize(
    ("typed", "kept"),
    [("  SL900001_abc  ", "SL900001_abc"), ("\tSP1_x\n", "SP1_x"), ("x" * 50, "x" * 50)],
)
def test_keys_are_trimmed(typed, kept):
    assert api.clean_key(typed) == kept


@pytest.mark.parametrize(
    ("typed", "problem"),
    [
        ("", KeyFormat.EMPTY),
        ("   ", KeyFormat.EMPTY),
        ("x" * 51, KeyFormat.TOO_LONG),
        ("SL9000 01_abc", KeyFormat.WHITESPACE),
        ("SL900001\n_abc", KeyFormat.WHITESPACE),
        ("ＳＬ900001", KeyFormat.NOT_ASCII),
        ("SL900001\x00", KeyFormat.NOT_ASCII),
        ("SP1:SL1", KeyFormat.COLON),
    ],
)
def test_what_cannot_be_a_key_is_refused_with_its_reason(typed, problem):
    with pytest.raises(InvalidKey) as refused:
        api.clean_key(typed)
    assert refused.value.problem is problem


@pytest.mark.parametrize(
    ("typed", "code"),
    [
        ("xxxx", "xxxx"),
        (" My-Shop_1 ", "my-shop_1"),
        ("https://www.rakuten.co.jp/xxxx/", "xxxx"),
        ("http://www.rakuten.ne.jp/gold/", "gold"),
        ("www.rakuten.co.jp/xxxx", "xxxx"),
        ("xxxx.rakuten.co.jp", "xxxx"),
        ("https://www.rakuten.co.jp/xxxx/?l-id=top", "xxxx"),
    ],
)
def test_the_shop_url_is_the_shop_code_whatever_form_is_pasted(typed, code):
    assert api.normalize_shop_url(typed) == code


@pytest.mark.parametrize(
    "typed", ["", "-xxxx", "xx xx", "xxxx/item", "https://example.com/xxxx/", "店舗", "a" * 65]
)
def test_anything_else_is_no_shop_url(typed):
    assert api.normalize_shop_url(typed) is None


def test_every_reason_has_one_outcome_and_the_not_enabled_ones_name_their_check():
    assert {reason.outcome for reason in Reason} == {
        Outcome.REJECTED, Outcome.UNREACHABLE, Outcome.UNEXPECTED
    }
    assert Reason.PENDING_ACTIVATION.outcome is Outcome.REJECTED
    assert {api.NOT_ENABLED[check] for check in Check} == {
        reason for reason in Reason if reason.not_enabled
    }
    assert [check.function for check in api.CHECKS] == [
        "license.expiryDate.get", "rpay.order.searchOrder", "shop.shopMaster.get"
    ]


def test_a_function_not_enabled_gives_way_to_keys_of_another_shop():
    results = (
        CheckResult(Check.EXPIRY, Outcome.REJECTED, Reason.EXPIRY_NOT_ENABLED),
        CheckResult(Check.ORDERS, Outcome.ACCEPTED),
        CheckResult(Check.SHOP, Outcome.REJECTED, Reason.OTHER_SHOP, "demo-neighbour"),
    )
    verification = api.Verification(results)
    assert verification.reason is Reason.OTHER_SHOP
    assert verification.failed.check is Check.SHOP
    assert not verification.ok
