"""Sending the outbox: each queued e-mail exactly once, whichever worker sends it.

A sender claims due messages before sending them: on PostgreSQL with
``SELECT ... FOR UPDATE SKIP LOCKED`` (concurrent senders take different rows without
waiting), elsewhere (SQLite) with one conditional UPDATE per row, which only one
sender can win. A claim is a lease (``claimed_until``): a sender that dies mid-batch
leaves its messages to be claimed again once the lease runs out. Every outcome is
written back only by the sender holding the claim.

When the mail server fails for a reason that may pass (refused or dropped
connection, timeout, a 4xx answer) the message stays pending and is tried again
after an exponential back-off; the rest of the batch waits as long, without counting
an attempt. A permanent refusal (5xx) or ``ALERTS_MAX_ATTEMPTS`` attempts mark it
failed; staff can retry it from the admin. Errors are stored as a class name and an
SMTP code only, never a server's text, which could echo an address or a credential.
"""

import logging
import smtplib
import uuid
from dataclasses import dataclass, field
from datetime import timedelta

from django.conf import settings
from django.core.mail import EmailMessage, mailers
from django.db import connections, router, transaction
from django.db.models import F, Q
from django.utils import timezone

from .models import AlertMessage, AlertPreference

logger = logging.getLogger("malls.alerts")

Delivery = AlertMessage.Status
Kind = AlertMessage.Kind

BATCH_SIZE = 20
BACKOFF_BASE = timedelta(minutes=1)
BACKOFF_CAP = timedelta(hours=6)


@dataclass
class SendReport:
    sent: int = 0
    retrying: int = 0
    failed: int = 0
    cancelled: int = 0
    next_attempt_at: object = None
    errors: list[str] = field(default_factory=list)


def backoff(attempts: int) -> timedelta:
    """Wait before attempt ``attempts + 1``: 1, 2, 4 ... minutes, at most 6 hours."""
    return min(BACKOFF_BASE * (2 ** max(attempts - 1, 0)), BACKOFF_CAP)


def _lease() -> timedelta:
    # Long enough for a whole batch of slow answers, so no one else takes a message
    # while its claim holder is still sending it.
    options = settings.MAILERS.get("default", {}).get("OPTIONS", {})
    return timedelta(seconds=BATCH_SIZE * ((options.get("timeout") or 30) + 5))


def due(now):
    return AlertMessage.objects.filter(
        Q(claimed_until__isnull=True) | Q(claimed_until__lt=now),
        status=Delivery.PENDING,
        next_attempt_at__lte=now,
    )


def claim(*, worker: str, now, limit: int = BATCH_SIZE) -> list[int]:
    """Claim up to ``limit`` due messages for ``worker``; returns their ids."""
    db = connections[router.db_for_write(AlertMessage)]
    ordered = due(now).order_by("next_attempt_at", "pk")
    lease = {"claimed_by": worker, "claimed_until": now + _lease()}
    if db.features.has_select_for_update_skip_locked:
        with transaction.atomic():
            ids = list(
                ordered.select_for_update(skip_locked=True).values_list("pk", flat=True)[:limit]
            )
            AlertMessage.objects.filter(pk__in=ids).update(**lease)
        return ids
    candidates = list(ordered.values_list("pk", flat=True)[:limit])
    return [pk for pk in candidates if due(now).filter(pk=pk).update(**lease)]


def _finish(message, worker, **changes) -> bool:
    """Write a message's outcome if ``worker`` still holds it."""
    return bool(
        AlertMessage.objects.filter(pk=message.pk, claimed_by=worker).update(
            claimed_by="", claimed_until=None, **changes
        )
    )


def _error_text(exc: BaseException) -> str:
    code = getattr(exc, "smtp_code", None)
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        codes = sorted({str(answer[0]) for answer in exc.recipients.values()})
        return f"{type(exc).__name__} {','.join(codes)}"
    return f"{type(exc).__name__} {code}" if code else type(exc).__name__


def _is_permanent(exc: BaseException) -> bool:
    """Only a refusal of this message (its recipient or its content) is final.

    A refused sender or sign-in is our configuration, not the message: it is retried
    like an outage until it is put right or the attempts run out.
    """
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        return all(answer[0] >= 500 for answer in exc.recipients.values())
    return isinstance(exc, smtplib.SMTPDataError) and exc.smtp_code >= 500


