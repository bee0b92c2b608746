"""Key rotation and the health of stored secrets; counts and row ids only, never a value."""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from typing import NamedTuple

from django.apps import apps
from django.db import connections, models, router, transaction
from django.views.decorators.debug import sensitive_variables

from .. import crypto
from ..fields import EncryptedSecretField

ROTATION_BATCH_SIZE = 1000


class SecretRef(NamedTuple):
    """Where one stored secret is: model (``app_label.model_name``), row id, field name."""

    model: str
    pk: str
    field: str


@dataclass
class RotationReport:
    """What a key rotation did; counts and row ids only, never a value.

    ``undecryptable`` lists each secret no configured key can read: those stay as
    they are and must be entered again; every readable secret of the same row is
    rotated all the same. ``examined`` and ``rotated`` count rows of every model.
    """

    examined: int = 0
    rotated: int = 0
    skipped_concurrent_edit: int = 0
    undecryptable: list[SecretRef] = field(default_factory=list)


def secret_columns() -> dict[type[models.Model], list[EncryptedSecretField]]:
    """Every ``EncryptedSecretField`` of every installed model, by model.

    Found by field type, not from a list, so a secret column added anywhere (a new
    mall's connection, an app token) is rotated and checked without touching this
    module. Proxy and unmanaged models are left out: their table belongs to another.
    """
    found = {}
    for model in apps.get_models():
        opts = model._meta
        if opts.proxy or not opts.managed:
            continue
        columns = [f for f in opts.concrete_fields if isinstance(f, EncryptedSecretField)]
        if columns:
            found[model] = columns
    return found


@sensitive_variables()
def rotate_credentials_keys(*, batch_size=ROTATION_BATCH_SIZE, progress=None) -> RotationReport:
    """Re-encrypt every stored secret that is not under the primary key.

    Walks each table holding secrets in primary-key order, one batch per
    transaction, reading raw ciphertext rather than model instances so memory stays
    flat. A secret is written back only where its column still holds the very
    ciphertext that was read (compare and swap: a fresh nonce makes every saved
    value unique), so a concurrent save is never overwritten, whatever the model.
    Interrupting is safe: finished batches are committed, and a rerun skips rows
    already under the primary key. A secret that cannot be decrypted is left as it
    is and reported; the row's other secrets move, so once the report lists no
    readable secret under an old key, that key can be retired.
    """
    keyring = crypto.get_keyring()
    report = RotationReport()
    for model, columns in secret_columns().items():
        _rotate_model(model, columns, keyring, report, batch_size, progress)
    return report


def _rotate_model(model, columns, keyring, report, batch_size, progress):
    db = connections[router.db_for_write(model)]
    pk_field = model._meta.pk
    label = model._meta.label_lower
    for batch in _secret_rows(model, [c.attname for c in columns], batch_size=batch_size):
        # Rows grouped by which columns change, so each group is one statement.
        updates = defaultdict(list)
        for pk, *tokens in batch:
            report.examined += 1
            changed = []
            for column, token in zip(columns, tokens, strict=True):
                new = _reencrypted(token, column, pk, keyring, report, label)
                if new is not token:
                    changed.append((column, token, new))
            if changed:
                key = tuple(column for column, _, _ in changed)
                news = [str(new) for _, _, new in changed]
                olds = [str(old) for _, old, _ in changed]
                updates[key].append((*news, pk_field.get_db_prep_value(pk, db), *olds))
        for changed_columns, rows in updates.items():
            # One statement per group (executemany): the ORM's per-row update() costs
            # more than the cryptography. The old-value condition skips secrets a
            # person changed since they were read.
            with transaction.atomic(using=db.alias), db.cursor() as cursor:
                cursor.executemany(_swap_sql(db, model, changed_columns), rows)
                written = cursor.rowcount if cursor.rowcount >= 0 else len(rows)
            report.rotated += written
            report.skipped_concurrent_edit += len(rows) - written
        if progress:
            progress(report)


def _swap_sql(db, model, columns) -> str:
    quote = db.ops.quote_name
    # Names come from the model's metadata only; every value is a bound parameter.
    return "UPDATE {table} SET {sets} WHERE {pk} = %s AND {same}".format(  # noqa: S608
        table=quote(model._meta.db_table),
        sets=", ".join(f"{quote(c.column)} = %s" for c in columns),
        pk=quote(model._meta.pk.column),
        same=" AND ".join(f"{quote(c.column)} = %s" for c in columns),
    )


@sensitive_variables()
def _reencrypted(token, column, pk, keyring, report, label):
    """``token`` under the primary key; the same object if it already is, or if unreadable."""
    if token is None or token.kid == keyring.primary:
        return token
    context = column.context_for_pk(pk)
    try:
        plaintext = crypto.decrypt(token, context=context, keyring=keyring)
    except crypto.DecryptionError:
        report.undecryptable.append(SecretRef(label, str(pk), column.name))
        return token
    return crypto.encrypt(plaintext, context=context, keyring=keyring)


def _secret_rows(model, fields, *, batch_size):
    """Batches of ``(pk, *fields)`` tuples in primary-key order (keyset pagination).

    Raw values, not model instances, so memory stays flat whatever the table size.
    """
    last_pk = None
    while True:
        rows = model._base_manager.order_by("pk")
        if last_pk is not None:
            rows = rows.filter(pk__gt=last_pk)
        batch = list(rows.values_list("pk", *fields)[:batch_size])
        if not batch:
            return
        last_pk = batch[-1][0]
        yield batch


@dataclass
class CredentialsHealth:
    """Per key id counts of stored secrets and the secrets that cannot be decrypted."""

    by_kid: Counter
    undecryptable: list[SecretRef]
    rows: int


@sensitive_variables()
def check_stored_credentials(*, batch_size=ROTATION_BATCH_SIZE) -> CredentialsHealth:
    """Try to decrypt every stored secret of every model; report counts, never values."""
    keyring = crypto.get_keyring()
    health = CredentialsHealth(by_kid=Counter(), undecryptable=[], rows=0)
    for model, columns in secret_columns().items():
        label = model._meta.label_lower
        for batch in _secret_rows(model, [c.attname for c in columns], batch_size=batch_size):
            for pk, *tokens in batch:
                health.rows += 1
                for column, token in zip(columns, tokens, strict=True):
                    if token is None:
                        continue
                    health.by_kid[token.kid or "?"] += 1
                    try:
                        crypto.decrypt(token, context=column.context_for_pk(pk), keyring=keyring)
                    except crypto.DecryptionError:
                        health.undecryptable.append(SecretRef(label, str(pk), column.name))
    return health


def readable_key_ids() -> frozenset[str]:
    """The ids of the configured keys: a stored secret under any other id cannot be read.

    Lets a list flag unreadable secrets from their ciphertext's key id, without
    decrypting anything.
    """
    return frozenset(crypto.get_keyring().keys)
