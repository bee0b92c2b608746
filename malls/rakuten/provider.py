"""Rakuten as the connection core sees it: one provider object, kept thin.

The core's final interface is being reshaped; this object offers what it will need
(the second-mall test in the architecture review): the checks, a verification with
facts, labels and advice, a state word and health for a connection, the rate policy
and the periodic jobs. The lead adapts it when the core's registry lands.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum

from django.conf import settings
from django.utils import timezone

from . import connections, tasks, verdicts
from .api import CHECKS, Check, Reason, Verification
from .client import get_client
from .connections import ExpiryState, Status
from .models import RakutenConnection


class Health(StrEnum):
    WORKING = "working"
    NEEDS_MERCHANT = "needs_merchant"  # the merchant must act (refused, expired, expiring)
    NEITHER = "neither"  # nothing to do yet: unset, pending, or waiting for RMS


@dataclass(frozen=True)
class RatePolicy:
    """How the core's throttle spaces calls to RMS: per shop, and all shops together."""

    spacing_seconds: float = 1.0
    slot_prefix: str = "rakuten:"
    ceiling_setting: str = "RAKUTEN_MAX_CALLS_PER_SECOND"

    def slot(self, shop_url: str) -> str:
        return f"{self.slot_prefix}{shop_url}"

    @property
    def max_calls_per_second(self) -> float:
        return float(getattr(settings, self.ceiling_setting))


@dataclass(frozen=True)
class PeriodicJob:
    name: str
    every: timedelta
    run: object  # a callable taking keyword arguments now= and client=


@dataclass(frozen=True)
class RakutenProvider:
    code: str = "rakuten"  # Mall.code
    name: str = "楽天市場"
    connection_model: type = RakutenConnection
    checks: tuple[Check, ...] = CHECKS
    settings_form: str = "malls.rakuten.forms.RakutenSettingsForm"
    settings_template: str = "rakuten/settings.html"
    rate: RatePolicy = field(default_factory=RatePolicy)
    periodic_jobs: tuple[PeriodicJob, ...] = (
        PeriodicJob("rakuten.recheck_pending", connections.RECHECK_EVERY, tasks.recheck_pending),
        PeriodicJob("rakuten.refresh_expiry_dates", timedelta(days=1),
                    tasks.refresh_expiry_dates),
    )

    def verify(self, values: dict, *, now: datetime | None = None, client=None) -> Verification:
        """Ask RMS about ``values`` (shop_url, license_key, and service_secret unless GoQ's
        product holds it; known_expires_on optional); never raises."""
        return (client or get_client()).verify(
            service_secret=settings.RAKUTEN_SERVICE_SECRET or values.get("service_secret", ""),
            license_key=values["license_key"],
            shop_url=values["shop_url"],
            now=now,
            known_expires_on=values.get("known_expires_on"),
        )

    def check_label(self, check: str) -> str:
        return verdicts.check_label(check)

    def reason_label(self, reason: str) -> str:
        return verdicts.reason_label(reason)

    def reason_labels(self) -> dict[str, str]:
        return {reason.value: str(label) for reason, label in verdicts.REASON_LABELS.items()}

    def advice(self, connection: RakutenConnection) -> str:
        return verdicts.advice(
            connection.failure_reason,
            rejected=connection.status == Status.REJECTED,
            reported_shop=connection.reported_shop,
        )

    def likely_cause(self, connection: RakutenConnection) -> str:
        return verdicts.likely_cause(connection)

    def expiry(self, connection: RakutenConnection, *, now=None) -> connections.Expiry:
        today = connections.japan_today(now or timezone.now())
        return connections.expiry(connection.expires_on, today)

    def state(self, connection: RakutenConnection | None, *, now=None) -> str:
        """The connection's state word: its status, except that an expired key is
        "expired" whatever was last verified."""
        if connection is None:
            return Status.UNSET
        if self.expiry(connection, now=now).state is ExpiryState.EXPIRED:
            return ExpiryState.EXPIRED
        return connection.status

    def health(self, connection: RakutenConnection | None, *, now=None) -> Health:
        if connection is None:
            return Health.NEITHER
        state = self.state(connection, now=now)
        if state in (ExpiryState.EXPIRED, Status.REJECTED):
            return Health.NEEDS_MERCHANT
        if state == Status.VERIFIED:
            if self.expiry(connection, now=now).state is ExpiryState.EXPIRING:
                return Health.NEEDS_MERCHANT
            return Health.WORKING
        return Health.NEITHER

    def is_refusal(self, reason: str) -> bool:
        known = Reason.of(reason)
        return known is not None and known.outcome == "rejected"


RAKUTEN = RakutenProvider()