def _why_not_send(message) -> str:
    user = message.recipient
    if not user.is_active:
        return "cancelled: the user is inactive"
    if not user.email:
        return "cancelled: the user has no e-mail address"
    if message.kind != Kind.DIGEST:
        try:
            enabled = user.alert_preference.alerts_enabled
        except AlertPreference.DoesNotExist:
            enabled = True
        if not enabled:
            return "cancelled: the user turned alerts off"
    return ""


def build_email(message) -> EmailMessage:
    """The e-mail for ``message``: its own subject and body, no other data."""
    from .emails import preferences_url

    return EmailMessage(
        subject=message.subject,
        body=message.body,
        from_email=settings.ALERTS_FROM_EMAIL,
        to=[message.recipient.email],
        headers={
            "Auto-Submitted": "auto-generated",
            "X-Auto-Response-Suppress": "All",
            "List-Unsubscribe": f"<{preferences_url()}>",
            "Content-Language": message.language,
        },
    )


def send_due(*, worker: str | None = None, now=None, max_batches: int = 50) -> SendReport:
    """Send every due message (in batches); returns what happened."""
    worker = worker or uuid.uuid4().hex
    report = SendReport()
    for _ in range(max_batches):
        moment = now or timezone.now()
        ids = claim(worker=worker, now=moment)
        if not ids:
            break
        if not _send_batch(ids, worker, moment, report):
            break
    pending = AlertMessage.objects.filter(status=Delivery.PENDING).order_by("next_attempt_at")
    report.next_attempt_at = pending.values_list("next_attempt_at", flat=True).first()
    return report


def _send_batch(ids, worker, now, report) -> bool:
    """Send one claimed batch; False when the mail server failed and the rest must wait."""
    messages = list(
        AlertMessage.objects.filter(pk__in=ids, claimed_by=worker)
        .select_related("recipient", "recipient__alert_preference")
        .order_by("next_attempt_at", "pk")
    )
    smtp = mailers.default
    try:
        for index, message in enumerate(messages):
            why_not = _why_not_send(message)
            if why_not:
                _finish(message, worker, status=Delivery.CANCELLED, last_error=why_not)
                report.cancelled += 1
                continue
            try:
                smtp.send_messages([build_email(message)])
            except (smtplib.SMTPException, OSError) as exc:
                _failed(message, worker, exc, now, report)
                if not _is_permanent(exc):
                    # The server is down or busy: the others wait as long, unattempted.
                    rest = [other.pk for other in messages[index + 1:]]
                    AlertMessage.objects.filter(pk__in=rest, claimed_by=worker).update(
                        claimed_by="", claimed_until=None,
                        next_attempt_at=now + backoff(message.attempts + 1),
                    )
                    return False
                continue
            if _finish(message, worker, status=Delivery.SENT, sent_at=timezone.now(),
                       attempts=F("attempts") + 1, last_error=""):
                report.sent += 1
    finally:
        try:
            smtp.close()
        except (smtplib.SMTPException, OSError):
            pass
    return True


def _failed(message, worker, exc, now, report) -> None:
    attempts = message.attempts + 1
    error = _error_text(exc)
    report.errors.append(error)
    if _is_permanent(exc) or attempts >= settings.ALERTS_MAX_ATTEMPTS:
        _finish(message, worker, status=Delivery.FAILED, attempts=attempts, last_error=error)
        report.failed += 1
        logger.warning("Alert e-mail %s failed for good: %s", message.pk, error)
    else:
        _finish(message, worker, attempts=attempts, last_error=error,
                next_attempt_at=now + backoff(attempts))
        report.retrying += 1
        logger.info("Alert e-mail %s will be retried: %s", message.pk, error)


def retry_now(queryset, *, now=None) -> int:
    """Put failed or waiting messages back in line for the next sender (staff action)."""
    return queryset.filter(status__in=[Delivery.FAILED, Delivery.PENDING]).update(
        status=Delivery.PENDING, next_attempt_at=now or timezone.now(),
        claimed_by="", claimed_until=None,
    )
