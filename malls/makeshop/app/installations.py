"""Business actions on MakeShop app installations: install, uninstall, link, verify.

Webhooks, jobs, and (later) the admin and merchant screens call these functions, so
each rule lives in one place. History: every action writes an
``AppInstallationEvent`` (an unclaimed installation has no GoQ shop to hang a
``ChangeRecord`` on), and once an installation serves a shop its actions are written
to that shop's ``ChangeRecord`` history too; linking writes a summary there, so the
shop's history says where its token came from.

Alerts: an installation that serves a GoQ shop is that shop's connection for
``malls.alerts`` too. Every change of its state is passed to
``note_connection_change`` inside the transaction that writes it (as the legacy
services do), so uninstalling an app that worked opens a "broken" alert and the
next successful verification closes it ("fixed"). Unclaimed installations have no
shop to alert; linking and unlinking count as the shop gaining or losing its app
connection (``NOT_CONNECTED``), never as a break.

Linking rule: MakeShop's install webhook names only its ``shop_id``. A token must
never be visible to, or used for, a GoQ shop that does not control that MakeShop
shop, so an installation links itself only to the one GoQ connection with exactly
that shop ID whose legacy credentials MakeShop has accepted (see
``proven_connection_for``); otherwise staff assign it (``assign_installation``).
"""

from __future__ import annotations

from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.utils import timezone
from django.views.decorators.debug import sensitive_variables

from malls import notifications
from malls.alerts.services import note_connection_change
from malls.alerts.states import ConnectionState
from malls.crypto import DecryptionError
from malls.models import ChangeRecord, MakeShopConnection
from malls.services import queue, record_change
from malls.services.history import SECRET_CHANGED, SECRET_DELETED
from malls.throttle import SlotWaitTimeout, makeshop_call_slot

from ._shared import APP_TOKEN_CHECK, CheckResult, Outcome, Reason
from .models import AppInstallationEvent, MakeShopAppInstallation

State = MakeShopAppInstallation.State
Source = AppInstallationEvent.Source

# How an installation's event source is shown in a shop's ChangeRecord history.
_CHANGE_SOURCE = {
    Source.WEBHOOK: ChangeRecord.Source.NOTIFICATION,
    Source.ADMIN: ChangeRecord.Source.ADMIN,
    Source.TASK: ChangeRecord.Source.TASK,
    Source.COMMAND: ChangeRecord.Source.COMMAND,
    Source.MERCHANT: ChangeRecord.Source.MERCHANT,
}
# Legacy credentials whose "accepted at" time proves control of the shop ID. They are
# cleared when the credential or the shop ID changes and when MakeShop stops accepting
# them; ``verified_at`` is not, so it proves nothing about the current shop ID.
_PROOF_FIELDS = ("order_auth_code_verified_at", "product_auth_code_verified_at",
                 "password_verified_at")


_FIELDS_BUT_TOKEN = [
    field.attname for field in MakeShopAppInstallation._meta.concrete_fields
    if field.name not in ("id", "token")
]

# Alerts' state of a shop without an app installation (``malls.makeshop.alerts``).
NOT_CONNECTED = ConnectionState("waiting_install")
# Alerts' reason for an uninstalled app (``malls.makeshop.alerts.REASONS``).
UNINSTALLED_REASON = "app_uninstalled"


class AssignmentError(Exception):
    """An assignment staff asked for is refused; the message says why (for staff)."""


# --- History ------------------------------------------------------------------------


def _record(installation, *, action, source, actor=None, changes=None, shop=None):
    """One event on the installation, and on the served shop's history when there is one."""
    changes = {name: _plain(value) for name, value in (changes or {}).items()}
    AppInstallationEvent.objects.create(
        installation=installation,
        actor=actor if getattr(actor, "is_authenticated", False) else None,
        source=source, action=action, changes=changes,
    )
    if shop is None and installation.connection_id is not None:
        shop = _shop_of(installation)
    if shop is not None:
        record_change(
            shop=shop, actor=actor, source=_CHANGE_SOURCE[source], action=action,
            changes={"makeshop_shop_id": installation.shop_id, **changes},
        )


