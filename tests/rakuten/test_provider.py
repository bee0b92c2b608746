"""The provider the connection core carries: verify with facts, state, health, rate, jobs."""

from datetime import UTC, date, datetime

import pytest

from malls import providers
from malls.alerts.states import Health
from malls.rakuten.connections import Status
from malls.rakuten.models import RakutenConnection
from malls.rakuten.provider import RAKUTEN
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


def test_it_is_the_registered_provider_with_rakutens_rate_and_jobs():
    assert providers.get("rakuten") is RAKUTEN
    assert isinstance(RAKUTEN, providers.MallProvider)
    assert RAKUTEN.connection_model is RakutenConnection
    assert RAKUTEN.rate.spacing >= 1
    assert RAKUTEN.rate.ceiling_setting == "RAKUTEN_MAX_CALLS_PER_SECOND"
    assert {job.name: job.every for job in RAKUTEN.periodic_jobs()} == {
        "re-check keys waiting to become active": 600,
        "re-read licenseKey expiry dates": 86400,
    }
    assert set(RAKUTEN.reason_labels()) >= {"unauthorised", "pending_activation", "other_shop"}


def test_rms_sends_no_notifications():
    with pytest.raises(providers.MalformedNotification):
        RAKUTEN.parse_notification({"order": "1"})


def test_advice_has_the_protocols_signature():
    text = RAKUTEN.advice("orders", "orders_not_enabled", rejected=True)
    assert "rpay.order.searchOrder" in text
    assert "demo-neighbour" in RAKUTEN.advice(
        "shop", "other_shop", rejected=True, reported_shop="demo-neighbour"
    )
