"""The trigger and the reminders: when a shop's store is e-mailed, and what.

``note_connection_change`` is the one entry point: the code that changes a
connection's status calls it inside the same transaction, so an alert is queued if
and only if the change is committed. E-mails are rows of the outbox
(``AlertMessage``), sent later by ``outbox.send_due``.

Rules:

- working -> needs the merchant opens a ``ShopAlert`` and queues one "broken" e-mail
  per member. So does neither -> needs the merchant for a shop that has worked before
  (verified -> unverified -> rejected is a break seen through a MakeShop outage).
- While an alert is open, further failures only update it: never another e-mail.
- -> working closes the open alert and queues one "fixed" e-mail per member.
- Flapping: "broken" and "fixed" e-mails wait ``ALERTS_SETTLE_SECONDS`` before they
  may be sent. A shop fixed while its "broken" e-mail still waits cancels that e-mail
  and sends no "fixed" one either: the store hears nothing of a blip. A shop that
  breaks again while its "fixed" e-mail waits cancels that one and keeps the earlier
  alert open (it was never really fixed). So a shop flapping faster than the settle
  time sends nothing until it settles, and then one e-mail for its settled state.
- Reminders: an alert still open and still needing the merchant after
  ``ALERTS_REMIND_AFTER_DAYS`` gets a reminder, at most ``ALERTS_MAX_REMINDERS``.
"""

from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from . import emails, states
from .models import AlertMessage, AlertPreference, ShopAlert
from .queueing import kick_sender
from .states import ConnectionState, Health

Kind = AlertMessage.Kind
Delivery = AlertMessage.Status


def _remind_after() -> timedelta:
    return timedelta(days=settings.ALERTS_REMIND_AFTER_DAYS)


def _settle() -> timedelta:
    return timedelta(seconds=settings.ALERTS_SETTLE_SECONDS)


def note_connection_change(connection, before: ConnectionState, after: ConnectionState,
                           *, now=None, shop=None, ever_worked=None) -> ShopAlert | None:
    """Record a connection's change of state for alerts; queue e-mails if it matters.

    Call inside the transaction that writes the change, after the write succeeded.
    ``connection`` is any row with ``shop`` (or pass ``shop``) and, unless
    ``ever_worked`` is given, ``verified_at`` (has the shop ever worked?).
    Returns the shop's open alert, if any, after the change.
    """
    if before == after:
        return None
    now = now or timezone.now()
    shop = shop or connection.shop
    mall = shop.mall.code  # the shop's mall classifies both states, whoever built them
    if not states.provider_for(mall).speaks_for_shop(connection):
        return None
    before, after = before.of_mall(mall), after.of_mall(mall)
    health_before, health_after = before.health, after.health
    with transaction.atomic():
        alert = (
            ShopAlert.objects.select_for_update().filter(shop=shop, closed_at=None).first()
        )
        if health_after == Health.WORKING:
            if alert is not None:
                _close(alert, shop, now)
            return None
        if alert is not None:
            _follow(alert, after, now)
            return alert
        if health_after != Health.NEEDS_MERCHANT:
            return None
        reopened = reopen_if_fixed_recently(shop, after)
        if reopened is not None:
            return reopened
        if ever_worked is None:
            ever_worked = getattr(connection, "verified_at", None) is not None
        if (
            health_before == Health.WORKING
            or (health_before == Health.NEITHER and ever_worked)
        ):
            return _open(shop, after, now)
    return None


def _open(shop, state, now) -> ShopAlert | None:
    remind_at = now + _remind_after() if settings.ALERTS_MAX_REMINDERS > 0 else None
    try:
        with transaction.atomic():
            alert = ShopAlert.objects.create(
                shop=shop, opened_at=now, status=state.status, reason=state.reason,
                failed_check=state.check, next_reminder_at=remind_at,
            )
    except IntegrityError:
        # Another transaction opened it first (SQLite has no row lock to wait on).
        return ShopAlert.objects.filter(shop=shop, closed_at=None).first()
    queue_shop_emails(alert, kind=Kind.BROKEN, state=state, at=now, not_before=now + _settle())
    return alert


def _follow(alert, state, now) -> None:
    """An open alert tracks the latest state, for reminders and the digest."""
    wanted = {"status": state.status, "reason": state.reason, "failed_check": state.check}
    changed = [name for name, value in wanted.items() if getattr(alert, name) != value]
    for name in changed:
        setattr(alert, name, wanted[name])
    if changed:
        alert.save(update_fields=changed)


def _close(alert, shop, now) -> None:
    alert.closed_at = now
    alert.next_reminder_at = None
    alert.save(update_fields=["closed_at", "next_reminder_at"])
    _withdraw(alert, Kind.BROKEN)
    if not alert.messages.filter(kind=Kind.BROKEN).exclude(status=Delivery.CANCELLED).exists():
        return  # a blip: nobody was told it broke, so nobody needs telling it is fixed
    state = ConnectionState(alert.status, alert.reason, alert.failed_check, shop.mall.code)
    queue_shop_emails(alert, kind=Kind.FIXED, state=state, at=now, not_before=now + _settle())


