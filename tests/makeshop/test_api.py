"""MakeShop's vocabulary: one Reason per way a check can end, each of one kind."""

import pytest

from malls.makeshop import Check, CheckResult, Outcome, Reason
from malls.makeshop.api import LEGACY_CHECKS, SHOP_ID_RE
from malls.makeshop.models import MakeShopConnection

from .legacy.test_client import ERROR_ANSWERS, FAULTS, LOGIN_ANSWERS, ORDER_ANSWERS, PRODUCT_ANSWERS
from .legacy.test_evidence import EMPTY_MESSAGES, ORDERS_WITH_ERRORS


def expected_reasons():
    """Every reason the client tests expect the client to return."""
    reasons = set()
    for _, _, reason in FAULTS.values():
        reasons.add(reason[0] if isinstance(reason, tuple) else reason)
    reasons |= {expected for _, expected in ORDER_ANSWERS.values() if expected is not True}
    reasons |= {expected[1] for _, expected in ERROR_ANSWERS.values()}
    for _, expected in (*PRODUCT_ANSWERS.values(), *LOGIN_ANSWERS.values()):
        if expected is not None:
            reasons.add(expected[1])
    # Tested one by one: a refused port, an untrusted certificate, a redirect, the
    # sandbox's refusals, and a bug inside the client.
    reasons |= {"refused", "tls", "redirect", "token_rejected", "not_enabled", "internal_error"}
    # test_evidence: words nobody recognises, errors inside <orders>.
    reasons |= {str(expected[1]) for _, expected in ORDERS_WITH_ERRORS.values()}
    reasons |= {"unknown_message"} if EMPTY_MESSAGES else set()
    return reasons


def test_every_reason_the_client_returns_is_a_reason():
    for reason in expected_reasons():
        assert Reason(reason).value == reason


def test_every_reason_but_a_few_is_seen_in_the_client_tests():
    """DNS failures need a resolver (see test_transport); busy, unreadable and the
    shop-ID reasons are the services'; GraphQL errors are the new API's (tests/makeshop/app)."""
    unseen = set(Reason) - {Reason(reason) for reason in expected_reasons()}

    assert unseen == {
        Reason.DNS, Reason.BUSY, Reason.UNREADABLE, Reason.SHOP_ID_RELEASED,
        Reason.SHOP_ID_TAKEN, Reason.GRAPHQL_ERROR,
    }


@pytest.mark.parametrize("reason", list(Reason))
def test_each_reason_is_of_exactly_one_kind(reason):
    kinds = (reason.is_rejection, reason.is_unreachable, reason.outcome is Outcome.UNEXPECTED)

    assert sum(kinds) == 1
    assert reason.is_rejection == (reason.outcome is Outcome.REJECTED)
    assert reason.is_unreachable == (reason.outcome is Outcome.UNREACHABLE)
    assert not reason.is_busy or reason.is_unreachable


def test_busy_reasons():
    assert {reason for reason in Reason if reason.is_busy} == {Reason.BUSY, Reason.RATE_LIMITED}


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("timeout", Reason.TIMEOUT),
        ("http_502", Reason.HTTP_5XX),
        ("status_404", Reason.UNEXPECTED_STATUS),
        ("", None),
        (None, None),
        ("http_", None),
        ("something_new", None),
    ],
)
def test_reason_of_stored_text(text, reason):
    assert Reason.of(text) is reason


def test_a_result_reads_its_reason_from_text():
    result = CheckResult(Check.PASSWORD, Outcome.REJECTED, "login_refused")
    accepted = CheckResult(Check.PASSWORD, Outcome.ACCEPTED, "")

    assert result.reason is Reason.LOGIN_REFUSED
    assert accepted.reason is None and accepted.ok
    with pytest.raises(ValueError):
        CheckResult(Check.PASSWORD, Outcome.REJECTED, "no_such_reason")


def test_each_check_names_the_field_holding_its_secret():
    assert {check.secret_field for check in LEGACY_CHECKS} == set(MakeShopConnection.SECRET_FIELDS)
    assert MakeShopConnection.Check is Check


@pytest.mark.parametrize(
    ("shop_id", "valid"),
    [
        ("demo-shop", True),
        ("a_1", True),
        ("ab", True),
        ("a", False),
        ("-shop", False),
        ("_shop", False),
        ("shop.jp", False),
        ("a" * 64, True),
        ("a" * 65, False),
    ],
)
def test_one_shop_id_rule(shop_id, valid):
    assert bool(SHOP_ID_RE.fullmatch(shop_id)) is valid
