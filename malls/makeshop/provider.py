"""MakeShop as the generic app sees it: the ``malls.providers.MallProvider`` for "makeshop"."""

from dataclasses import dataclass

from django.urls import reverse

from malls import providers

from . import notifications, verdicts
from .api import LEGACY_CHECKS, RATE, Check, CheckResult
from .legacy.client import get_client


@dataclass(frozen=True)
class MakeShopProvider:
    code: str = "makeshop"  # Mall.MAKESHOP
    name: str = "MakeShop"
    checks: tuple[Check, ...] = LEGACY_CHECKS
    rate: providers.RatePolicy = RATE

    @property
    def connection_model(self):
        from .models import MakeShopConnection

        return MakeShopConnection

    def urlpatterns(self) -> list:
        from .urls import urlpatterns

        return urlpatterns

    def add_url(self) -> str:
        return reverse("malls:makeshop_add")

    def list_rows(self, shop_pks) -> dict:
        from . import presenters

        return presenters.list_rows(shop_pks)

    def shop_status(self, connection):
        from . import presenters

        return presenters.shop_status(connection)

    def verify(self, check, *, shop_id: str, secret: str, client=None) -> CheckResult:
        """One check against MakeShop's legacy API (``client``: the shared one if None)."""
        return (client or get_client()).verify(Check(check), shop_id=shop_id, secret=secret)

    def check_label(self, check: str) -> str:
        return verdicts.check_label(check)

    def reason_label(self, reason: str) -> str:
        return verdicts.reason_label(reason)

    def reason_labels(self) -> dict[str, str]:
        return {reason.value: label for reason, label in verdicts.REASON_LABELS.items()}

    def likely_cause(self, connection) -> str:
        return verdicts.likely_cause(connection)

    def advice(self, check: str | None, reason: str | None, *, rejected: bool) -> str:
        return verdicts.advice(check, reason, rejected=rejected)

    def parse_notification(self, *sources) -> notifications.Notification:
        return notifications.parse_notification(*sources)

    def periodic_jobs(self) -> tuple:
        from .services.notification_urls import forget_expired_notification_tokens

        return (
            providers.PeriodicJob(
                "forget retired notification URLs", forget_expired_notification_tokens,
                every=3600,
            ),
        )

    def seed_demo(self, stores, *, add_shop, now) -> list[str]:
        from . import demo

        return demo.seed(stores, add_shop=add_shop, now=now)


MAKESHOP = providers.register(MakeShopProvider())
