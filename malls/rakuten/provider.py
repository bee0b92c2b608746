"""Rakuten as the generic app sees it: the ``malls.providers.MallProvider`` for "rakuten".

Registered by ``RakutenConfig.ready()``. RMS sends no update notifications, so
``parse_notification`` refuses everything. ``sandbox_routes`` mounts the RMS
stand-in in the bundled sandbox (``make run``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.conf import settings
from django.urls import reverse
from django.utils.translation import pgettext_lazy

from malls import providers
from malls.alerts.states import Health

from . import connections, presenters, tasks, verdicts
from .api import CHECKS, Check, Reason, Verification
from .client import RATE, get_client
from .connections import ExpiryState, Status


@dataclass(frozen=True)
class RakutenProvider:
    code: str = "rakuten"  # Mall.code
    name: str = pgettext_lazy("mall", "Rakuten Ichiba")
    checks: tuple[Check, ...] = CHECKS
    rate: providers.RatePolicy = RATE

    @property
    def connection_model(self):
        from .models import RakutenConnection

        return RakutenConnection

    def urlpatterns(self) -> list:
        from .urls import urlpatterns

        return urlpatterns

    def add_url(self) -> str:
        return reverse("malls:rakuten_add")

    def list_rows(self, shop_pks) -> dict:
        return presenters.list_rows(shop_pks)

    def shop_status(self, connection):
        return presenters.shop_status(connection)

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

    def likely_cause(self, connection) -> str:
        return verdicts.likely_cause(connection)

    def advice(self, check: str | None, reason: str | None, *, rejected: bool,
               reported_shop: str = "") -> str:
        """``reported_shop``: the shop RMS named, for keys of another shop."""
        return verdicts.advice(reason, rejected=rejected, reported_shop=reported_shop)

    def parse_notification(self, *sources):
        raise providers.MalformedNotification("RMS sends no update notifications")

    def periodic_jobs(self) -> tuple[providers.PeriodicJob, ...]:
        return (
            providers.PeriodicJob(
                "re-check keys waiting to become active", tasks.recheck_pending,
                every=int(connections.RECHECK_EVERY.total_seconds()),
            ),
            providers.PeriodicJob(
                "re-read licenseKey expiry dates", tasks.refresh_expiry_dates, every=24 * 3600,
            ),
            # The expiry warnings' job (alert e-mails, 14/7/3/1/0 days before) goes here.
        )

    def sandbox_routes(self) -> list:
        """The RMS stand-in for the bundled sandbox (``malls.sandbox``): a fresh emulator
        under ``/es/``, the paths RMS serves, so the base URL is the sandbox's own."""
        from .sandbox import RmsEmulator
        from .sandbox.emulator import PREFIX

        return [(PREFIX, RmsEmulator())]

    def seed_demo(self, stores, *, add_shop, now) -> list[str]:
        from . import demo

        return demo.seed(stores, add_shop=add_shop, now=now)

    # --- Rakuten's own ---------------------------------------------------------------------

    def state(self, connection, *, now=None) -> str:
        """The state word every screen shows (``presenters.state``)."""
        return presenters.state(connection, now=now)

    def expiry(self, connection, *, now=None) -> connections.Expiry:
        return presenters.expiry_of(connection, now=now)

    def health(self, connection, *, now=None) -> Health:
        """Whether the shop works, needs its merchant (refused, expired, expiring) or
        neither yet (unset, pending, RMS unreachable)."""
        word = self.state(connection, now=now)
        if word in (presenters.EXPIRED, presenters.MUST_REENTER, Status.REJECTED):
            return Health.NEEDS_MERCHANT
        if word == Status.VERIFIED:
            if self.expiry(connection, now=now).state is ExpiryState.EXPIRING:
                return Health.NEEDS_MERCHANT
            return Health.WORKING
        return Health.NEITHER

    def is_refusal(self, reason: str) -> bool:
        known = Reason.of(reason)
        return known is not None and known.outcome == "rejected"


RAKUTEN = providers.register(RakutenProvider())
