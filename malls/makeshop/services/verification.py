"""Asking MakeShop whether saved or new credentials work, and recording its answer.

Nothing here holds a database transaction open while MakeShop is being called, and
every call goes through the shop's call slot (``malls.throttle``).
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone
from django.views.decorators.debug import sensitive_variables

from malls import crypto, ratelimits
from malls.alerts.services import note_connection_change
from malls.alerts.states import state_of as alert_state
from malls.makeshop import Check, CheckResult, MakeShopClient, Outcome, Reason, get_client
from malls.makeshop.api import LEGACY_CHECKS
from malls.makeshop.models import MakeShopConnection
from malls.makeshop.services.shop_ids import ShopIdTakenError, claim_shop_id, mark_taken
from malls.makeshop.throttle import makeshop_call_slot
from malls.models import ChangeRecord
from malls.services.history import field_changes, record_change
from malls.throttle import SlotWaitTimeout

logger = logging.getLogger(__name__)

# A credential accepted by MakeShop this recently is not checked again on a save
# that leaves it unchanged.
VERIFICATION_FRESH_FOR = timedelta(hours=24)

# The order auth code proves control of a shop ID: 32 hex characters nobody guesses.
# MakeShop is asked about the password and the product code only after it accepted
# the order code for that shop ID, in the same verification or, with neither the code
# nor the shop ID changed since, within ``VERIFICATION_FRESH_FOR`` (a merchant who
# changes only the password after a recent success still gets it checked). So GoQ can
# never be used to guess a shop's admin password: the guesser would need the code.
PROOF_OF_CONTROL = Check.ORDER_AUTH_CODE

# MakeShop's refusals of any shop ID, counted across every store: past the limit
# (setting ``MAKESHOP_FAILED_CHECKS_PER_SHOP_PER_HOUR``) GoQ asks nothing more about
# that shop ID until the hour's window ends, so GoQ can neither lock a shop's MakeShop
# admin nor get its own address blocked.
REFUSALS_WINDOW_SECONDS = 3600
DEFAULT_REFUSALS_PER_SHOP = 5

# The checks a MakeShop connection's saved settings get, in order (the provider's).
CHECK_ORDER = LEGACY_CHECKS

# The reason recorded when a saved secret cannot be decrypted (a key no longer
# configured, a damaged or swapped ciphertext): its check fails, and the merchant must
# enter it again. Never skipped: a connection with such a secret is never "verified".
UNREADABLE = Reason.UNREADABLE

# What a verification writes on the connection (and nothing else).
OUTCOME_FIELDS = (
    "status", "verified_at", "last_checked_at", "failing_since", "failed_check",
    "failure_reason", "makeshop_message", "password_verified_at",
    "order_auth_code_verified_at", "product_auth_code_verified_at",
)


class ChecksPaused(Exception):
    """MakeShop refused this shop ID too often this hour: nothing was sent to it."""

    def __init__(self, shop_id: str):
        super().__init__(shop_id)
        self.shop_id = shop_id


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


def _unreadable_result(check: Check) -> CheckResult:
    return CheckResult(check=check, outcome=Outcome.REJECTED, reason=UNREADABLE)


def unreadable_verification(checks) -> Verification:
    """The verdict on saved secrets nobody can read: each one's check fails, no call made."""
    return Verification(results={check: _unreadable_result(check) for check in checks})


def unreadable_checks(connection) -> list[Check]:
    """The checks whose saved secret is set but cannot be decrypted."""
    unreadable = []
    for check in CHECK_ORDER:
        try:
            getattr(connection, check.secret_field)
        except crypto.DecryptionError:
            unreadable.append(check)
    return unreadable


@sensitive_variables()
def stored_secrets_unreadable(pk, ciphertexts) -> bool:
    """Whether any of a connection row's stored ciphertexts (``{field: value}`` as
    ``values()`` reads them) cannot be decrypted: a key no longer configured, or a
    ciphertext failing authentication (damaged, or swapped from another row).

    For lists, which read rows without model instances: AES-GCM checks the tag as it
    decrypts, about 4 µs per secret, and the plaintext is dropped at once.
    """
    for name, token in ciphertexts.items():
        if token is None:
            continue
        context = MakeShopConnection._meta.get_field(name).context_for_pk(pk)
        try:
            crypto.decrypt(token, context=context)
        except crypto.DecryptionError:
            return True
    return False


