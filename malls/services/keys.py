"""Key rotation and the health of stored secrets; counts and row ids only, never a value."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from django.db import connections, router, transaction
from django.views.decorators.debug import sensitive_variables

from .. import crypto
from ..models import MakeShopConnection

ROTATION_BATCH_SIZE = 1000


@dataclass
class RotationReport:
    """What a key rotation did; counts and row ids only, never a value.

    ``undecryptable`` lists each secret no configured key can read, as (row id,
    field name): those stay as they are and must be entered again; every readable
    secret of the same row is rotated all the same.
    """

    examined: int = 0
    rotated: int = 0
    skipped_concurrent_edit: int = 0
    undecryptable: list[tuple[str, str]] = field(default_factory=list)


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
    already under the primary key. A secret that cannot be decrypted is left as it is
    and reported; the row's other secrets move, so once the report lists no readable
    secret under an old key, that key can be retired.
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
            new_tokens = [
                _reencrypted(token, column, pk, keyring, report)
                for column, token in zip(columns, tokens, strict=True)
            ]
            if new_tokens == list(tokens):  # nothing readable to move
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


@sensitive_variables()
def _reencrypted(token, column, pk, keyring, report):
    """``token`` under the primary key; unchanged if it already is, or if nobody can read it."""
    if token is None or token.kid == keyring.primary:
        return token
    context = column.context_for_pk(pk)
    try:
        plaintext = crypto.decrypt(token, context=context, keyring=keyring)
    except crypto.DecryptionError:
        report.undecryptable.append((str(pk), column.name))
        return token
    return crypto.encrypt(plaintext, context=context, keyring=keyring)


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


def readable_key_ids() -> frozenset[str]:
    """The ids of the configured keys: a stored secret under any other id cannot be read.

    Lets a list flag unreadable secrets from their ciphertext's key id, without
    decrypting anything.
    """
    return frozenset(crypto.get_keyring().keys)
