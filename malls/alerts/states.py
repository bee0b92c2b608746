"""Which connection states need the merchant: the only thing an alert is about.

A state is a connection's status plus, when it failed, the reason and the check that
failed (plain strings, as stored on the connection). It falls in one of three kinds:

- WORKING: the mall accepted the settings.
- NEEDS_MERCHANT: the mall refused them, or they cannot be used, and only the merchant
  can put it right (enter a new code, reinstall an app...).
- NEITHER: nothing is known yet (pending, unverified because the mall could not be
  reached); waiting may settle it without anyone doing anything.

The tables below are keyed by strings so that a mall package can add its own statuses
and reasons (see ``register``) without this module naming them. A reason overrides the
status: a mall may report a retired API as "unverified" with its own reason.
"""

from dataclasses import dataclass
from enum import StrEnum


class Health(StrEnum):
    WORKING = "working"
    NEEDS_MERCHANT = "needs_merchant"
    NEITHER = "neither"


# The generic statuses of a connection (MakeShopConnection.Status values today).
BY_STATUS: dict[str, Health] = {
    "verified": Health.WORKING,
    "rejected": Health.NEEDS_MERCHANT,
    "unset": Health.NEITHER,
    "pending": Health.NEITHER,
    "unverified": Health.NEITHER,
}

# Reasons that decide by themselves, whatever the status says. A saved secret that can
# no longer be decrypted is generic (our key, not the mall), so it is named here.
BY_REASON: dict[str, Health] = {
    "unreadable": Health.NEEDS_MERCHANT,
}


def register(*, statuses: dict[str, Health] | None = None,
             reasons: dict[str, Health] | None = None) -> None:
    """Let a mall package classify its own statuses and reasons."""
    BY_STATUS.update(statuses or {})
    BY_REASON.update(reasons or {})


@dataclass(frozen=True, slots=True)
class ConnectionState:
    """What alerts need to know of a connection at one moment; holds no secret."""

    status: str
    reason: str = ""
    check: str = ""

    @property
    def health(self) -> Health:
        return classify(self.status, self.reason)


def classify(status: str, reason: str = "") -> Health:
    by_status = BY_STATUS.get(status, Health.NEITHER)
    if by_status == Health.WORKING:
        # A success carries no reason; a stale one left on the row must not count.
        return by_status
    return BY_REASON.get(reason, by_status) if reason else by_status


def state_of(connection) -> ConnectionState:
    """The state of a connection row (any mall's, with ``status``/``failure_reason``)."""
    return ConnectionState(
        status=str(connection.status),
        reason=str(getattr(connection, "failure_reason", "") or ""),
        check=str(getattr(connection, "failed_check", "") or ""),
    )


@dataclass(frozen=True, slots=True)
class Description:
    """A state in the recipient's words: what it is, and what to do about it."""

    label: str
    advice: str = ""


def _generic_description(state: ConnectionState) -> Description:
    return Description(state.status)


def _generic_shop_path(shop) -> str:
    from django.urls import reverse

    return reverse("malls:mall_list")


@dataclass(frozen=True, slots=True)
class MallAlerts:
    """What a mall package tells alerts about its shops.

    ``describe(state)`` is called with the recipient's language active and should
    return the same label and advice as the mall's screens; ``shop_path(shop)`` is the
    path of the shop's page on the merchant screens. ``speaks_for_shop(row)`` says
    whether a change of ``row`` is the shop's (False when the shop is served by another
    of the mall's connections, e.g. MakeShop's app while its auth codes fail).
    """

    describe: object = _generic_description
    shop_path: object = _generic_shop_path
    speaks_for_shop: object = staticmethod(lambda row: True)


PROVIDERS: dict[str, MallAlerts] = {}


def register_mall(
    mall_code: str, *, describe, shop_path, statuses=None, reasons=None, speaks_for_shop=None
) -> None:
    """Register a mall's texts and link, and classify its own statuses and reasons."""
    PROVIDERS[mall_code] = MallAlerts(
        describe=describe, shop_path=shop_path,
        **({"speaks_for_shop": speaks_for_shop} if speaks_for_shop else {}),
    )
    register(statuses=statuses, reasons=reasons)


def provider_for(mall_code: str) -> MallAlerts:
    return PROVIDERS.get(mall_code) or MallAlerts()
