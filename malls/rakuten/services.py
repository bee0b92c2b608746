"""A Rakuten shop's settings: saved after RMS is asked, and kept up to date in the background.

``save_settings`` is the only way a merchant's keys are written. RMS is asked first,
outside any transaction; then, on the locked row:

- accepted, or refused within the pending window (``pending_activation``): written
  with RMS's facts (expiry date, shop);
- refused: nothing typed is written (the keys in use stay as they were) and the result
  says why; when nothing was changed, the refusal of the saved settings is recorded;
- no verdict (RMS unreachable or unreadable): written as 未確認 and re-checked later,
  unless it would replace keys RMS had verified; then the saved keys are kept and the
  result asks the merchant whether to keep the new ones anyway (``keep_unverified``).

``recheck`` and ``refresh_expiry`` are the background jobs' single-shop steps. No
function here raises because RMS failed: RMS's failures are results.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.views.decorators.debug import sensitive_variables

from malls.alerts.services import note_connection_change
from malls.alerts.states import state_of as alert_state
from malls.crypto import DecryptionError
from malls.models import ChangeRecord
from malls.services.history import SECRET_CHANGED, record_change

from . import api, connections
from .api import Outcome, Verification
from .client import get_client
from .connections import Classification, Status
from .models import RakutenConnection, clean_key, validate_shop_url

# The history key of a status change: its own name, so that staff read Rakuten's
# labels (``admin.py``), not those of another mall's ``status`` field.
STATUS_KEY = "rakuten_status"


class ConcurrentEditError(Exception):
    """The settings changed after the form was opened; the later save is refused."""


@dataclass(frozen=True)
class SaveResult:
    """What a save did. ``needs_decision``: RMS gave no verdict on keys that would
    replace verified ones; nothing was written (``keep_unverified=True`` writes them)."""

    saved: bool
    connection: RakutenConnection
    verification: Verification | None = None
    classification: Classification | None = None
    needs_decision: bool = False


def uses_goq_product() -> bool:
    """Model B: GoQ's registered product holds the serviceSecret (a setting)."""
    return bool(settings.RAKUTEN_SERVICE_SECRET)


def connection_for(shop) -> RakutenConnection:
    """The shop's connection, or a new unsaved one."""
    try:
        return RakutenConnection.objects.get(shop=shop)
    except RakutenConnection.DoesNotExist:
        return RakutenConnection(shop=shop)


def _revealed(value) -> str:
    return value.reveal() if value else ""


def _saved(connection: RakutenConnection, name: str) -> str | None:
    """A saved key's plaintext ("" if none); None if GoQ cannot decrypt it any more."""
    try:
        return _revealed(getattr(connection, name))
    except DecryptionError:
        return None


@sensitive_variables()
def service_secret_of(connection: RakutenConnection) -> str:
    """The serviceSecret the connection's calls use: GoQ's product's, or the shop's own."""
    return settings.RAKUTEN_SERVICE_SECRET or _saved(connection, "service_secret") or ""


