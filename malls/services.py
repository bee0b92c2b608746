"""Business actions on MakeShop connections: save, verify, rotate keys, transitions.

Views, admin actions and management commands all call these functions, so each
rule lives in one place. Functions take keyword-only arguments; none of them holds a
database transaction open while MakeShop is being called.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import timedelta

from django.db import IntegrityError, connections, router, transaction
from django.utils import timezone
from django.views.decorators.debug import sensitive_variables

from . import crypto
from .alerts.services import note_connection_change  # alerts hook
from .alerts.states import state_of as alert_state  # alerts hook
from .makeshop import Check, CheckResult, MakeShopClient, Outcome, Reason, get_client
from .models import ChangeRecord, MakeShopConnection, MallShop, new_notification_token
from .throttle import SlotWaitTimeout, makeshop_call_slot

ROTATION_BATCH_SIZE = 1000


# --- Keys ---------------------------------------------------------------------------


@dataclass
class RotationReport:
    """What a key rotation did; counts only, never a value."""

    examined: int = 0
    rotated: int = 0
    skipped_concurrent_edit: int = 0
    undecryptable: list[str] = field(default_factory=list)


def _secret_columns():
    return [MakeShopConnection._meta.get_field(name) for name in MakeShopConnection.SECRET_FIELDS]


@sensitive_variables()
def rotate_credentials_keys(*, batch_size=ROTATION_BATCH_SIZE, progress=None) -> RotationReport:
    """Re-encrypt every stored secret that is not under the primary key.

    Walks the table in primary-key order, one batch per transaction, reading raw
    ciphertext rather than model instances so memory stays flat. A row is written
    back only if its ``version`` is unchanged since it was read, so a merchant's
    concurrent save is never overwritten (it is already under the new key anyway).
    Interrupting is safe: finished batches are committed, and a rerun skips rows
    already under the primary key.
    """
    keyring = crypto.get_keyring()
    columns = _secret_columns()
    names = [column.attname for column in columns]
    db = connections[router.db_for_write(MakeShopConnection)]
    pk_field = MakeShopConnection._meta.pk
    quote = db.ops.quote_name
    # Names come from the model's metadata only; every value is a bound parameter.
    update_sql = "UPDATE {table} SET {sets} WHERE {pk} = %s AND {version} = %s".format(  # noqa: S608
        table=quote(MakeShopConnection._meta.db_table),
        sets=", ".join(f"{quote(column.column)} = %s" for column in columns),
        pk=quote(pk_field.column),
        version=quote(MakeShopConnection._meta.get_field("version").column),
    )
    report = RotationReport()
    for batch in _secret_rows("version", *names, batch_size=batch_size):
        updates = []
        for pk, version, *tokens in batch:
            report.examined += 1
            if all(token is None or token.kid == keyring.primary for token in tokens):
                continue
            try:
                new_tokens = [
                    token
                    if token is None or token.kid == keyring.primary
                    else crypto.encrypt(
                        crypto.decrypt(
                            token, context=column.context_for_pk(pk), keyring=keyring
                        ),
                        context=column.context_for_pk(pk),
                        keyring=keyring,
                    )
                    for column, token in zip(columns, tokens, strict=True)
                ]
            except crypto.DecryptionError:
                report.undecryptable.append(str(pk))
                continue
            updates.append((*new_tokens, pk_field.get_db_prep_value(pk, db), version))
        if updates:
            # One statement per batch (executemany): the ORM's per-row update() costs
            # more than the cryptography. The version condition skips rows a person
            # changed since they were read.
            with transaction.atomic(), db.cursor() as cursor:
                cursor.executemany(update_sql, updates)
                written = cursor.rowcount if cursor.rowcount >= 0 else len(updates)
            report.rotated += written
            report.skipped_concurrent_edit += len(updates) - written
        if progress:
            progress(report)
    return report


def _secret_rows(*fields, batch_size):
    """Batches of ``(pk, *fields)`` tuples in primary-key order (keyset pagination).

    Raw values, not model instances, so memory stays flat whatever the table size.
    """
    last_pk = None
    while True:
        rows = MakeShopConnection.objects.order_by("pk")
        if last_pk is not None:
            rows = rows.filter(pk__gt=last_pk)
        batch = list(rows.values_list("pk", *fields)[:batch_size])
        if not batch:
            return
        last_pk = batch[-1][0]
        yield batch


@dataclass
class CredentialsHealth:
    """Per key id counts of stored secrets and the rows that cannot be decrypted."""

    by_kid: Counter
    undecryptable: list[tuple[str, str]]  # (row id, field name)
    rows: int


@sensitive_variables()
def check_stored_credentials(*, batch_size=ROTATION_BATCH_SIZE) -> CredentialsHealth:
    """Try to decrypt every stored secret; report counts, never values."""
    keyring = crypto.get_keyring()
    columns = _secret_columns()
    health = CredentialsHealth(by_kid=Counter(), undecryptable=[], rows=0)
    for batch in _secret_rows(*[c.attname for c in columns], batch_size=batch_size):
        for pk, *tokens in batch:
            health.rows += 1
            for column, token in zip(columns, tokens, strict=True):
                if token is None:
                    continue
                health.by_kid[token.kid or "?"] += 1
                try:
                    crypto.decrypt(token, context=column.context_for_pk(pk), keyring=keyring)
                except crypto.DecryptionError:
                    health.undecryptable.append((str(pk), column.name))
    return health


# --- Verification -------------------------------------------------------------------

# A credential accepted by MakeShop this recently is not checked again on a save
# that leaves it unchanged.
VERIFICATION_FRESH_FOR = timedelta(hours=24)

CHECK_ORDER = (Check.ORDER_AUTH_CODE, Check.PRODUCT_AUTH_CODE, Check.PASSWORD)


class ConcurrentEditError(Exception):
    """The settings changed after the form was opened; the later save is refused."""


class ShopIdTakenError(Exception):
    """The MakeShop shop ID is already connected to another shop."""


@dataclass(frozen=True)
class Verification:
    """The outcome of the checks run against MakeShop, one result per credential.

    ``results`` holds only the checks that ran; a check skipped because MakeShop was
    unreachable on an earlier one is listed in ``not_run``.
    """

    results: dict[Check, CheckResult]
    not_run: tuple[Check, ...] = ()

    @property
    def outcome(self) -> Outcome:
        outcomes = {result.outcome for result in self.results.values()}
        for worst in (Outcome.REJECTED, Outcome.UNREACHABLE, Outcome.UNEXPECTED):
            if worst in outcomes:
                return worst
        return Outcome.ACCEPTED

    @property
    def ok(self) -> bool:
        return self.outcome == Outcome.ACCEPTED and not self.not_run

    @property
    def calls(self) -> int:
        return len(self.results)

    def first_failure(self) -> CheckResult | None:
        for check in CHECK_ORDER:
            result = self.results.get(check)
            if result is not None and result.outcome == self.outcome and not result.ok:
                return result
        return None


def _busy_result(check: Check) -> CheckResult:
    return CheckResult(check=check, outcome=Outcome.UNREACHABLE, reason=Reason.BUSY)


@sensitive_variables()
def check_makeshop_credentials(
    *,
    shop_id: str,
    credentials: dict[Check, str],
    client: MakeShopClient | None = None,
) -> Verification:
    """Ask MakeShop whether each given credential is accepted; change nothing here.

    Calls go one at a time through the shop's call slot. After an UNREACHABLE answer
    the remaining checks are not attempted: they would only wait for the same outage.
    Must not run inside a transaction (the slot needs autocommit, and a transaction
    must never stay open across a remote call).
    """
    if transaction.get_connection().in_atomic_block:
        raise RuntimeError("MakeShop must not be called inside a database transaction")
    client = client or get_client()
    results: dict[Check, CheckResult] = {}
    pending = [check for check in CHECK_ORDER if credentials.get(check)]
    while pending:
        check = pending.pop(0)
        secret = credentials[check]
        try:
            with makeshop_call_slot(shop_id):
                results[check] = client.verify(check, shop_id=shop_id, secret=secret)
        except SlotWaitTimeout:
            results[check] = _busy_result(check)
        if results[check].outcome == Outcome.UNREACHABLE:
            return Verification(results=results, not_run=tuple(pending))
    return Verification(results=results)


@sensitive_variables()
def _saved_secret(connection, name) -> str | None:
    try:
        value = getattr(connection, name)
    except crypto.DecryptionError:
        return None
    return value.reveal() if value else None


def _record_outcome(connection, verification: Verification, now) -> None:
    """Copy a verification's outcome onto ``connection`` (not saved here)."""
    connection.last_checked_at = now
    for check, result in verification.results.items():
        # A credential MakeShop did not accept this time is no longer "fresh".
        setattr(connection, f"{check.secret_field}_verified_at", now if result.ok else None)
    if verification.ok:
        connection.status = MakeShopConnection.Status.VERIFIED
        connection.verified_at = now
        connection.failing_since = None
        connection.failed_check = connection.failure_reason = connection.makeshop_message = ""
        return
    failure = verification.first_failure()
    if verification.outcome == Outcome.REJECTED:
        connection.status = MakeShopConnection.Status.REJECTED
        connection.failing_since = connection.failing_since or now
    else:
        connection.status = MakeShopConnection.Status.UNVERIFIED
    connection.failed_check = str(failure.check) if failure else ""
    connection.failure_reason = ((failure.reason if failure else None) or "")[:40]
    connection.makeshop_message = (failure.message if failure else "")[:500]


