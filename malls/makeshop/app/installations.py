"""Business actions on MakeShop app installations: install, uninstall, verify, updates.

Webhooks, jobs, the admin and the merchant screens call these functions, so each rule
lives in one place. Every action is recorded and passed to alerts (``events``);
which GoQ shop an installation serves is decided in ``linking``, whose actions are
offered here too (callers know them as ``installations.assign_installation`` etc.).
"""

from __future__ import annotations

from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.utils import timezone
from django.views.decorators.debug import sensitive_variables

from malls import notifications
from malls.crypto import DecryptionError
from malls.models import MakeShopConnection
from malls.services import queue
from malls.services.history import SECRET_CHANGED, SECRET_DELETED
from malls.throttle import SlotWaitTimeout, makeshop_call_slot

from ._shared import APP_TOKEN_CHECK, CheckResult, Outcome, Reason
from .events import (  # noqa: F401  (NOT_CONNECTED, UNINSTALLED_REASON: the package's API)
    NOT_CONNECTED,
    UNINSTALLED_REASON,
    alert_state,
    note_alert,
    record_event,
    served_shop,
)
from .linking import (  # noqa: F401  (callers know these as ``installations.*``)
    AssignmentError,
    assign_installation,
    link_if_proven,
    proven_connection_for,
    unassign_installation,
)
from .models import AppInstallationEvent, MakeShopAppInstallation

State = MakeShopAppInstallation.State
Source = AppInstallationEvent.Source

_FIELDS_BUT_TOKEN = [
    field.attname for field in MakeShopAppInstallation._meta.concrete_fields
    if field.name not in ("id", "token")
]


# --- Install and uninstall (webhooks) ---------------------------------------------------


@sensitive_variables("token")
def store_installation(
    *, shop_id: str, token: str, plan_id: str = "", app_name: str = "",
    source=Source.WEBHOOK, now=None,
) -> MakeShopAppInstallation:
    """Store (or replace) a shop's token, encrypted, and queue its verification.

    Idempotent per ``shop_id``: a repeated install replaces the token, starts the
    state again at ``installed`` and is recorded. The token is trusted only after
    the queued verification has used it successfully.
    """
    now = now or timezone.now()
    with transaction.atomic():
        installation = _locked(shop_id)
        created = installation is None
        if created:
            try:
                with transaction.atomic():
                    installation = MakeShopAppInstallation(shop_id=shop_id)
                    _apply_install(installation, token, plan_id, app_name, now)
                    installation.save()
            except IntegrityError:  # a concurrent install of the same shop won
                installation, created = _locked(shop_id), False
        shop = None if created else served_shop(installation)
        if not created:
            before = {"state": installation.state, "plan_id": installation.plan_id}
            alert_before = alert_state(installation)
            _apply_install(installation, token, plan_id, app_name, now)
            installation.save()
            note_alert(installation, alert_before, shop=shop)
        changes = {"token": SECRET_CHANGED}
        if created:
            changes["state"] = [None, installation.state]
        else:
            changes.update({
                name: [old, getattr(installation, name)] for name, old in before.items()
                if old != getattr(installation, name)
            })
        record_event(
            installation, action="makeshop_app.installed" if created else
            "makeshop_app.reinstalled", source=source, changes=changes, shop=shop,
        )
        if installation.is_unclaimed:
            link_if_proven(installation, source=source, now=now)
        pk = installation.pk
        transaction.on_commit(
            lambda: queue.enqueue_installation_verification(
                installation_ids=[pk], token_changed=True
            )
        )
    return installation


def _locked(shop_id):
    return MakeShopAppInstallation.objects.select_for_update().filter(shop_id=shop_id).first()


@sensitive_variables("token")
def _apply_install(installation, token, plan_id, app_name, now) -> None:
    installation.token = token
    installation.token_version += 1
    installation.plan_id = plan_id[:100]
    installation.app_name = app_name[:200]
    installation.state = State.INSTALLED
    installation.installed_at = now
    installation.uninstalled_at = None
    installation.verified_at = installation.last_checked_at = None
    installation.failure_reason = installation.makeshop_message = ""


