"""What MakeShop's verdicts are called and what a merchant is told to do, in both languages."""

from datetime import UTC, datetime

import pytest
from django.utils import translation

from malls.makeshop import Check, Reason
from malls.makeshop.models import MakeShopConnection
from malls.makeshop.verdicts import (
    CHECK_LABELS,
    REASON_LABELS,
    advice,
    check_label,
    likely_cause,
    reason_label,
)

Status = MakeShopConnection.Status


@pytest.fixture(autouse=True)
def in_english():
    with translation.override("en"):
        yield


@pytest.mark.parametrize(
    ("reason", "rejected", "says"),
    [
        ("maintenance", False, "maintenance"),
        ("rate_limited", False, "busy"),
        ("busy", False, "busy"),
        ("timeout", False, "could not be reached"),
        ("http_503", False, "could not be reached"),
        ("http_5xx", False, "could not be reached"),
        ("", False, "could not be reached"),
        ("bad_xml", False, "did not expect"),
        ("status_418", False, "did not expect"),
        ("unexpected_status", False, "did not expect"),
        ("something_new", False, "did not expect"),
        ("something_new", True, "did not accept this value"),
        ("login_refused", True, "main administrator"),
        ("not_enabled", True, "not approved API use"),
        ("token_rejected", True, "order data auth code"),
    ],
)
def test_advice_for_each_kind_of_verdict(reason, rejected, says):
    assert says in advice(Check.ORDER_AUTH_CODE, reason, rejected=rejected)


def test_a_refused_code_gets_advice_naming_that_code():
    assert "product data auth code" in advice(
        Check.PRODUCT_AUTH_CODE, Reason.TOKEN_REJECTED, rejected=True
    )


@pytest.mark.parametrize("language", ["en", "ja"])
@pytest.mark.parametrize("reason", list(Reason))
def test_every_reason_has_a_label_and_advice_in_both_languages(reason, language):
    assert reason in REASON_LABELS
    with translation.override(language):
        label = reason_label(reason)
        assert label and label != reason.value
        for check in Check:
            assert advice(check, reason, rejected=reason.is_rejection)


@pytest.mark.parametrize("language", ["en", "ja"])
def test_every_check_has_a_name(language):
    assert set(CHECK_LABELS) == set(Check)
    with translation.override(language):
        assert all(check_label(check) for check in Check)
    assert check_label("not-a-check") == ""


def test_labels_are_translated():
    with translation.override("ja"):
        assert reason_label(Reason.TIMEOUT) == "時間内に応答がありませんでした"
        assert check_label(Check.ORDER_AUTH_CODE) == "注文データ連携 認証コード"


def test_stored_text_is_labelled_old_families_included_and_unknown_text_shown_as_is():
    assert reason_label("token_rejected") == "code refused"
    assert reason_label("http_502") == reason_label(Reason.HTTP_5XX)
    assert reason_label("something_new") == "something_new"
    assert reason_label("") == ""


def broken(**fields):
    return MakeShopConnection(
        status=Status.REJECTED, verified_at=datetime(2026, 11, 1, tzinfo=UTC), **fields
    )


@pytest.mark.parametrize(
    ("fields", "says"),
    [
        ({"failed_check": Check.ORDER_AUTH_CODE, "failure_reason": "not_enabled"}, "withdrawn"),
        ({"failed_check": Check.PASSWORD, "failure_reason": "login_refused"}, "password"),
        ({"failed_check": Check.ORDER_AUTH_CODE, "failure_reason": "token_rejected"}, "re-issued"),
    ],
)
def test_likely_cause_of_a_connection_that_worked_and_is_now_rejected(fields, says):
    assert says in likely_cause(broken(**fields))


def test_no_likely_cause_for_a_connection_that_never_worked():
    never = MakeShopConnection(status=Status.REJECTED, failure_reason="token_rejected")

    assert not never.is_broken
    assert likely_cause(never) == ""
