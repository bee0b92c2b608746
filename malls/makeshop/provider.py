"""MakeShop as the generic app sees it: the ``malls.providers.MallProvider`` for "makeshop"."""

from dataclasses import dataclass

from .. import providers
from . import notifications, verdicts
from .api import LEGACY_CHECKS, Check, CheckResult
from .legacy.client import get_client


@dataclass(frozen=True)
class MakeShopProvider:
    code: str = "makeshop"  # Mall.MAKESHOP
    name: str = "MakeShop"
    checks: tuple[Check, ...] = LEGACY_CHECKS
    settings_form: str = "malls.forms.MakeShopSettingsForm"
    settings_template: str = "malls/makeshop_settings.html"

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


MAKESHOP = providers.register(MakeShopProvider())