def uninstall(*, shop_id: str, source=Source.WEBHOOK, now=None) -> MakeShopAppInstallation | None:
    """MakeShop revoked the token: delete it, mark the installation uninstalled, record it.

    The link to the GoQ shop stays, so the merchant sees "uninstalled" and a
    re-install serves the same shop. None for a shop never installed.
    """
    now = now or timezone.now()
    with transaction.atomic():
        installation = _locked(shop_id)
        if installation is None:
            return None
        before, alert_before = installation.state, alert_state(installation)
        installation.token = None
        installation.token_version += 1  # a verification in flight records nothing
        installation.state = State.UNINSTALLED
        installation.uninstalled_at = now
        installation.save()
        shop = served_shop(installation)
        record_event(
            installation, action="makeshop_app.uninstalled", source=source,
            changes={"token": SECRET_DELETED, "state": [before, State.UNINSTALLED]}, shop=shop,
        )
        note_alert(installation, alert_before, shop=shop)
    return installation

# --- Verification -------------------------------------------------------------------------




def reverifiable_installations(*, checked_before=None):
    """Installations a re-verification run should ask MakeShop about, oldest check first.

    Installed, unreachable or verified ones, linked or unclaimed (rejected and
    uninstalled tokens wait for the merchant). With ``checked_before`` only those not
    checked since then, plus any whose last check got no answer (unreachable, or
    verified with a failure noted) or that were never checked: a failed verification
    is retried by the next run, not a day later.
    """
    rows = MakeShopAppInstallation.objects.filter(
        state__in=[State.INSTALLED, State.UNREACHABLE, State.VERIFIED]
    )
    if checked_before is not None:
        rows = rows.filter(
            Q(last_checked_at__isnull=True) | Q(last_checked_at__lt=checked_before)
            | Q(state__in=[State.INSTALLED, State.UNREACHABLE]) | ~Q(failure_reason="")
        )
    return rows.order_by(F("last_checked_at").asc(nulls_first=True), "pk")


@sensitive_variables()
def verify_installation(
    *, installation, client=None, source=Source.TASK, now=None
) -> CheckResult | None:
    """Use the token once (a tiny order search) and record what MakeShop said.

    None when there is nothing to verify (uninstalled) or the new API is off. Must
    not run inside a transaction: the shop's call slot needs autocommit.
    """
    if transaction.get_connection().in_atomic_block:
        raise RuntimeError("MakeShop must not be called inside a database transaction")
    if installation.state == State.UNINSTALLED:
        return None
    if client is None:
        from .client import get_app_client

        client = get_app_client()
        if client is None:
            return None
    token_version = installation.token_version
    try:
        token = installation.token
    except DecryptionError:
        result = CheckResult(check=APP_TOKEN_CHECK, outcome=Outcome.REJECTED,
                             reason=Reason.UNREADABLE)
    else:
        if token is None:
            return None
        try:
            with makeshop_call_slot(installation.shop_id):
                result = client.verify_token(shop_id=installation.shop_id, token=token.reveal())
        except SlotWaitTimeout:
            result = CheckResult(check=APP_TOKEN_CHECK, outcome=Outcome.UNREACHABLE,
                                 reason=Reason.BUSY)
    record_verification(
        installation=installation, result=result, token_version=token_version,
        source=source, now=now,
    )
    return result