@sensitive_variables()
def save_settings(
    *,
    shop,
    shop_url: str,
    license_key: str = "",
    service_secret: str = "",
    expected_version: int | None = None,
    actor=None,
    source: str = ChangeRecord.Source.MERCHANT,
    keep_unverified: bool = False,
    client=None,
    now: datetime | None = None,
) -> SaveResult:
    """Ask RMS about the settings typed for ``shop``, then write what RMS did not refuse.

    An empty key keeps the saved one. ``ValidationError`` for input that cannot be a
    key or a 店舗URL (the form checks first); ``ConcurrentEditError`` for a stale form.
    """
    now = now or timezone.now()
    connection = connection_for(shop)
    refuse_if_stale(connection, expected_version)

    code = api.normalize_shop_url(shop_url)
    if code is None:
        validate_shop_url(shop_url)  # raises with the field's message
    # A saved key GoQ can no longer decrypt counts as none: the merchant enters it again.
    saved_key = _saved(connection, "license_key") or ""
    saved_secret = "" if uses_goq_product() else _saved(connection, "service_secret") or ""
    new_key = clean_key(license_key) if license_key else saved_key
    new_secret = "" if uses_goq_product() else (
        clean_key(service_secret) if service_secret else saved_secret
    )
    if not new_key or not (new_secret or uses_goq_product()):
        raise ValidationError(_("Enter the keys."), code="keys_required")

    keys_changed = new_key != saved_key or new_secret != saved_secret
    changed = keys_changed or code != connection.shop_url
    key_changed_at = now if keys_changed else connection.key_changed_at
    verification = (client or get_client()).verify(
        service_secret=settings.RAKUTEN_SERVICE_SECRET or new_secret,
        license_key=new_key,
        shop_url=code,
        now=now,
        known_expires_on=None if keys_changed else connection.expires_on,
    )
    classification = connections.classify(verification, key_changed_at=key_changed_at, now=now)

    if classification.status is Status.REJECTED:
        if not changed and not connection._state.adding:
            # The saved settings themselves were refused: that verdict is recorded.
            _write_background(connection, verification, classification, now)
            connection = RakutenConnection.objects.get(pk=connection.pk)
        return SaveResult(False, connection, verification, classification)
    no_verdict = verification.outcome in (Outcome.UNREACHABLE, Outcome.UNEXPECTED)
    if no_verdict and changed and connection.verified_at and not keep_unverified:
        return SaveResult(False, connection, verification, classification, needs_decision=True)

    with transaction.atomic():
        target = _lock_for_edit(connection, expected_version)
        before = target.status  # (a new connection is ``target`` itself)
        alert_before = alert_state(target)
        changes = {}
        if code != target.shop_url:
            changes["shop_url"] = [target.shop_url, code]
        if new_key != saved_key:
            target.license_key = new_key
            changes["license_key"] = ["", SECRET_CHANGED]
        if new_secret != saved_secret:
            target.service_secret = new_secret
            changes["service_secret"] = ["", SECRET_CHANGED]
        target.shop_url = code
        if keys_changed:
            target.key_changed_at = now
            target.expires_on, target.reported_shop = None, ""
        if changed:
            target.verified_at = None  # RMS has not verified these settings yet
        _record(target, verification, classification, now)
        target.save()
        record_change(
            shop=shop, actor=actor, source=source, action="rakuten_settings_saved",
            changes=changes | {STATUS_KEY: [before, target.status]},
        )
        note_connection_change(target, alert_before, alert_state(target), shop=shop)
    return SaveResult(True, target, verification, classification)


def _record(
    connection: RakutenConnection, verification: Verification,
    classification: Classification, now: datetime,
) -> None:
    """Write RMS's verdict and facts on ``connection`` (not saved here).

    No verdict on settings RMS verified before leaves them verified: silence is not a
    refusal. Facts are only ever replaced by newer facts.
    """
    facts = verification.facts
    connection.last_checked_at = now
    if facts.expires_on is not None:
        connection.expires_on = facts.expires_on
    if facts.reported_shop:
        connection.reported_shop = facts.reported_shop
    no_verdict = classification.status in (Status.UNREACHABLE, Status.UNVERIFIED)
    if no_verdict and connection.status == Status.VERIFIED and connection.verified_at:
        return
    connection.status = classification.status
    connection.failed_check = classification.check
    connection.failure_reason = classification.reason or ""
    failed = verification.failed
    connection.rakuten_message = failed.message if failed else ""
    if classification.status is Status.VERIFIED:
        connection.verified_at = now
        connection.failing_since = None
    elif connection.failing_since is None:
        connection.failing_since = now


def refuse_if_stale(connection: RakutenConnection, expected_version: int | None) -> None:
    if connection._state.adding or expected_version is None:
        return
    current = (
        RakutenConnection.objects.filter(pk=connection.pk).values_list("version", flat=True)
        .first()
    )
    if current != expected_version:
        raise ConcurrentEditError(str(connection.pk))


