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

from malls.crypto import DecryptionError
from malls.makeshop import jobs as makeshop_jobs
from malls.makeshop import notification_records as notifications
from malls.makeshop.models import MakeShopConnection
from malls.makeshop.throttle import makeshop_call_slot
from malls.services.history import SECRET_CHANGED, SECRET_DELETED
from malls.throttle import SlotWaitTimeout

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
    review_link,
    unassign_installation,
)
from .models import AppInstallationEvent, MakeShopAppInstallation

State = MakeShopAppInstallation.State
Source = AppInstallationEvent.Source

_FIELDS_BUT_TOKENS = [
    field.attname for field in MakeShopAppInstallation._meta.concrete_fields
    if field.name not in ("id", "token", "pending_token")
]


# --- Install and uninstall (webhooks) ---------------------------------------------------


@sensitive_variables("token")
def store_installation(
    *, shop_id: str, token: str, plan_id: str = "", app_name: str = "",
    source=Source.WEBHOOK, now=None,
) -> MakeShopAppInstallation:
    """Store a shop's token, encrypted, and queue its verification.

    Idempotent per ``shop_id``. A repeat install never replaces a token that works
    (state ``verified``): the new one waits beside it as ``pending_token`` until the
    queued verification has used it for this shop, then takes its place; a token that
    does not work is replaced at once and the state starts again at ``installed``.
    Linking happens only in the verification job (``linking.link_if_proven``).
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
        action = "makeshop_app.installed" if created else "makeshop_app.reinstalled"
        if created:
            changes = {"token": SECRET_CHANGED, "state": [None, installation.state]}
        elif installation.state == State.VERIFIED:
            installation.pending_token = token
            installation.pending_since = now
            installation.token_version += 1  # a check of the old token in flight is dropped
            installation.uninstall_reported_at = None
            installation.plan_id, installation.app_name = plan_id[:100], app_name[:200]
            installation.save()
            action, changes = "makeshop_app.reinstall_pending", {"pending_token": SECRET_CHANGED}
        else:
            before = {"state": installation.state, "plan_id": installation.plan_id}
            alert_before = alert_state(installation)
            _apply_install(installation, token, plan_id, app_name, now)
            installation.save()
            note_alert(installation, alert_before, shop=shop)
            changes = {"token": SECRET_CHANGED} | {
                name: [old, getattr(installation, name)] for name, old in before.items()
                if old != getattr(installation, name)
            }
        record_event(installation, action=action, source=source, changes=changes, shop=shop)
        pk = installation.pk
        transaction.on_commit(
            lambda: makeshop_jobs.enqueue_installation_verification(
                installation_ids=[pk], token_changed=True
            )
        )
    return installation


def _locked(shop_id):
    return MakeShopAppInstallation.objects.select_for_update().filter(shop_id=shop_id).first()


@sensitive_variables("token")
def _apply_install(installation, token, plan_id, app_name, now) -> None:
    installation.token = token
    installation.pending_token = installation.pending_since = None
    installation.uninstall_reported_at = None
    installation.token_version += 1
    installation.plan_id = plan_id[:100]
    installation.app_name = app_name[:200]
    installation.state = State.INSTALLED
    installation.installed_at = now
    installation.uninstalled_at = None
    installation.verified_at = installation.last_checked_at = None
    installation.failure_reason = installation.makeshop_message = ""


def uninstall(
    *, shop_id: str, source=Source.WEBHOOK, now=None, confirmed=True, reported_at=None
) -> MakeShopAppInstallation | None:
    """MakeShop revoked the token: delete it, mark the installation uninstalled, record it.

    ``confirmed=False`` (an unsigned uninstall webhook: anyone holding the URL secret
    could send one): a token that works is not deleted but asked of MakeShop first
    (``uninstall_reported_at``, then the queued verification uninstalls only if
    MakeShop refuses the token; ``reported_at`` names the report it confirms). The link
    to the GoQ shop stays, so the merchant sees "uninstalled" and a re-install serves
    the same shop. None for a shop never installed.
    """
    now = now or timezone.now()
    with transaction.atomic():
        installation = _locked(shop_id)
        if installation is None:
            return None
        if reported_at is not None and installation.uninstall_reported_at != reported_at:
            return installation  # reinstalled (or settled) meanwhile: nothing to confirm
        if not confirmed and installation.state == State.VERIFIED:
            installation.uninstall_reported_at = now
            installation.save(update_fields=["uninstall_reported_at", "updated_at"])
            record_event(installation, action="makeshop_app.uninstall_reported", source=source)
            pk = installation.pk
            transaction.on_commit(
                lambda: makeshop_jobs.enqueue_installation_verification(installation_ids=[pk])
            )
            return installation
        before, alert_before = installation.state, alert_state(installation)
        installation.token = installation.pending_token = installation.pending_since = None
        installation.uninstall_reported_at = None
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
            | Q(pending_since__isnull=False) | Q(uninstall_reported_at__isnull=False)
        )
    return rows.order_by(F("last_checked_at").asc(nulls_first=True), "pk")


@sensitive_variables()
def verify_installation(
    *, installation, client=None, source=Source.TASK, now=None
) -> CheckResult | None:
    """Use the token once (a tiny order search) and record what MakeShop said.

    A pending new token (a repeat install) is the one checked while there is one. A
    token not yet trusted (new, pending, or not verified) must also belong to this
    shop: MakeShop is asked which shop it serves (``client.confirm_shop``) and naming
    another rejects it. Then, outside any transaction, a reported uninstall is settled
    and an unclaimed installation may be linked (``linking``), a linked one reviewed.
    None when there is nothing to verify (uninstalled) or the new API is off. Must not
    run inside a transaction: the shop's call slot needs autocommit.
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
    pending = installation.pending_since is not None
    plaintext = None
    try:
        token = installation.pending_token if pending else installation.token
    except DecryptionError:
        result = CheckResult(check=APP_TOKEN_CHECK, outcome=Outcome.REJECTED,
                             reason=Reason.UNREADABLE)
    else:
        if token is None:
            return None
        plaintext = token.reveal()
        result = _use_token(client, installation.shop_id, plaintext,
                            confirm=pending or installation.state != State.VERIFIED)
    if pending:
        record_new_token(installation=installation, result=result, token=plaintext,
                         token_version=token_version, source=source, now=now)
        return result
    reported = installation.uninstall_reported_at
    if reported is not None and result.outcome == Outcome.REJECTED:
        # MakeShop confirms the reported uninstall: uninstalled, not "rejected".
        uninstall(shop_id=installation.shop_id, source=source, now=now, reported_at=reported)
        _refresh(installation)
        return result
    record_verification(
        installation=installation, result=result, token_version=token_version,
        source=source, now=now,
    )
    _settle_reported_uninstall(installation, result, source=source, now=now)
    if result.ok and installation.is_unclaimed:
        link_if_proven(installation, source=source, now=now)
    elif installation.connection_id is not None:
        review_link(installation, source=source, now=now)
    return result


