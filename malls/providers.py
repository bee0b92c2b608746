"""The interface a mall package implements, and the registry that finds it by ``Mall.code``.

The generic core (stores, shops, connections' common fields, history, encryption,
call slots, queueing, alerts, the list screen) knows a mall only through its
``MallProvider``; everything else about the mall (its connection model, API client,
answer parsing, verification, texts, screens, notification format, sandbox) stays in
the mall's own package, which is an installed Django app, the way an allauth
provider keeps its vendor in one place. ``malls.makeshop`` is one; the tests add a
dummy mall (``tests/dummymall``) to prove the core needs nothing else.

A provider has:

- ``code`` / ``name``: the ``Mall.code`` it serves and its display name.
- ``connection_model``: its connection, a ``malls.models.Connection`` whose secrets
  are ``EncryptedSecretField``s (rotated, checked and masked in history by type).
- ``rate``: a ``RatePolicy`` for its call slots (per-shop spacing, global ceiling).
- ``urlpatterns()`` / ``add_url()``: its merchant screens, included under the
  ``malls`` namespace, and where a merchant adds a shop ("" if not here).
- ``list_rows(shop_pks)``: a ``malls.presenters.MallRow`` per shop for
  出店中のモール一覧, in a constant number of queries; ``shop_status(connection)``:
  the one state every list (merchant's and staff's) shows for a connection.
- ``reason_label(reason)``, ``check_label(check)``, ``advice(check, reason,
  *, rejected)``: what staff and merchants read about a verdict, translated;
  ``reason_labels()`` every reason the mall can give with its label (staff filters),
  ``likely_cause(connection)`` staff's guess at why a shop that worked is refused.
- ``parse_notification(*sources)``: read one update notification from its
  parameter sources (path, body, query; earliest wins) into a ``Notification``
  (with a ``NotificationKind``), raising ``MalformedNotification`` for values the
  mall would never send.
- ``periodic_jobs()``: ``PeriodicJob``s to run on a schedule.

A mall's app registers its provider with ``register(...)`` in its ``ready()``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

from django.db import models
from django.utils.translation import gettext_lazy as _

# How much of a notification's command is kept (``NotificationEvent.raw_command``).
RAW_COMMAND_MAX_LENGTH = 40


class NotificationKind(models.TextChoices):
    """What an update notification says happened to an order (``NotificationEvent.kind``)."""

    NEW_ORDER = "new_order", _("New order")
    ORDER_EDITED = "order_edited", _("Order edited")
    ORDER_CANCELLED = "order_cancelled", _("Order cancelled")
    PAYMENT_COMPLETED = "payment_completed", _("Payment completed")
    DELIVERY_COMPLETED = "delivery_completed", _("Delivery completed")
    OTHER = "other", _("Other")


@dataclass(frozen=True)
class Notification:
    """What one notification says; empty strings where the mall sent nothing usable."""

    shop_id: str = ""
    order_number: str = ""
    kind: str = NotificationKind.OTHER
    raw_command: str = ""


class NotificationRejected(Exception):
    """A notification refused before anything is recorded.

    ``status`` is the HTTP answer the mall gets (with no detail); the message is for
    our log only.
    """

    status = 400


class MalformedNotification(NotificationRejected):
    """A value is not something the mall would send (bad order number, unreadable body)."""


@runtime_checkable
class VerificationResult(Protocol):
    """What ``MallProvider.verify`` returns: safe to log, show and store."""

    check: str
    outcome: str  # "accepted", "rejected" (the merchant must act), "unreachable", "unexpected"
    reason: str | None  # the mall's reason code; None when accepted
    message: str  # the mall's own words, secrets removed

    @property
    def ok(self) -> bool: ...


@dataclass(frozen=True)
class RatePolicy:
    """How fast a mall may be called: per shop, and all of GoQ's calls together.

    Slots are keyed ``"<mall code>:<shop id>"`` (``malls.throttle``), so two malls'
    shops with the same ID never share one; ``ceiling_setting`` names the setting
    with the mall's ceiling in calls per second (0 turns it off).
    """

    spacing: float = 1.0
    ceiling_setting: str = ""
    default_ceiling: float = 10.0


@dataclass(frozen=True)
class PeriodicJob:
    """A job a mall wants run on a schedule (e.g. a daily expiry re-read): ``manage.py
    housekeeping`` runs it at most once per ``every`` seconds, whatever calls it."""

    name: str
    run: Callable[[], object]
    every: int


@runtime_checkable
class MallProvider(Protocol):
    """What a mall package gives the generic core; see the module docstring."""

    code: str
    name: str
    rate: RatePolicy

    @property
    def connection_model(self) -> type[models.Model]: ...

    def urlpatterns(self) -> list: ...

    def add_url(self) -> str: ...

    def list_rows(self, shop_pks) -> dict: ...

    def shop_status(self, connection) -> Any: ...

    def check_label(self, check: str) -> str: ...

    def reason_label(self, reason: str) -> str: ...

    def reason_labels(self) -> dict[str, str]: ...

    def likely_cause(self, connection) -> str: ...

    def advice(self, check: str | None, reason: str | None, *, rejected: bool) -> str: ...

    def parse_notification(self, *sources) -> Any: ...

    def periodic_jobs(self) -> Sequence[PeriodicJob]: ...


_registry: dict[str, MallProvider] = {}


def register(provider: MallProvider) -> MallProvider:
    """Make ``provider`` the one for its ``code``; registering it again is harmless."""
    current = _registry.get(provider.code)
    if current is not None and current is not provider:
        raise ValueError(f"A provider for mall {provider.code!r} is already registered")
    _registry[provider.code] = provider
    return provider


def get(code: str) -> MallProvider:
    """The provider of the mall with this ``Mall.code``; LookupError if there is none."""
    try:
        return _registry[code]
    except KeyError:
        raise LookupError(f"No provider is registered for mall {code!r}") from None


def registered() -> dict[str, MallProvider]:
    """Every registered provider by mall code (a copy)."""
    return dict(_registry)
