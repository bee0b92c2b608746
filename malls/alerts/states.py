"""Which connection states need the merchant: the only thing an alert is about.

A state is a connection's status plus, when it failed, the reason and the check that
failed (plain strings, as stored on the connection), and the mall whose words they
are. It falls in one of three kinds:

- WORKING: the mall accepted the settings.
- NEEDS_MERCHANT: the mall refused them, or they cannot be used, and only the merchant
  can put it right (enter a new code, reinstall an app...).
- NEITHER: nothing is known yet (pending, unverified because the mall could not be
  reached); waiting may settle it without anyone doing anything.

Each mall classifies its own statuses and reasons (``register_mall``), on top of the
generic words every connection uses, so one mall's "uninstalled" never decides
another's. A reason overrides the status: a mall may report a retired API as
"unverified" with its own reason.
"""

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from enum import StrEnum
from types import MappingProxyType

from malls import providers


class Health(StrEnum):
    WORKING = "working"
    NEEDS_MERCHANT = "needs_merchant"
    NEITHER = "neither"


# The statuses every connection may have (``malls.models.Connection``'s words).
GENERIC_STATUSES: Mapping[str, Health] = MappingProxyType({
    "verified": Health.WORKING,
    "rejected": Health.NEEDS_MERCHANT,
    "unset": Health.NEITHER,
    "pending": Health.NEITHER,
    "unverified": Health.NEITHER,
})

# Reasons that decide by themselves, whatever the status says. A saved secret that can
# no longer be decrypted is generic (our key, not the mall), so it is named here.
GENERIC_REASONS: Mapping[str, Health] = MappingProxyType({
    "unreadable": Health.NEEDS_MERCHANT,
})


@dataclass(frozen=True, slots=True)
class ConnectionState:
    """What alerts need to know of a connection at one moment; holds no secret.

    ``mall`` is the ``Mall.code`` whose rules classify it ("" for the generic words
    only); it is not part of equality: the same words before and after a save are no
    change, whoever filled in the mall.
    """

    status: str
    reason: str = ""
    check: str = ""
    mall: str = field(default="", compare=False)

    @property
    def health(self) -> Health:
        return classify(self.status, self.reason, mall=self.mall)

    def of_mall(self, mall_code: str) -> "ConnectionState":
        return self if self.mall == mall_code else replace(self, mall=mall_code)


def classify(status: str, reason: str = "", *, mall: str = "") -> Health:
    """The kind of ``status``/``reason`` by ``mall``'s rules (the generic ones for "")."""
    return provider_for(mall).classify(status, reason)


def state_of(connection) -> ConnectionState:
    """The state of a connection row (any mall's, with ``status``/``failure_reason``)."""
    return ConnectionState(
        status=str(connection.status),
        reason=str(getattr(connection, "failure_reason", "") or ""),
        check=str(getattr(connection, "failed_check", "") or ""),
        mall=mall_of(connection),
    )


def mall_of(connection) -> str:
    """The ``Mall.code`` a connection row belongs to, known from its model (no query):
    a provider's ``connection_model``, or a model a mall registered with alerts."""
    label = type(connection)._meta.concrete_model._meta.label_lower
    for code, mall in PROVIDERS.items():
        if label in mall.connection_models:
            return code
    for code, provider in providers.registered().items():
        if provider.connection_model._meta.label_lower == label:
            return code
    return ""


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


def _speaks_for_every_row(row) -> bool:
    return True


@dataclass(frozen=True, slots=True)
class MallAlerts:
    """What a mall package tells alerts about its shops.

    ``describe(state)`` is called with the recipient's language active and should
    return the same label and advice as the mall's screens; ``shop_path(shop)`` is the
    path of the shop's page on the merchant screens. ``speaks_for_shop(row)`` says
    whether a change of ``row`` is the shop's (False when the shop is served by another
    of the mall's connections, e.g. MakeShop's app while its auth codes fail).
    ``statuses``/``reasons`` classify the mall's words (the generic ones included);
    ``connection_models`` are the models (``app_label.model``) whose rows are the
    mall's besides its provider's ``connection_model``. ``queue_due_notices(now)``, if
    given, queues the mall's notices due at ``now`` (``malls.alerts.notices``) and
    returns how many; ``manage.py send_alerts`` runs it. ``digest_upcoming(now,
    limit)``, if given, returns ``digest.Upcoming`` items for the staff digest, in a
    constant number of queries.
    """

    describe: object = _generic_description
    shop_path: object = _generic_shop_path
    speaks_for_shop: object = _speaks_for_every_row
    statuses: Mapping[str, Health] = GENERIC_STATUSES
    reasons: Mapping[str, Health] = GENERIC_REASONS
    connection_models: frozenset[str] = frozenset()
    queue_due_notices: object = None
    digest_upcoming: object = None

    def classify(self, status: str, reason: str = "") -> Health:
        by_status = self.statuses.get(status, Health.NEITHER)
        if by_status == Health.WORKING:
            # A success carries no reason; a stale one left on the row must not count.
            return by_status
        return self.reasons.get(reason, by_status) if reason else by_status


PROVIDERS: dict[str, MallAlerts] = {}


def register_mall(
    mall_code: str, *, describe, shop_path, statuses=None, reasons=None, speaks_for_shop=None,
    connection_models=(), queue_due_notices=None, digest_upcoming=None,
) -> MallAlerts:
    """Register a mall's texts, link and rules: its own statuses and reasons are
    classified for its shops only, on top of the generic ones."""
    mall = MallAlerts(
        describe=describe,
        shop_path=shop_path,
        speaks_for_shop=speaks_for_shop or _speaks_for_every_row,
        statuses=MappingProxyType({**GENERIC_STATUSES, **(statuses or {})}),
        reasons=MappingProxyType({**GENERIC_REASONS, **(reasons or {})}),
        connection_models=frozenset(label.lower() for label in connection_models),
        queue_due_notices=queue_due_notices,
        digest_upcoming=digest_upcoming,
    )
    PROVIDERS[mall_code] = mall
    return mall


def provider_for(mall_code: str) -> MallAlerts:
    """The mall's registration; an unknown mall gets the generic texts and rules."""
    return PROVIDERS.get(mall_code) or _GENERIC


_GENERIC = MallAlerts()