def _lock_for_edit(connection: RakutenConnection, expected_version: int | None):
    if connection._state.adding:
        return connection
    target = RakutenConnection.objects.select_for_update().get(pk=connection.pk)
    if expected_version is not None and target.version != expected_version:
        raise ConcurrentEditError(str(connection.pk))
    target.version += 1
    return target


# --- Background steps -----------------------------------------------------------------


@sensitive_variables()
def recheck(connection: RakutenConnection, *, client=None, now=None) -> Classification:
    """Ask RMS about the saved settings again and record what it says (a pending key,
    an unreachable RMS, the daily re-read's follow-up)."""
    now = now or timezone.now()
    if unreadable := _unreadable(connection):
        _write_background(connection, unreadable, _UNREADABLE, now)
        return _UNREADABLE
    verification = (client or get_client()).verify(
        service_secret=service_secret_of(connection),
        license_key=_saved(connection, "license_key"),
        shop_url=connection.shop_url,
        now=now,
        known_expires_on=connection.expires_on,
    )
    classification = connections.classify(
        verification, key_changed_at=connection.key_changed_at, now=now
    )
    _write_background(connection, verification, classification, now)
    return classification


@sensitive_variables()
def refresh_expiry(connection: RakutenConnection, *, client=None, now=None) -> Classification:
    """The daily re-read: the expiry call alone while it answers; a refusal is asked
    about in full (it may be the key, or the function)."""
    now = now or timezone.now()
    if _unreadable(connection):
        return recheck(connection, client=client, now=now)
    verification = (client or get_client()).read_expiry(
        service_secret=service_secret_of(connection),
        license_key=_saved(connection, "license_key"),
        shop_url=connection.shop_url,
        now=now,
    )
    failed = verification.failed
    if failed is not None and failed.outcome is Outcome.REJECTED:
        return recheck(connection, client=client, now=now)
    if failed is None:
        # The expiry call says nothing of the other checks: only the date is new.
        with transaction.atomic():
            target = RakutenConnection.objects.select_for_update().get(pk=connection.pk)
            target.expires_on = verification.facts.expires_on
            target.last_checked_at = now
            target.save(update_fields=["expires_on", "last_checked_at", "updated_at"])
        return Classification(Status(target.status))
    classification = connections.classify(
        verification, key_changed_at=connection.key_changed_at, now=now
    )
    _write_background(connection, verification, classification, now)
    return classification


_UNREADABLE = Classification(Status.REJECTED, api.Reason.UNREADABLE)


def _unreadable(connection: RakutenConnection) -> Verification | None:
    """A verification refused without asking RMS, when a saved key cannot be decrypted."""
    names = ["license_key"] if uses_goq_product() else ["license_key", "service_secret"]
    if all(_saved(connection, name) is not None for name in names):
        return None
    result = api.CheckResult(api.Check.EXPIRY, Outcome.REJECTED, api.Reason.UNREADABLE)
    return Verification((result,))


def _write_background(connection, verification, classification, now) -> None:
    with transaction.atomic():
        target = RakutenConnection.objects.select_for_update().get(pk=connection.pk)
        if target.version != connection.version:
            return  # a person saved new settings meanwhile: this answer is about old ones
        before = target.status
        alert_before = alert_state(target)
        _record(target, verification, classification, now)
        target.save()
        if target.status != before:
            record_change(
                shop=target.shop, source=ChangeRecord.Source.TASK,
                action="rakuten_verified", changes={STATUS_KEY: [before, target.status]},
            )
        note_connection_change(target, alert_before, alert_state(target))


def mark_warning_sent(connection: RakutenConnection, warning: connections.ExpiryWarning) -> None:
    """Remember an expiry warning as sent (the alert system calls this once it is)."""
    with transaction.atomic():
        target = RakutenConnection.objects.select_for_update().get(pk=connection.pk)
        target.warnings_sent = sorted(set(target.warnings_sent) | set(warning.marks))
        target.save(update_fields=["warnings_sent", "updated_at"])