def _shop_of(installation):
    """The GoQ shop a linked installation serves (one query)."""
    return MakeShopConnection.objects.select_related("shop").get(
        pk=installation.connection_id
    ).shop


def _served_shop(installation):
    """The shop of a linked installation, None for an unclaimed one: looked up once per
    action and handed to both ``_record`` and ``_note_alert``."""
    return None if installation.connection_id is None else _shop_of(installation)


def alert_state(installation) -> ConnectionState:
    """The installation's state as alerts see it (no secret in it)."""
    reason = installation.failure_reason
    if installation.state == State.UNINSTALLED:
        reason = UNINSTALLED_REASON
    return ConnectionState(
        status=str(installation.state), reason=reason or "", check=str(APP_TOKEN_CHECK)
    )


def _note_alert(installation, before, *, after=None, shop=None, ever_worked=None) -> None:
    """Pass a linked installation's change to alerts; call inside the writing transaction.

    "Has it ever worked?" is the installation's ``verified_at`` unless given.
    """
    if shop is None:
        if installation.connection_id is None:
            return  # unclaimed: no shop to alert
        shop = _shop_of(installation)
    note_connection_change(
        installation, before, after or alert_state(installation), shop=shop,
        ever_worked=ever_worked,
    )


def _plain(value):
    if isinstance(value, (list, tuple)):
        return [None if v is None else str(v) for v in value]
    return None if value is None else str(value)


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
        shop = None if created else _served_shop(installation)
        if not created:
            before = {"state": installation.state, "plan_id": installation.plan_id}
            alert_before = alert_state(installation)
            _apply_install(installation, token, plan_id, app_name, now)
            installation.save()
            _note_alert(installation, alert_before, shop=shop)
        changes = {"token": SECRET_CHANGED}
        if created:
            changes["state"] = [None, installation.state]
        else:
            changes.update({
                name: [old, getattr(installation, name)] for name, old in before.items()
                if old != getattr(installation, name)
            })
        _record(
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
        shop = _served_shop(installation)
        _record(
            installation, action="makeshop_app.uninstalled", source=source,
            changes={"token": SECRET_DELETED, "state": [before, State.UNINSTALLED]}, shop=shop,
        )
        _note_alert(installation, alert_before, shop=shop)
    return installation


# --- Linking ----------------------------------------------------------------------------


def proven_connection_for(installation) -> MakeShopConnection | None:
    """The GoQ connection this installation may serve without staff, or None.

    Proof of control: exactly one GoQ connection carries this shop ID (compared
    without regard to case, so "Shop" and "shop" on two stores count as two
    claims), it matches exactly, at least one of its legacy credentials is
    currently accepted by MakeShop for that shop ID, and it has no installation yet.
    """
    candidates = list(
        MakeShopConnection.objects.filter(makeshop_shop_id__iexact=installation.shop_id)
        .select_related("shop")[:2]
    )
    if len(candidates) != 1:
        return None
    (connection,) = candidates
    if connection.makeshop_shop_id != installation.shop_id:
        return None
    if not any(getattr(connection, name) for name in _PROOF_FIELDS):
        return None
    if MakeShopAppInstallation.objects.filter(connection=connection).exclude(
        pk=installation.pk
    ).exists():
        return None
    return connection


def link_if_proven(installation, *, source=Source.TASK, now=None) -> bool:
    """Link an unclaimed installation to its proven connection; True if it was linked."""
    if not installation.is_unclaimed:
        return False
    connection = proven_connection_for(installation)
    if connection is None:
        return False
    _link(installation, connection, actor=None, source=source, now=now,
          how="automatic: legacy settings verified by MakeShop")
    return True


def assign_installation(*, installation, connection, actor, source=Source.ADMIN, now=None):
    """Staff link an unclaimed installation to the GoQ shop that owns the MakeShop shop.

    Refused (``AssignmentError``) when the installation already serves a shop, the
    connection already has an installation, or the connection carries a different
    MakeShop shop ID. A connection without a shop ID takes the installation's.
    """
    with transaction.atomic():
        installation = MakeShopAppInstallation.objects.select_for_update().get(
            pk=installation.pk
        )
        connection = MakeShopConnection.objects.select_for_update().select_related("shop").get(
            pk=connection.pk
        )
        if installation.connection_id == connection.pk:
            return installation
        if installation.connection_id is not None:
            raise AssignmentError("This installation already serves another shop.")
        if MakeShopAppInstallation.objects.filter(connection=connection).exists():
            raise AssignmentError("This shop already has a MakeShop app installation.")
        if connection.makeshop_shop_id is None:
            if MakeShopConnection.objects.filter(
                makeshop_shop_id__iexact=installation.shop_id
            ).exists():
                raise AssignmentError("Another shop uses this MakeShop shop ID.")
            connection.makeshop_shop_id = installation.shop_id
            connection.version += 1
            connection.save(update_fields=["makeshop_shop_id", "version", "updated_at"])
        elif connection.makeshop_shop_id != installation.shop_id:
            raise AssignmentError("The shop's MakeShop shop ID is a different one.")
        _link(installation, connection, actor=actor, source=source, now=now, how="assigned")
    return installation


def _link(installation, connection, *, actor, source, now, how) -> None:
    installation.connection = connection
    installation.linked_by = actor if getattr(actor, "is_authenticated", False) else None
    installation.linked_at = now or timezone.now()
    installation.save(update_fields=["connection", "linked_by", "linked_at", "updated_at"])
    # The shop gains an app connection: a working one closes its open alert (a retired
    # legacy API, say); one that does not work was never this shop's, so no break.
    _note_alert(installation, NOT_CONNECTED, shop=connection.shop, ever_worked=False)
    _record(
        installation, action="makeshop_app.linked", source=source, actor=actor,
        shop=connection.shop,
        changes={
            "how": how, "state": installation.state, "installed_at": installation.installed_at,
        },
    )


def unassign_installation(*, installation, actor, source=Source.ADMIN):
    """Staff take an installation away from a shop; it waits unclaimed again."""
    with transaction.atomic():
        installation = MakeShopAppInstallation.objects.select_for_update().get(
            pk=installation.pk
        )
        if installation.connection_id is None:
            return installation
        shop = _shop_of(installation)
        _note_alert(installation, alert_state(installation), after=NOT_CONNECTED, shop=shop)
        installation.connection = installation.linked_by = installation.linked_at = None
        installation.save(update_fields=["connection", "linked_by", "linked_at", "updated_at"])
        _record(installation, action="makeshop_app.unlinked", source=source, actor=actor,
                shop=shop)
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
        shop = _served_shop(current)
        if current.state != before:
            _record(current, action="makeshop_app.verified", source=source,
                    changes={"state": [before, current.state], "reason": result.reason or None},
                    shop=shop)
        _note_alert(current, alert_before, shop=shop)
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
    *, shop_id: str, notification, sender=None, now=None, installation=None
) -> bool | None:
    """Record an order-update webhook for a shop; None when no installed shop has that ID.

    The installation's ``last_update_at`` always moves (never backwards). For an
    installation serving a GoQ shop the update is also recorded like a legacy
    update notification (``malls.notifications.record_notification``): repeats are
    folded, the order is marked for a refresh, and the shop shows it as its last
    update. Returns False for a folded repeat. ``installation``: the caller's
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
            return True
        connection = MakeShopConnection(pk=installation.connection_id)
        return notifications.record_notification(
            connection=connection, notification=notification, sender=sender, now=now
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
