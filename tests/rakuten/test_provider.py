"""The provider the connection core will carry: verify with facts, state, health, rate, jobs."""

from datetime import UTC, date, datetime

import pytest

from malls.rakuten.connections import Status
from malls.rakuten.models import RakutenConnection
from malls.rakuten.provider import RAKUTEN, Health
from malls.rakuten.sandbox import SANDBOX_SERVICE_SECRET

from .conftest import keys_of

NOW = datetime(2026, 12, 5, 3, 0, tzinfo=UTC)


def test_verify_returns_the_facts(rms):
    verification = RAKUTEN.verify({"shop_url": "demo-rakuten", **keys_of("demo-rakuten")},
                                  client=rms)
    assert verification.ok
    assert verification.facts.reported_shop == "demo-rakuten"
    assert verification.facts.expires_on is not None


def test_verify_uses_goqs_secret_when_it_is_set(rms, settings):
    settings.RAKUTEN_SERVICE_SECRET = SANDBOX_SERVICE_SECRET
    values = {"shop_url": "demo-rakuten", "license_key": keys_of("demo-rakuten")["license_key"]}
    assert RAKUTEN.verify(values, client=rms).ok


@pytest.mark.parametrize(
    ("status", "expires_on", "state", "health"),
    [
        (Status.VERIFIED, date(2027, 2, 1), "verified", Health.WORKING),
        (Status.VERIFIED, date(2026, 12, 8), "verified", Health.NEEDS_MERCHANT),
        (Status.VERIFIED, date(2026, 12, 4), "expired", Health.NEEDS_MERCHANT),
        (Status.REJECTED, None, "rejected", Health.NEEDS_MERCHANT),
        (Status.PENDING_ACTIVATION, None, "pending_activation", Health.NEITHER),
        (Status.UNREACHABLE, date(2027, 2, 1), "unreachable", Health.NEITHER),
        (Status.UNSET, None, "unset", Health.NEITHER),
    ],
)
def test_state_and_health(status, expires_on, state, health):
    connection = RakutenConnection(status=status, expires_on=expires_on)
    assert RAKUTEN.state(connection, now=NOW) == state
    assert RAKUTEN.health(connection, now=NOW) is health


def test_rate_policy_and_jobs(settings):
    settings.RAKUTEN_MAX_CALLS_PER_SECOND = 4
    assert RAKUTEN.rate.slot("demo-rakuten") == "rakuten:demo-rakuten"
    assert RAKUTEN.rate.spacing_seconds >= 1
    assert RAKUTEN.rate.max_calls_per_second == 4
    assert [job.name for job in RAKUTEN.periodic_jobs] == [
        "rakuten.recheck_pending", "rakuten.refresh_expiry_dates"
    ]
    assert RAKUTEN.code == "rakuten" and RAKUTEN.connection_model is RakutenConnection
    assert set(RAKUTEN.reason_labels()) >= {"unauthorised", "pending_activation", "other_shop"}
