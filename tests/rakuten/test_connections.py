"""The pure rules: pending activation, the expiry states, the warning schedule."""

from datetime import UTC, date, datetime, timedelta

import pytest
import time_machine
from django.utils import timezone

from malls.rakuten import connections
from malls.rakuten.api import Check, CheckResult, Outcome, Reason, Verification
from malls.rakuten.connections import ExpiryState, Status, classify, warning_due
from malls.rakuten.models import RakutenConnection

NOW = datetime(2026, 12, 5, 3, 0, tzinfo=UTC)
ACCEPTED = Verification(tuple(CheckResult(check, Outcome.ACCEPTED) for check in Check))


def refused(reason=Reason.UNAUTHORISED):
    return Verification((CheckResult(Check.EXPIRY, reason.outcome, reason),))


def test_the_statuses_are_the_models():
    assert {status.value for status in Status} == set(RakutenConnection.Status.values)


@pytest.mark.parametrize(
    ("minutes_ago", "status"),
    [(1, Status.PENDING_ACTIVATION), (89, Status.PENDING_ACTIVATION), (90, Status.REJECTED),
     (600, Status.REJECTED)],
)
def test_a_key_refused_within_90_minutes_of_being_saved_is_pending(minutes_ago, status):
    changed = NOW - timedelta(minutes=minutes_ago)
    result = classify(refused(), key_changed_at=changed, now=NOW)
    assert result.status is status
    expected = Reason.PENDING_ACTIVATION if status is Status.PENDING_ACTIVATION else (
        Reason.UNAUTHORISED
    )
    assert result.reason is expected


def test_only_a_refused_key_can_be_pending():
    recently = NOW - timedelta(minutes=5)
    assert classify(ACCEPTED, key_changed_at=recently, now=NOW).status is Status.VERIFIED
    for reason, status in [
        (Reason.ORDERS_NOT_ENABLED, Status.REJECTED),
        (Reason.OTHER_SHOP, Status.REJECTED),
        (Reason.EXPIRED, Status.REJECTED),
        (Reason.HTTP_5XX, Status.UNREACHABLE),
        (Reason.BAD_JSON, Status.UNVERIFIED),
    ]:
        assert classify(refused(reason), key_changed_at=recently, now=NOW).status is status
    assert classify(refused(), key_changed_at=None, now=NOW).status is Status.REJECTED


def test_a_pending_key_is_asked_again_every_10_minutes_and_once_the_window_ends():
    changed = NOW
    due = connections.recheck_due

    def at(minutes, last):
        return due("pending_activation", key_changed_at=changed,
                   last_checked_at=changed + timedelta(minutes=last),
                   now=changed + timedelta(minutes=minutes))

    assert not at(9, 0)
    assert at(10, 0)
    assert not at(15, 10)
    assert at(90, 85)  # the window has ended: the last word
    assert not due("verified", key_changed_at=changed, last_checked_at=None, now=changed)


@pytest.mark.parametrize(
    ("expires_on", "state", "days_left"),
    [
        (None, ExpiryState.UNKNOWN, None),
        (date(2027, 1, 1), ExpiryState.VALID, 27),
        (date(2026, 12, 20), ExpiryState.VALID, 15),
        (date(2026, 12, 19), ExpiryState.EXPIRING, 14),
        (date(2026, 12, 5), ExpiryState.EXPIRING, 0),
        (date(2026, 12, 4), ExpiryState.EXPIRED, -1),
    ],
)
def test_expiry_state_and_days_left(expires_on, state, days_left):
    assert connections.expiry(expires_on, date(2026, 12, 5)) == connections.Expiry(
        state, days_left
    )


def test_today_is_japans_today():
    with time_machine.travel(datetime(2026, 12, 4, 15, 30, tzinfo=UTC), tick=False):
        assert connections.japan_today(timezone.now()) == date(2026, 12, 5)


def run_schedule(expires_on, first_day, last_day):
    """Every day from first to last, the daily job: (day, warning) for each one sent."""
    sent, log = [], []
    day = first_day
    while day <= last_day:
        with time_machine.travel(datetime(day.year, day.month, day.day, 0, 5, tzinfo=UTC)):
            warning = warning_due(expires_on, connections.japan_today(timezone.now()), sent)
        if warning is not None:
            sent += warning.marks
            log.append(((expires_on - day).days, warning.days_before))
        day += timedelta(days=1)
    return log


def test_warnings_at_14_7_3_1_days_before_and_on_the_day_once_each():
    expires_on = date(2027, 1, 31)
    log = run_schedule(expires_on, date(2026, 12, 1), date(2027, 2, 10))
    assert log == [(14, 14), (7, 7), (3, 3), (1, 1), (0, 0)]


def test_a_key_saved_inside_the_window_gets_one_warning_at_once():
    expires_on = date(2026, 12, 10)
    warning = warning_due(expires_on, date(2026, 12, 5), [])
    assert (warning.days_before, warning.days_left, warning.covers) == (7, 5, (14, 7))
    assert warning_due(expires_on, date(2026, 12, 5), warning.marks) is None
    assert warning_due(expires_on, date(2026, 12, 7), warning.marks).days_before == 3


def test_a_renewed_key_starts_the_schedule_afresh():
    old = date(2026, 12, 10)
    sent = warning_due(old, date(2026, 12, 9), []).marks  # the 1-day warning and all before
    renewed = old + timedelta(days=90)
    assert warning_due(renewed, date(2026, 12, 9), sent) is None
    assert warning_due(renewed, renewed - timedelta(days=14), sent).days_before == 14


def test_an_expired_key_never_warned_gets_the_days_warning_late_once():
    warning = warning_due(date(2026, 12, 1), date(2026, 12, 5), [])
    assert (warning.days_before, warning.days_left) == (0, -4)
    assert warning_due(date(2026, 12, 1), date(2026, 12, 6), warning.marks) is None
    assert warning_due(None, date(2026, 12, 5), []) is None