@sensitive_variables()
def verify_connection(
    *,
    connection: MakeShopConnection,
    force: bool = True,
    client=None,
    actor=None,
    source=ChangeRecord.Source.COMMAND,
) -> Verification | None:
    """Re-verify saved settings with MakeShop and record the outcome on the shop.

    With ``force=False`` only credentials not accepted within
    ``VERIFICATION_FRESH_FOR`` are checked. The outcome is written only if nobody
    changed the settings while MakeShop was answering (same ``version``);
    otherwise it describes credentials that no longer exist and is dropped.
    Returns None when there is nothing to verify (no shop ID or no secrets).
    """
    if not connection.makeshop_shop_id:
        return None
    now = timezone.now()
    credentials = {}
    for check in CHECK_ORDER:
        name = check.secret_field
        secret = _saved_secret(connection, name)
        verified_at = getattr(connection, f"{name}_verified_at")
        fresh = verified_at and now - verified_at < VERIFICATION_FRESH_FOR
        if secret and (force or not fresh):
            credentials[check] = secret
    if not credentials:
        return None
    verification = check_makeshop_credentials(
        shop_id=connection.makeshop_shop_id, credentials=credentials, client=client
    )
    before = {name: getattr(connection, name) for name in ("status", "failed_check")}
    alert_before = alert_state(connection)  # alerts hook
    _record_outcome(connection, verification, timezone.now())
    fields = [
        "status", "verified_at", "last_checked_at", "failing_since", "failed_check",
        "failure_reason", "makeshop_message", "password_verified_at",
        "order_auth_code_verified_at", "product_auth_code_verified_at",
    ]
    with transaction.atomic():
        written = MakeShopConnection.objects.filter(
            pk=connection.pk, version=connection.version
        ).update(updated_at=timezone.now(), **{name: getattr(connection, name) for name in fields})
        changes = _status_changes(before, connection)
        if written:  # alerts hook
            note_connection_change(connection, alert_before, alert_state(connection))
        if written and changes:
            record_change(
                shop=connection.shop, actor=actor, source=source, action="makeshop.verified",
                changes=changes,
            )
    return verification