def close_for_removed_connection(shop, *, now=None) -> None:
    """The shop's settings were deleted: its open alert closes quietly (no "fixed" e-mail,
    no reminders) and a "broken" e-mail still waiting is withdrawn. Call inside the
    transaction that deletes them."""
    now = now or timezone.now()
    alert = ShopAlert.objects.select_for_update().filter(shop=shop, closed_at=None).first()
    if alert is None:
        return
    alert.closed_at = now
    alert.next_reminder_at = None
    alert.save(update_fields=["closed_at", "next_reminder_at"])
    _withdraw(alert, Kind.BROKEN)


def _withdraw(alert, kind) -> int:
    """Cancel this alert's e-mails of ``kind`` that no sender has claimed yet."""
    return alert.messages.filter(kind=kind, status=Delivery.PENDING, claimed_by="").update(
        status=Delivery.CANCELLED, last_error="withdrawn: the state changed before sending"
    )


def reopen_if_fixed_recently(shop, state) -> ShopAlert | None:
    """A shop broken again while its "fixed" e-mail waits: keep the old alert open."""
    last = ShopAlert.objects.filter(shop=shop, closed_at__isnull=False).order_by(
        "-closed_at"
    ).first()
    if last is None or not _withdraw(last, Kind.FIXED):
        return None
    if last.messages.filter(kind=Kind.FIXED).exclude(status=Delivery.CANCELLED).exists():
        return None  # some member was already told it is fixed: this is a new break
    last.closed_at = None
    last.status, last.reason, last.failed_check = state.status, state.reason, state.check
    if last.reminders_sent < settings.ALERTS_MAX_REMINDERS:
        last.next_reminder_at = last.opened_at + _remind_after()
    last.save(update_fields=["closed_at", "status", "reason", "failed_check", "next_reminder_at"])
    return last


# --- Recipients and e-mails ------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Recipient:
    user_id: int
    language: str


def store_recipients(store_id) -> list[Recipient]:
    """Active members of the store with an address who have not turned alerts off."""
    users = (
        get_user_model().objects.filter(memberships__store_id=store_id, is_active=True)
        .exclude(email="")
        .exclude(alert_preference__alerts_enabled=False)
        .values_list("pk", "alert_preference__language")
        .distinct()
        .order_by("pk")
    )
    return [Recipient(pk, language or default_language()) for pk, language in users]


def default_language() -> str:
    return AlertPreference._meta.get_field("language").default


def queue_shop_emails(alert, *, kind, state, at, not_before=None, reminder_number=0) -> int:
    """Queue one e-mail of ``kind`` about ``alert``'s shop per recipient."""
    shop = alert.shop
    recipients = store_recipients(shop.store_id)
    rendered = {}
    messages = []
    for recipient in recipients:
        if recipient.language not in rendered:
            rendered[recipient.language] = emails.render_shop_alert(
                kind=kind, language=recipient.language, shop=shop, state=state,
                opened_at=alert.opened_at, at=at, reminder_number=reminder_number,
            )
        text = rendered[recipient.language]
        messages.append(
            AlertMessage(
                recipient_id=recipient.user_id, kind=kind, shop=shop, alert=alert,
                language=recipient.language, subject=text.subject, body=text.body,
                next_attempt_at=not_before or at,
            )
        )
    AlertMessage.objects.bulk_create(messages)
    if messages:
        transaction.on_commit(lambda: kick_sender(not_before=not_before))
    return len(messages)


# --- Reminders ---------------------------------------------------------------------------

REMINDER_BATCH = 500


def queue_reminders(*, now=None) -> int:
    """Queue reminders for open alerts whose time has come; returns how many alerts.

    Each alert is claimed with a conditional UPDATE on its reminder count, so two
    runs at once remind once. An alert whose shop is no longer known to need the
    merchant (a pending re-check, MakeShop unreachable) waits another period.
    """
    now = now or timezone.now()
    maximum = settings.ALERTS_MAX_REMINDERS
    due = list(
        ShopAlert.objects.filter(closed_at=None, next_reminder_at__lte=now)
        .select_related("shop__store", "shop__mall")
        .order_by("next_reminder_at")[:REMINDER_BATCH]
    )
    reminded = 0
    for alert in due:
        state = ConnectionState(
            alert.status, alert.reason, alert.failed_check, alert.shop.mall.code
        )
        number = alert.reminders_sent + 1
        with transaction.atomic():
            if state.health != Health.NEEDS_MERCHANT or number > maximum:
                ShopAlert.objects.filter(pk=alert.pk, reminders_sent=alert.reminders_sent).update(
                    next_reminder_at=now + _remind_after() if number <= maximum else None
                )
                continue
            claimed = ShopAlert.objects.filter(
                pk=alert.pk, reminders_sent=alert.reminders_sent, closed_at=None
            ).update(
                reminders_sent=F("reminders_sent") + 1,
                next_reminder_at=now + _remind_after() if number < maximum else None,
            )
            if claimed:
                queue_shop_emails(
                    alert, kind=Kind.REMINDER, state=state, at=now, reminder_number=number
                )
                reminded += 1
    return reminded
