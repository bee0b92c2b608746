"""A MakeShop shop's connection settings: one pipeline for merchants and staff.

``apply_makeshop_settings`` is the only way settings are written. With
``verify=Verify.NOW`` (the merchant's screen) MakeShop is asked first and nothing
is written unless it accepts, or the merchant decides to keep settings MakeShop gave
no verdict on. With ``verify=Verify.LATER`` (the admin, whose change form runs inside
a transaction that must not wait on MakeShop) the settings are written as 確認待ち
and a background job asks once the transaction commits. Both write the same history.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from django.conf import settings as django_settings
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.views.decorators.debug import sensitive_variables

from malls import ratelimits
from malls.alerts.services import close_for_removed_connection, note_connection_change
from malls.alerts.states import state_of as alert_state
from malls.makeshop import Check, Outcome
from malls.makeshop.jobs import enqueue_verification
from malls.makeshop.models import MakeShopConnection
from malls.makeshop.services.shop_ids import ShopIdTakenError, claim_shop_id, verified_holder_exists
from malls.makeshop.services.verification import (
    CHECK_ORDER,
    PROOF_OF_CONTROL,
    Verification,
    check_makeshop_credentials,
    is_fresh,
    record_outcome,
    refuse_if_paused,
    saved_secret,
    unreadable_checks,
    unreadable_verification,
)
from malls.models import ChangeRecord
from malls.services.history import SECRET_CHANGED, field_changes, record_change

Status = MakeShopConnection.Status

# The per-store budget of MakeShop checks a merchant can trigger (each costs the
# shop's MakeShop rate limit, and each tells the caller whether a credential works).
VERIFICATION_BUDGET_WINDOW_SECONDS = 60


class Verify(StrEnum):
    """When MakeShop is asked about settings being saved."""

    NOW = "now"  # before writing: only what MakeShop did not reject is written
    LATER = "later"  # after writing, by a background job queued on commit


class ConcurrentEditError(Exception):
    """The settings changed after the form was opened; the later save is refused."""


class VerificationBudgetExceeded(Exception):
    """The store asked MakeShop too often in the last minute; nothing was sent or saved."""


@dataclass(frozen=True)
class SaveResult:
    """What happened to a save.

    ``saved`` says whether anything was written. When MakeShop could not give a
    verdict, ``needs_decision`` asks the merchant whether to keep the new settings
    unverified (``apply_makeshop_settings(verify=Verify.LATER, no_verdict=True)``).
    """

    saved: bool
    verification: Verification | None
    connection: MakeShopConnection
    needs_decision: bool = False


@sensitive_variables()
def apply_makeshop_settings(
    *,
    connection: MakeShopConnection,
    shop_id: str,
    new_secrets: dict[str, str | None],
    expected_version: int | None,
    verify: Verify = Verify.NOW,
    no_verdict: bool = False,
    client=None,
    actor=None,
    source=ChangeRecord.Source.MERCHANT,
) -> SaveResult:
    """Save a shop's MakeShop settings, verified now or later, and record the change.

    A secret given as None or "" keeps the saved one. Only credentials that changed,
    or were not accepted recently, are checked. With ``Verify.NOW`` a rejection saves
    nothing (the working settings stay as they were), and no verdict saves nothing
    but sets ``needs_decision``. ``Verify.LATER`` writes at once and queues the check;
    ``no_verdict`` says MakeShop just failed to give one, so the settings are stored
    as 接続未確認 rather than 確認待ち.

    MakeShop hears of the password and the product code only once it accepted the order
    code for this shop ID (``verification.PROOF_OF_CONTROL``): a refused order code
    is the whole verdict.

    Raises ConcurrentEditError if the saved settings changed since
    ``expected_version`` was read, VerificationBudgetExceeded when the store may
    not ask MakeShop again this minute, and ChecksPaused when MakeShop refused this
    shop ID too often this hour (whoever asked). A shop ID is checked against other
    connections only once MakeShop accepted these settings (see ``shop_ids``): then
    ShopIdTakenError if a verified connection holds it, else unverified claims on it
    lose it.
    """
    new_secrets = {name: value for name, value in new_secrets.items() if value}
    verification = None
    if verify == Verify.NOW:
        refuse_if_stale(connection, expected_version)
        verification = _ask_makeshop(connection, shop_id, new_secrets, client)
        if verification is not None and not verification.ok:
            return SaveResult(
                saved=False, verification=verification, connection=connection,
                needs_decision=verification.outcome != Outcome.REJECTED,
            )
    target = _write(
        connection, shop_id=shop_id, new_secrets=new_secrets,
        expected_version=expected_version, verification=verification,
        check_later=verify == Verify.LATER, no_verdict=no_verdict, actor=actor, source=source,
    )
    return SaveResult(saved=True, verification=verification, connection=target)


@sensitive_variables()
def _credentials_to_check(connection, *, shop_id, new_secrets, now) -> dict[Check, str]:
    """The credentials MakeShop must be asked about if ``connection`` takes these values.

    A credential is asked about unless it is unchanged (same value, same shop ID) and
    MakeShop accepted it recently.
    """
    is_new = connection._state.adding
    shop_id_changed = is_new or shop_id != connection.makeshop_shop_id
    credentials = {}
    for check in CHECK_ORDER:
        name = check.secret_field
        saved = None if is_new else saved_secret(connection, name)
        value = new_secrets.get(name) or saved
        if not value:
            continue
        unchanged = value == saved and not shop_id_changed
        if not (unchanged and is_fresh(connection, name, now)):
            credentials[check] = value
    return credentials


@sensitive_variables()
def _ask_makeshop(connection, shop_id, new_secrets, client) -> Verification | None:
    """Ask MakeShop about what would change; None when nothing needs asking.

    A saved secret that cannot be read and is not being replaced fails at once: the
    settings would otherwise be saved as verified without it ever being checked.
    """
    if not connection._state.adding:
        unreadable = [
            check for check in unreadable_checks(connection)
            if not new_secrets.get(check.secret_field)
        ]
        if unreadable:
            return unreadable_verification(unreadable)
    now = timezone.now()
    credentials = _credentials_to_check(
        connection, shop_id=shop_id, new_secrets=new_secrets, now=now
    )
    if not credentials:
        return None
    # Before the store's budget: a save refused without asking MakeShop costs nothing.
    refuse_if_paused(shop_id, store_id=connection.shop.store_id)
    _charge_verification_budget(connection.shop.store_id)
    return check_makeshop_credentials(
        shop_id=shop_id, credentials=credentials, client=client,
        proven=_control_proven(connection, shop_id=shop_id, new_secrets=new_secrets, now=now),
        store_id=connection.shop.store_id,
    )


@sensitive_variables()
def _control_proven(connection, *, shop_id, new_secrets, now) -> bool:
    """Whether MakeShop accepted the order code for ``shop_id`` recently, and the save
    changes neither: then a new password or product code alone may be asked about."""
    if connection._state.adding or shop_id != connection.makeshop_shop_id:
        return False
    name = PROOF_OF_CONTROL.secret_field
    new_code = new_secrets.get(name)
    if new_code and new_code != saved_secret(connection, name):
        return False
    return is_fresh(connection, name, now)


def _charge_verification_budget(store_id) -> None:
    """Count one verification against the store's budget; refuse when it is spent.

    Counted across every process (``malls.ratelimits``), and only when MakeShop is
    about to be called: a save that changes nothing MakeShop checks costs nothing.
    """
    if not ratelimits.hit(
        f"verify:store:{store_id}",
        limit=django_settings.VERIFICATIONS_PER_STORE_PER_MINUTE,
        window_seconds=VERIFICATION_BUDGET_WINDOW_SECONDS,
    ):
        raise VerificationBudgetExceeded(str(store_id))


@sensitive_variables()
def _write(
    connection, *, shop_id, new_secrets, expected_version, verification, check_later,
    no_verdict, actor, source,
) -> MakeShopConnection:
    """Write the settings and their status in one transaction, with one history entry."""
    is_new = connection._state.adding
    with transaction.atomic():
        target = _lock_for_edit(connection, expected_version)
        alert_before = alert_state(target)
        now = timezone.now()
        to_check = check_later and _credentials_to_check(
            target, shop_id=shop_id, new_secrets=new_secrets, now=now
        )
        changes = _apply_settings(target, shop_id=shop_id, new_secrets=new_secrets)
        before = {"status": target.status}
        queue_job = False
        if verification is not None:
            record_outcome(target, verification, now)
            if verification.ok:
                claim_shop_id(target, shop_id, now=now, source=source)
        elif check_later:
            # A save that changed nothing queues nothing, unless the merchant just kept
            # settings MakeShop gave no verdict on.
            queue_job = _mark_for_later(
                target, bool(to_check) and bool(changes or no_verdict), no_verdict=no_verdict
            )
        changes.update(field_changes(before, target))
        _save(target, shop_id)
        note_connection_change(target, alert_before, alert_state(target))
        # Every save is recorded, even one that changed nothing (as Django's admin log
        # does): it bumped the version, so a form opened before it is now stale.
        record_change(
            shop=target.shop, actor=actor, source=source,
            action="makeshop.created" if is_new else "makeshop.settings_saved",
            changes=changes,
        )
        if queue_job:
            transaction.on_commit(
                lambda: enqueue_verification(
                    connection_ids=[target.pk], force=False, settings_changed=True
                )
            )
    return target


def _mark_for_later(target, to_check: bool, *, no_verdict: bool) -> bool:
    """Set the status of settings MakeShop will be asked about later; True to queue a job.

    Only something MakeShop can check is marked 確認待ち: settings without any secret
    would otherwise stay pending for ever, so they are 未設定. A secret that is set but
    unreadable counts as something to check: the job records that it must be entered
    again.
    """
    if not any(target.__dict__.get(name) for name in MakeShopConnection.SECRET_FIELDS):
        target.status = Status.UNSET
        return False
    if unreadable_checks(target):
        to_check = True
    if not to_check:
        return False
    target.status = Status.UNVERIFIED if no_verdict else Status.PENDING
    target.failed_check = target.failure_reason = target.makeshop_message = ""
    return True


def _save(target, shop_id) -> None:
    try:
        with transaction.atomic():
            target.save()
    except IntegrityError as exc:
        if verified_holder_exists(target, shop_id):
            raise ShopIdTakenError(shop_id) from exc
        raise ConcurrentEditError(str(target.pk)) from exc


def refuse_if_stale(connection, expected_version) -> None:
    """Raise ConcurrentEditError if the saved settings are no longer at ``expected_version``.

    The one version check: the admin form calls it to show its error on the form,
    the merchant's save calls it before asking MakeShop, and ``_lock_for_edit``
    repeats it on the locked row.
    """
    if connection._state.adding:
        return
    current = (
        MakeShopConnection.objects.filter(pk=connection.pk)
        .values_list("version", flat=True)
        .first()
    )
    if current is None or current != expected_version:
        raise ConcurrentEditError(str(connection.pk))


def _lock_for_edit(connection, expected_version):
    """The row to change, locked, its version bumped; refuses a stale ``expected_version``."""
    if connection._state.adding:
        return connection
    target = MakeShopConnection.objects.select_for_update().get(pk=connection.pk)
    if target.version != expected_version:
        raise ConcurrentEditError(str(connection.pk))
    target.version += 1
    return target


@sensitive_variables()
def _apply_settings(target, *, shop_id, new_secrets) -> dict:
    """Set shop ID and changed secrets on ``target``; return what changed (for history).

    A credential that changes, or whose shop ID changes, loses its "accepted at" time;
    a new shop ID also loses "verified at": MakeShop has not verified it for that ID.
    """
    is_new = target._state.adding
    changes = {}
    if is_new or shop_id != target.makeshop_shop_id:
        changes["makeshop_shop_id"] = [target.makeshop_shop_id, shop_id]
        target.verified_at = target.failing_since = None
        for check in CHECK_ORDER:
            setattr(target, f"{check.secret_field}_verified_at", None)
    target.makeshop_shop_id = shop_id
    for name, value in new_secrets.items():
        if is_new or value != saved_secret(target, name):
            setattr(target, name, value)
            setattr(target, f"{name}_verified_at", None)
            changes[name] = SECRET_CHANGED
    return changes


def delete_makeshop_connection(
    *, connection, actor=None, source=ChangeRecord.Source.ADMIN
) -> None:
    """Delete a shop's MakeShop settings, leaving a line in its history (which outlives them)."""
    with transaction.atomic():
        record_change(
            shop=connection.shop, actor=actor, source=source, action="makeshop.deleted",
            changes={
                "makeshop_shop_id": [connection.makeshop_shop_id, None],
                # Lets the staff overview's 30-day chart count the shop until today.
                "status": [connection.status, None],
            },
        )
        close_for_removed_connection(connection.shop)
        connection.delete()