def is_fresh(connection, name: str, now) -> bool:
    """Whether MakeShop accepted the credential ``name`` within ``VERIFICATION_FRESH_FOR``."""
    verified_at = getattr(connection, f"{name}_verified_at")
    return bool(verified_at and now - verified_at < VERIFICATION_FRESH_FOR)


@sensitive_variables()
def saved_secret(connection, name) -> str | None:
    """The saved secret's value; None when unset or unreadable (see ``secret_state``)."""
    try:
        value = getattr(connection, name)
    except crypto.DecryptionError:
        return None
    return value.reveal() if value else None


def _refusals_key(shop_id: str) -> str:
    return f"makeshop:refused:{shop_id}"


def _refusal_limit() -> int:
    return getattr(settings, "MAKESHOP_FAILED_CHECKS_PER_SHOP_PER_HOUR", DEFAULT_REFUSALS_PER_SHOP)


def checks_paused(shop_id: str | None) -> bool:
    """Whether MakeShop refused ``shop_id`` so often this hour that GoQ stopped asking."""
    if not shop_id:
        return False
    refusals = ratelimits.hits_in_window(
        _refusals_key(shop_id), window_seconds=REFUSALS_WINDOW_SECONDS
    )
    return refusals >= _refusal_limit()


def checks_paused_until(shop_id: str | None):
    """When GoQ asks MakeShop about ``shop_id`` again, if it stopped; else None."""
    if not checks_paused(shop_id):
        return None
    window_end = (int(time.time()) // REFUSALS_WINDOW_SECONDS + 1) * REFUSALS_WINDOW_SECONDS
    return datetime.fromtimestamp(window_end, tz=UTC)


def refuse_if_paused(shop_id: str, *, store_id=None) -> None:
    """Raise ChecksPaused, with a warning naming the asking store, while the shop ID's
    checks are paused."""
    if checks_paused(shop_id):
        logger.warning(
            "MakeShop checks for shop %r refused for store %s: too many refusals this hour",
            shop_id, store_id,
        )
        raise ChecksPaused(shop_id)


def _count_refusal(shop_id: str, check: Check, store_id) -> None:
    """Count one refusal of ``shop_id``; the one reaching the limit alerts staff."""
    ratelimits.hit(
        _refusals_key(shop_id), limit=_refusal_limit(), window_seconds=REFUSALS_WINDOW_SECONDS
    )
    if checks_paused(shop_id):
        logger.warning(
            "MakeShop checks for shop %r paused until the hour is over: %d refusals, the last "
            "of the %s for store %s",
            shop_id, _refusal_limit(), check, store_id,
        )


@sensitive_variables()
def check_makeshop_credentials(
    *,
    shop_id: str,
    credentials: dict[Check, str],
    proven: bool = False,
    store_id=None,
    client: MakeShopClient | None = None,
) -> Verification:
    """Ask MakeShop whether each given credential is accepted; change nothing here.

    The order code goes first; the other credentials are sent only once it was
    accepted now, or when ``proven`` (its acceptance for this shop ID is recent and
    nothing changed since, see ``PROOF_OF_CONTROL``). Otherwise they are ``not_run``.
    Calls go one at a time through the shop's call slot. After an UNREACHABLE answer
    the remaining checks are not attempted: they would only wait for the same outage.
    Raises ChecksPaused, sending nothing, while ``checks_paused(shop_id)``; each
    refusal is counted towards that pause (``store_id`` only names the asker in logs).
    Must not run inside a transaction (the slot needs autocommit, and a transaction
    must never stay open across a remote call).
    """
    if transaction.get_connection().in_atomic_block:
        raise RuntimeError("MakeShop must not be called inside a database transaction")
    refuse_if_paused(shop_id, store_id=store_id)
    client = client or get_client()
    results: dict[Check, CheckResult] = {}
    pending = [check for check in CHECK_ORDER if credentials.get(check)]
    if PROOF_OF_CONTROL not in pending and not proven:
        return Verification(results=results, not_run=tuple(pending))
    while pending:
        check = pending.pop(0)
        secret = credentials[check]
        try:
            with makeshop_call_slot(shop_id):
                results[check] = client.verify(Check(check), shop_id=shop_id, secret=secret)
        except SlotWaitTimeout:
            results[check] = _busy_result(check)
        result = results[check]
        if result.outcome == Outcome.REJECTED:
            _count_refusal(shop_id, check, store_id)
        if result.outcome == Outcome.UNREACHABLE or (check == PROOF_OF_CONTROL and not result.ok):
            return Verification(results=results, not_run=tuple(pending))
    return Verification(results=results)


def record_outcome(connection, verification: Verification, now) -> None:
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
    reason_limit = MakeShopConnection._meta.get_field("failure_reason").max_length
    message_limit = MakeShopConnection._meta.get_field("makeshop_message").max_length
    connection.failed_check = str(failure.check) if failure else ""
    connection.failure_reason = ((failure.reason if failure else None) or "")[:reason_limit]
    connection.makeshop_message = (failure.message if failure else "")[:message_limit]


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
    Returns None when there is nothing to verify (no shop ID or no secrets), or when
    MakeShop refused the shop ID so often this hour that GoQ asks nothing about it
    (``checks_paused``): a stranger's guesses must not turn the owner's shop red.

    A saved secret that cannot be decrypted fails its check (``UNREADABLE``) and
    MakeShop is not asked at all: the connection is recorded as rejected, never
    verified, until the merchant enters the secret again.
    """
    if not connection.makeshop_shop_id:
        return None
    unreadable = unreadable_checks(connection)
    if unreadable:
        verification = unreadable_verification(unreadable)
    else:
        now = timezone.now()
        credentials = {}
        for check in CHECK_ORDER:
            name = check.secret_field
            secret = saved_secret(connection, name)
            if secret and (force or not is_fresh(connection, name, now)):
                credentials[check] = secret
        if not credentials:
            return None
        try:
            verification = check_makeshop_credentials(
                shop_id=connection.makeshop_shop_id, credentials=credentials, client=client,
                proven=is_fresh(connection, PROOF_OF_CONTROL.secret_field, now),
                store_id=connection.shop.store_id,
            )
        except ChecksPaused:
            return None  # nothing was asked, so nothing is recorded: the next run asks
    before = {name: getattr(connection, name) for name in ("status", "failed_check")}
    alert_before = alert_state(connection)
    now = timezone.now()
    record_outcome(connection, verification, now)
    with transaction.atomic():
        # The outcome is about the settings as read: dropped if they changed meanwhile.
        if not MakeShopConnection.objects.select_for_update().filter(
            pk=connection.pk, version=connection.version
        ).exists():
            return verification
        if verification.ok:
            try:
                claim_shop_id(connection, connection.makeshop_shop_id, now=now, source=source)
            except ShopIdTakenError:
                mark_taken(connection, now=now)
        try:
            with transaction.atomic():
                _write_outcome(connection)
        except IntegrityError:  # a verified claim on the same ID committed meanwhile
            mark_taken(connection, now=now)
            _write_outcome(connection)
        note_connection_change(connection, alert_before, alert_state(connection))
        changes = field_changes(before, connection)
        if changes:
            record_change(
                shop=connection.shop, actor=actor, source=source, action="makeshop.verified",
                changes=changes,
            )
    return verification


def _write_outcome(connection) -> None:
    MakeShopConnection.objects.filter(pk=connection.pk).update(
        updated_at=timezone.now(), **{name: getattr(connection, name) for name in OUTCOME_FIELDS}
    )


def verifiable_connections():
    """Connections with a shop ID and at least one saved secret: something to ask about."""
    has_secret = Q()
    for name in MakeShopConnection.SECRET_FIELDS:
        has_secret |= Q(**{f"{name}__isnull": False})
    return MakeShopConnection.objects.filter(has_secret, makeshop_shop_id__isnull=False)