@dataclass(frozen=True)
class SaveResult:
    """What happened to a merchant's save.

    ``saved`` says whether anything was written. When MakeShop could not give a
    verdict, ``needs_decision`` asks the merchant whether to keep the new settings
    unverified.
    """

    saved: bool
    verification: Verification | None
    connection: MakeShopConnection
    needs_decision: bool = False


@sensitive_variables()
def save_makeshop_settings(
    *,
    connection: MakeShopConnection,
    shop_id: str,
    password: str | None = None,
    order_auth_code: str | None = None,
    product_auth_code: str | None = None,
    expected_version: int | None,
    keep_unverified: bool = False,
    client=None,
    actor=None,
    source=ChangeRecord.Source.MERCHANT,
) -> SaveResult:
    """Verify new MakeShop settings with MakeShop, then save them if accepted.

    A secret given as None or "" keeps the saved one. Only credentials that changed,
    or were not accepted recently, are checked. A rejection saves nothing, so the
    previously working settings stay as they were. If MakeShop cannot be reached,
    nothing is saved and ``needs_decision`` is set; the merchant may then save with
    ``keep_unverified``, which stores the settings as 接続未確認 without asking
    MakeShop again and queues a background verification.

    Raises ConcurrentEditError if the saved settings changed since
    ``expected_version`` was read, and ShopIdTakenError if another shop already
    uses ``shop_id``.
    """
    new_secrets = {"password": password, "order_auth_code": order_auth_code,
                   "product_auth_code": product_auth_code}
    new_secrets = {name: value for name, value in new_secrets.items() if value}
    is_new = connection._state.adding
    shop_id_changed = is_new or shop_id != connection.makeshop_shop_id
    _refuse_if_stale(connection, expected_version)
    if MakeShopConnection.objects.filter(makeshop_shop_id=shop_id).exclude(
        pk=connection.pk
    ).exists():
        raise ShopIdTakenError(shop_id)

    now = timezone.now()
    credentials: dict[Check, str] = {}
    for check in CHECK_ORDER:
        name = check.secret_field
        saved = None if is_new else _saved_secret(connection, name)
        value = new_secrets.get(name) or saved
        if not value:
            continue
        verified_at = getattr(connection, f"{name}_verified_at")
        fresh = verified_at and now - verified_at < VERIFICATION_FRESH_FOR
        unchanged = value == saved and not shop_id_changed
        if not (unchanged and fresh):
            credentials[check] = value

    verification = None
    # With keep_unverified the merchant saw MakeShop give no verdict and chose to keep
    # these settings: asking again now would only make them wait for the same outage,
    # so the background job verifies them once the transaction commits.
    defer_check = keep_unverified and bool(credentials)
    if credentials and not keep_unverified:
        verification = check_makeshop_credentials(
            shop_id=shop_id, credentials=credentials, client=client
        )
        if verification.outcome == Outcome.REJECTED:
            return SaveResult(saved=False, verification=verification, connection=connection)
        if not verification.ok:
            return SaveResult(
                saved=False, verification=verification, connection=connection,
                needs_decision=True,
            )

    with transaction.atomic():
        target = _lock_for_edit(connection, expected_version)
        alert_before = alert_state(target)  # alerts hook
        changes = _apply_settings(target, shop_id=shop_id, new_secrets=new_secrets)
        before = {"status": target.status}
        if verification is not None:
            _record_outcome(target, verification, timezone.now())
        elif defer_check:
            target.status = MakeShopConnection.Status.UNVERIFIED
            target.failed_check = target.failure_reason = target.makeshop_message = ""
            transaction.on_commit(
                lambda: enqueue_verification(connection_ids=[target.pk], force=False)
            )
        changes.update(_status_changes(before, target))
        try:
            with transaction.atomic():
                target.save()
        except IntegrityError as exc:
            if MakeShopConnection.objects.filter(makeshop_shop_id=shop_id).exclude(
                pk=target.pk
            ).exists():
                raise ShopIdTakenError(shop_id) from exc
            raise ConcurrentEditError(str(target.pk)) from exc
        note_connection_change(target, alert_before, alert_state(target))  # alerts hook
        record_change(
            shop=target.shop, actor=actor, source=source,
            action="makeshop.created" if is_new else "makeshop.settings_saved", changes=changes,
        )
    return SaveResult(saved=True, verification=verification, connection=target)