@sensitive_variables()
def _use_token(client, shop_id, token, *, confirm) -> CheckResult:
    try:
        with makeshop_call_slot(shop_id):
            result = client.verify_token(shop_id=shop_id, token=token)
        if result.ok and confirm:
            with makeshop_call_slot(shop_id):
                identity = client.confirm_shop(shop_id=shop_id, token=token)
            if identity.outcome == Outcome.REJECTED:  # another shop's token, or refused
                return identity
    except SlotWaitTimeout:
        return CheckResult(check=APP_TOKEN_CHECK, outcome=Outcome.UNREACHABLE,
                           reason=Reason.BUSY)
    return result


@sensitive_variables("token")
def record_new_token(*, installation, result, token, token_version, source=Source.TASK,
                     now=None) -> bool:
    """Settle a repeat install's pending token: it replaces the working one only once it
    has worked for this shop; refused, it is dropped and the working one stays."""
    now = now or timezone.now()
    with transaction.atomic():
        current = MakeShopAppInstallation.objects.select_for_update().filter(
            pk=installation.pk, token_version=token_version, pending_since__isnull=False
        ).exclude(state=State.UNINSTALLED).first()
        if current is None:
            return False
        current.last_checked_at = now
        if result.ok:
            current.token = token
            current.state, current.verified_at = State.VERIFIED, now
            current.failure_reason = current.makeshop_message = ""
            action, changes = "makeshop_app.token_replaced", {"token": SECRET_CHANGED}
        elif result.outcome == Outcome.REJECTED:
            action, changes = "makeshop_app.reinstall_rejected", {"reason": result.reason}
        else:  # no usable answer: asked again by the next run
            current.save(update_fields=["last_checked_at", "updated_at"])
            return True
        current.pending_token = current.pending_since = None
        current.save()
        record_event(current, action=action, source=source,
                     changes={"pending_token": SECRET_DELETED, **changes})
    _refresh(installation)
    return True


def _settle_reported_uninstall(installation, result, *, source, now) -> None:
    """An unsigned uninstall of a working token waits for MakeShop's word (a refused token
    uninstalls, in ``verify_installation``); still accepted, the report is dropped and
    kept in the history. No answer: asked again by the next run."""
    if installation.uninstall_reported_at is None:
        return
    if result.ok:
        with transaction.atomic():
            updated = MakeShopAppInstallation.objects.filter(
                pk=installation.pk, uninstall_reported_at=installation.uninstall_reported_at
            ).update(uninstall_reported_at=None, updated_at=timezone.now())
            if updated:
                record_event(installation, action="makeshop_app.uninstall_not_confirmed",
                             source=source, changes={"reason": "token still accepted"})
        _refresh(installation)


def _refresh(installation) -> None:
    """Reload every field but the tokens: reading those back would decrypt them, and an
    unreadable token is this installation's verdict ("install again"), never a crash."""
    installation.refresh_from_db(fields=_FIELDS_BUT_TOKENS)
    installation.__dict__.pop("token", None)  # deferred: loaded (and decrypted) if read
    installation.__dict__.pop("pending_token", None)


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
    _refresh(installation)
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
    notification (``malls.makeshop.notification_records.record_notification``): repeats are folded,
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


def note_reconsent(*, shop_id: str, source=Source.WEBHOOK):
    """The shop consented again to the data GoQ's app uses (ショップ利用情報への再同意通知):
    recorded, and the token verified again. None for a shop without an installation."""
    with transaction.atomic():
        installation = current_installation(shop_id)
        if installation is None:
            return None
        record_event(installation, action="makeshop_app.reconsented", source=source)
        pk = installation.pk
        transaction.on_commit(
            lambda: makeshop_jobs.enqueue_installation_verification(installation_ids=[pk])
        )
    return installation


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
