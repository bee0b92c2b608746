"""The interface a mall package implements, and the registry that finds it by ``Mall.code``.

The generic app (stores, shops, statuses, history, encryption, throttling, queueing,
the list screen) knows a mall only through its ``MallProvider``; everything else
about the mall (API client, answer parsing, texts, notification format, sandbox)
stays in the mall's own package, the way an allauth provider keeps its vendor in
one place. ``malls.makeshop.provider`` is the one implementation so far.

A provider has:

- ``code`` / ``name``: the ``Mall.code`` it serves and its display name.
- ``checks``: the credentials the mall is asked about, in the order they are
  checked; each is a ``str`` enum member whose ``secret_field`` names the
  connection field holding its secret.
- ``verify(check, *, shop_id, secret, client=None)``: ask the mall whether it
  accepts ``secret``; returns a ``CheckResult`` (``check``, ``outcome``, ``reason``,
  ``message``, ``ok``; see ``VerificationResult``) and never raises. The caller
  spaces the calls (``malls.throttle``) and must not hold a transaction open.
- ``reason_label(reason)``, ``check_label(check)``, ``advice(check, reason,
  *, rejected)``: what staff and merchants read about a verdict, translated;
  ``reason_labels()`` every reason the mall can give with its label (staff filters),
  ``likely_cause(connection)`` staff's guess at why a shop that worked is refused.
- ``parse_notification(*sources)``: read one update notification from its
  parameter sources (path, body, query; earliest wins) into a ``Notification``
  (with a ``NotificationKind``), raising ``MalformedNotification`` for values the
  mall would never send. These types live here, so a mall package needs nothing
  else from the generic app.
- ``settings_form`` / ``settings_template`` (optional): the merchant's settings
  form class path and template name, or "" where the generic screens serve.

A mall package registers its provider with ``register(...)`` when imported;
``MallsConfig.ready`` imports the installed ones.
"""

from __future__ import annotations

from collections.abc import Sequence
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


@runtime_checkable
class MallProvider(Protocol):
    code: str
    name: str
    checks: Sequence[Any]
    settings_form: str
    settings_template: str

    def verify(self, check, *, shop_id: str, secret: str, client=None) -> VerificationResult: ...

    def check_label(self, check: str) -> str: ...

    def reason_label(self, reason: str) -> str: ...

    def reason_labels(self) -> dict[str, str]: ...

    def likely_cause(self, connection) -> str: ...

    def advice(self, check: str | None, reason: str | None, *, rejected: bool) -> str: ...

    def parse_notification(self, *sources) -> Any: ...


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
