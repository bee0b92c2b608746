"""Business actions on MakeShop connections: save, verify, rotate keys, transitions.

Views, admin actions and management commands all call these functions, so each
rule lives in one place. Functions take keyword-only arguments; none of them holds a
database transaction open while MakeShop is being called.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from django.db import transaction

from . import crypto
from .models import MakeShopConnection

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
    report = RotationReport()
    last_pk = None
    while True:
        rows = MakeShopConnection.objects.order_by("pk")
        if last_pk is not None:
            rows = rows.filter(pk__gt=last_pk)
        batch = list(rows.values_list("pk", "version", *names)[:batch_size])
        if not batch:
            break
        last_pk = batch[-1][0]
        updates = []
        for pk, version, *tokens in batch:
            report.examined += 1
            if all(token is None or token.kid == keyring.primary for token in tokens):
                continue
            new_values = {}
            try:
                for column, token in zip(columns, tokens, strict=True):
                    if token is None or token.kid == keyring.primary:
                        continue
                    context = _context(column, pk)
                    plaintext = crypto.decrypt(token, context=context, keyring=keyring)
                    new_values[column.attname] = crypto.encrypt(
                        plaintext, context=context, keyring=keyring
                    )
            except crypto.DecryptionError:
                report.undecryptable.append(str(pk))
                continue
            updates.append((pk, version, new_values))
        with transaction.atomic():
            for pk, version, new_values in updates:
                written = MakeShopConnection.objects.filter(pk=pk, version=version).update(
                    **new_values
                )
                if written:
                    report.rotated += 1
                else:
                    report.skipped_concurrent_edit += 1
        if progress:
            progress(report)
    return report


def _context(column, pk) -> str:
    opts = MakeShopConnection._meta
    return f"{opts.app_label}.{opts.model_name}.{column.name}.{pk}"


@dataclass
class CredentialsHealth:
    """Per key id counts of stored secrets and the rows that cannot be decrypted."""

    by_kid: Counter
    undecryptable: list[tuple[str, str]]  # (row id, field name)
    rows: int


def check_stored_credentials(*, batch_size=ROTATION_BATCH_SIZE) -> CredentialsHealth:
    """Try to decrypt every stored secret; report counts, never values."""
    keyring = crypto.get_keyring()
    columns = _secret_columns()
    health = CredentialsHealth(by_kid=Counter(), undecryptable=[], rows=0)
    last_pk = None
    while True:
        rows = MakeShopConnection.objects.order_by("pk")
        if last_pk is not None:
            rows = rows.filter(pk__gt=last_pk)
        batch = list(rows.values_list("pk", *[c.attname for c in columns])[:batch_size])
        if not batch:
            break
        last_pk = batch[-1][0]
        for pk, *tokens in batch:
            health.rows += 1
            for column, token in zip(columns, tokens, strict=True):
                if token is None:
                    continue
                health.by_kid[token.kid or "?"] += 1
                try:
                    crypto.decrypt(token, context=_context(column, pk), keyring=keyring)
                except crypto.DecryptionError:
                    health.undecryptable.append((str(pk), column.name))
    return health