def _lock_for_edit(connection, expected_version):
    """The row to change, locked; refuses if someone saved since ``expected_version``."""
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

    A credential that changes, or whose shop ID changes, loses its "accepted at" time.
    """
    is_new = target._state.adding
    changes = {}
    if is_new or shop_id != target.makeshop_shop_id:
        changes["makeshop_shop_id"] = [target.makeshop_shop_id, shop_id]
        for name in (check.secret_field for check in CHECK_ORDER):
            setattr(target, f"{name}_verified_at", None)
    target.makeshop_shop_id = shop_id
    for name, value in new_secrets.items():
        if is_new or value != _saved_secret(target, name):
            setattr(target, name, value)
            setattr(target, f"{name}_verified_at", None)
            changes[name] = SECRET_CHANGED
    return changes


@sensitive_variables()
def stage_makeshop_settings(
    *,
    connection: MakeShopConnection,
    shop_id: str,
    new_secrets: dict[str, str],
    expected_version: int | None,
    actor=None,
    source=ChangeRecord.Source.ADMIN,
) -> MakeShopConnection:
    """Save settings without calling MakeShop now; verify them in the background.

    For callers that run inside a transaction (the admin's change form): the row is
    marked 確認待ち and a verification job is enqueued once the transaction commits.
    """
    new_secrets = {name: value for name, value in new_secrets.items() if value}
    is_new = connection._state.adding
    with transaction.atomic():
        target = _lock_for_edit(connection, expected_version)
        alert_before = alert_state(target)  # alerts hook
        changes = _apply_settings(target, shop_id=shop_id, new_secrets=new_secrets)
        # Only something MakeShop can check is marked 確認待ち: a shop ID without any
        # secret would otherwise stay pending for ever.
        verifiable = any(_saved_secret(target, check.secret_field) for check in CHECK_ORDER)
        if changes and verifiable:
            new_status = MakeShopConnection.Status.PENDING
        elif not verifiable:
            new_status = MakeShopConnection.Status.UNSET
        else:
            new_status = target.status
        if new_status != target.status:
            changes["status"] = [target.status, new_status]
            target.status = new_status
        target.save()
        note_connection_change(target, alert_before, alert_state(target))  # alerts hook
        if changes:
            record_change(
                shop=target.shop, actor=actor, source=source,
                action="makeshop.created" if is_new else "makeshop.settings_saved",
                changes=changes,
            )
        if changes and verifiable:
            transaction.on_commit(lambda: enqueue_verification(connection_ids=[target.pk]))
    return target


def enqueue_verification(*, connection_ids, force=True) -> int:
    """Queue background re-verification jobs; returns how many were queued."""
    from .tasks import verify_connection_task

    for pk in connection_ids:
        verify_connection_task.enqueue(str(pk), force=force)
    return len(connection_ids)


def _refuse_if_stale(connection, expected_version) -> None:
    if connection._state.adding:
        return
    current = MakeShopConnection.objects.filter(pk=connection.pk).values_list(
        "version", flat=True
    ).first()
    if current is None or current != expected_version:
        raise ConcurrentEditError(str(connection.pk))


# --- History ------------------------------------------------------------------------

SECRET_CHANGED = "changed"  # noqa: S105 (the word shown instead of a secret)


def record_change(*, shop, actor=None, source, action, changes=None) -> ChangeRecord:
    """Write one history entry. ``changes`` maps field -> [old, new]; secrets -> "changed"."""
    return ChangeRecord.objects.create(
        shop=shop,
        actor=actor if getattr(actor, "is_authenticated", False) else None,
        source=source,
        action=action,
        changes=_json_safe(changes or {}),
    )


def _json_safe(changes):
    safe = {}
    for name, value in changes.items():
        if name in MakeShopConnection.SECRET_FIELDS:
            safe[name] = SECRET_CHANGED  # never a value, not even masked
        elif isinstance(value, (list, tuple)):
            safe[name] = [None if v is None else str(v) for v in value]
        else:
            safe[name] = None if value is None else str(value)
    return safe


def _status_changes(before: dict, connection) -> dict:
    return {
        name: [before[name], getattr(connection, name)]
        for name in before
        if before[name] != getattr(connection, name)
    }


# --- API-use application ------------------------------------------------------------

Application = MallShop.ApplicationStatus

# The only moves staff can make; anything else is refused, whatever a request says.
APPLICATION_TRANSITIONS = {
    "mark_applied": ({Application.NOT_APPLIED, Application.WITHDRAWN}, Application.APPLIED),
    "mark_approved": ({Application.APPLIED}, Application.APPROVED),
    "withdraw": ({Application.APPLIED, Application.APPROVED}, Application.WITHDRAWN),
}


class InvalidTransition(Exception):
    """The shop's application is not in a state this move starts from."""


def allowed_application_actions(shop) -> list[str]:
    return [
        action
        for action, (sources, _target) in APPLICATION_TRANSITIONS.items()
        if shop.application_status in sources
    ]


def transition_application(*, shop, action: str, actor=None, source=ChangeRecord.Source.ADMIN):
    """Move a shop's API-use application one step, atomically, and record it.

    Approval switches the shop's order retrieval to API; withdrawing an approved
    application switches it back to CSV.
    """
    if action not in APPLICATION_TRANSITIONS:
        raise InvalidTransition(action)
    sources, target = APPLICATION_TRANSITIONS[action]
    with transaction.atomic():
        locked = MallShop.objects.select_for_update().get(pk=shop.pk)
        if locked.application_status not in sources:
            raise InvalidTransition(action)
        before = {
            "application_status": locked.application_status,
            "order_retrieval": locked.order_retrieval,
        }
        locked.application_status = target
        if target == Application.APPROVED:
            locked.order_retrieval = MallShop.OrderRetrieval.API
        elif target == Application.WITHDRAWN:
            locked.order_retrieval = MallShop.OrderRetrieval.CSV
        locked.application_updated_at = timezone.now()
        locked.save(update_fields=[*before, "application_updated_at", "updated_at"])
        record_change(
            shop=locked, actor=actor, source=source, action=f"application.{action}",
            changes=_status_changes(before, locked),
        )
    return locked


# --- Notification URL ---------------------------------------------------------------

NOTIFICATION_TOKEN_GRACE = timedelta(hours=24)


def rotate_notification_token(*, connection, actor=None, source=ChangeRecord.Source.MERCHANT):
    """Issue a new notification URL token; the old one keeps working for 24 hours."""
    with transaction.atomic():
        locked = MakeShopConnection.objects.select_for_update().get(pk=connection.pk)
        locked.previous_notification_token = locked.notification_token
        locked.previous_token_expires_at = timezone.now() + NOTIFICATION_TOKEN_GRACE
        locked.notification_token = new_notification_token()
        locked.save(
            update_fields=[
                "previous_notification_token", "previous_token_expires_at",
                "notification_token", "updated_at",
            ]
        )
        record_change(
            shop=locked.shop, actor=actor, source=source, action="notification_url.rotated"
        )
    return locked