def record_verification(*, installation, result, token_version, source=Source.TASK, now=None):
    """Write a verification outcome, unless the token changed while MakeShop answered.

    Accepted: ``verified``. Rejected: ``rejected``. No usable answer: a verified
    token stays verified (it has worked; an outage is not its fault) with the
    reason noted, any other becomes ``unreachable``. Returns True if written.
    """
    now = now or timezone.now()
    with transaction.atomic():
        current = MakeShopAppInstallation.objects.select_for_update().filter(
            pk=installation.pk, token_version=token_version
        ).exclude(state=State.UNINSTALLED).first()
        if current is None:
            return False
        before, alert_before = current.state, alert_state(current)
        current.last_checked_at = now
        if result.ok:
            current.state, current.verified_at = State.VERIFIED, now
            current.failure_reason = current.makeshop_message = ""
        else:
            if result.outcome == Outcome.REJECTED:
                current.state = State.REJECTED
            elif current.state != State.VERIFIED:
                current.state = State.UNREACHABLE
            current.failure_reason = result.reason[:40]
            current.makeshop_message = result.message[:500]
        current.save(update_fields=[
            "state", "last_checked_at", "verified_at", "failure_reason", "makeshop_message",
            "updated_at",
        ])
        shop = served_shop(current)
        if current.state != before:
            record_event(current, action="makeshop_app.verified", source=source,
                    changes={"state": [before, current.state], "reason": result.reason or None},
                    shop=shop)
        note_alert(current, alert_before, shop=shop)
        if result.ok and current.is_unclaimed:
            link_if_proven(current, source=source, now=now)
    # Every field but the token: reading it back would decrypt it, and an unreadable
    # token is this installation's verdict ("install again"), never a crash of the run.
    installation.refresh_from_db(fields=_FIELDS_BUT_TOKEN)
    installation.__dict__.pop("token", None)  # deferred: loaded (and decrypted) if read
    return True


# --- Order updates (webhook) ----------------------------------------------------------------


def current_installation(shop_id: str) -> MakeShopAppInstallation | None:
    """The shop's installation unless uninstalled: what an order update may be about."""
    return (
        MakeShopAppInstallation.objects.filter(shop_id=shop_id)
        .exclude(state=State.UNINSTALLED)
        .only("pk", "connection_id")
        .first()
    )


def record_order_update(
    *, shop_id: str, notices: list, sender=None, now=None, installation=None
) -> int | None:
    """Record an order-update webhook (one notification per order); None for no such shop.

    The installation's ``last_update_at`` always moves (never backwards). For an
    installation serving a GoQ shop each order is also recorded like a legacy update
    notification (``malls.notifications.record_notification``): repeats are folded,
    the order is marked for a refresh, and the shop shows it as its last update.
    Returns how many were new (not folded repeats). ``installation``: the caller's
    ``current_installation(shop_id)``, to save looking it up again.
    """
    now = now or timezone.now()
    if installation is None:
        installation = current_installation(shop_id)
    if installation is None:
        return None
    with transaction.atomic():
        MakeShopAppInstallation.objects.filter(
            Q(last_update_at__isnull=True) | Q(last_update_at__lte=now), pk=installation.pk
        ).update(last_update_at=now)
        if installation.connection_id is None:
            return len(notices)
        connection = MakeShopConnection(pk=installation.connection_id)
        return sum(
            notifications.record_notification(
                connection=connection, notification=notification, sender=sender, now=now
            )
            for notification in notices
        )


# --- What screens and other code may ask -------------------------------------------------------


def installation_for(connection) -> MakeShopAppInstallation | None:
    """The installation serving ``connection``, if any (for the merchant's shop page)."""
    return MakeShopAppInstallation.objects.filter(connection=connection).first()


def unclaimed_installations():
    """Installations waiting for staff to assign them, oldest first."""
    return MakeShopAppInstallation.objects.filter(connection__isnull=True).exclude(
        state=State.UNINSTALLED
    ).order_by("created_at")


@sensitive_variables()
def usable_token(connection) -> str | None:
    """The app token to call MakeShop with for ``connection``'s shop, or None.

    The only way code should obtain a token: it must be linked to this very
    connection, verified, and still installed.
    """
    installation = installation_for(connection)
    if installation is None or not installation.is_usable:
        return None
    try:
        token = installation.token
    except DecryptionError:
        return None
    return token.reveal() if token else None
