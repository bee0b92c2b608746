"""What e-mail alerts need to know of MakeShop: its states, its texts, its shop page.

Registered from ``MallsConfig.ready``. The labels and advice are the ones the merchant
screens show (``malls.makeshop.verdicts`` and the connection's status labels).
"""

from django.urls import reverse
from django.utils.translation import gettext as _

from malls.alerts import states
from malls.alerts.states import ConnectionState, Description, Health

from .api import Reason

MALL_CODE = "makeshop"

# MakeShop's own statuses and reasons beyond the generic ones (verified, rejected,
# pending, unverified, unset; unreadable), for MakeShop's shops only. Names follow the
# new-API work (issue 13); a status or reason not listed here falls back to the
# generic table.
STATUSES = {
    # MakeShopAppInstallation.State (new API): verified and rejected are generic.
    "uninstalled": Health.NEEDS_MERCHANT,  # the MakeShop app was uninstalled
    "installed": Health.NEITHER,  # installed, token not verified yet
    "unreachable": Health.NEITHER,
    "waiting_install": Health.NEITHER,  # not connected yet: nothing broke
}
REASONS = {
    "legacy_api_retired": Health.NEEDS_MERCHANT,  # the legacy API is gone for this shop
    "app_uninstalled": Health.NEEDS_MERCHANT,
    "uninstalled": Health.NEEDS_MERCHANT,
    Reason.UNREADABLE.value: Health.NEEDS_MERCHANT,  # a saved secret cannot be decrypted
}
# Every reason under the "rejected" status (token_rejected, login_refused, not_enabled)
# needs the merchant through the generic status table.


def describe(state: ConnectionState) -> Description:
    """The status label and advice the merchant screens show for ``state``."""
    from malls.makeshop.models import MakeShopConnection

    from .verdicts import advice, check_label, reason_label

    Status = MakeShopConnection.Status
    if state.reason == Reason.UNREADABLE:
        return Description(
            reason_label(Reason.UNREADABLE), advice(state.check, state.reason, rejected=True)
        )
    if state.status == "uninstalled" or state.reason in ("uninstalled", "app_uninstalled"):
        return Description(
            _("The MakeShop app was uninstalled"),
            _("Install GoQ's app in MakeShop again, then check the shop's page in GoQSystem."),
        )
    if state.reason == "legacy_api_retired":
        return Description(
            _("MakeShop's legacy API no longer answers"),
            _("Connect the shop through GoQ's MakeShop app (MakeShop's new API) on the shop's "
              "page in GoQSystem."),
        )
    if state.status not in Status.values:
        return Description(state.status)
    label = str(Status(state.status).label)
    if state.status in (Status.VERIFIED, Status.UNSET, Status.PENDING):
        return Description(label)
    text = advice(state.check, state.reason, rejected=state.status == Status.REJECTED)
    if check_label(state.check):
        text = f"{check_label(state.check)}: {text}"
    return Description(label, text)


def shop_path(shop) -> str:
    return reverse("malls:makeshop_settings", args=[shop.pk])


def speaks_for_shop(row) -> bool:
    """A legacy connection's changes stop speaking for the shop once the shop uses the
    app (its installation verified): the merchant may even have removed the auth codes.
    The installation's own changes always speak for it."""
    from malls.makeshop.models import MakeShopConnection

    from .app import usage

    if not isinstance(row, MakeShopConnection):
        return True
    return usage.api_of(row) != usage.APP


def register() -> None:
    states.register_mall(
        MALL_CODE, describe=describe, shop_path=shop_path, statuses=STATUSES, reasons=REASONS,
        speaks_for_shop=speaks_for_shop,
    )
