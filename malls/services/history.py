"""The history of stores and shops: one entry per change, written by the service making it.

Kept by hand rather than by django-simple-history or django-auditlog: an entry is an
action taken through a door (``application.mark_approved`` from the admin, a
verification from a background job), not a diff of a row, and a secret is only ever
"changed" in it.
"""

from functools import cache

from ..models import ChangeRecord

SECRET_CHANGED = "changed"  # noqa: S105 (the word shown instead of a secret)
SECRET_DELETED = "deleted"  # noqa: S105 (the word stored instead of a deleted secret)


def record_change(
    *, shop=None, store=None, actor=None, source, action, changes=None
) -> ChangeRecord:
    """Write one history entry about ``shop`` (or, for a store-wide change, ``store``).

    ``changes`` maps field -> [old, new]; a secret is recorded as "changed", never a value.
    """
    if store is None:
        store = shop.store
    return ChangeRecord.objects.create(
        shop=shop,
        store=store,
        actor=actor if getattr(actor, "is_authenticated", False) else None,
        source=source,
        action=action,
        changes=_json_safe(changes or {}),
    )


@cache
def secret_field_names() -> frozenset[str]:
    """The name of every encrypted field of every model: never recorded with a value.

    Found by field type (as key rotation finds them), so a new mall's secret is
    masked without being listed anywhere.
    """
    from .keys import secret_columns

    return frozenset(f.name for columns in secret_columns().values() for f in columns)


def _json_safe(changes):
    safe = {}
    for name, value in changes.items():
        if name in secret_field_names():
            safe[name] = SECRET_CHANGED  # never a value, not even masked
        elif isinstance(value, (list, tuple)):
            safe[name] = [None if v is None else str(v) for v in value]
        else:
            safe[name] = None if value is None else str(value)
    return safe


def field_changes(before: dict, obj) -> dict:
    """``{name: [old, new]}`` for each field of ``before`` whose value on ``obj`` differs."""
    return {
        name: [before[name], getattr(obj, name)]
        for name in before
        if before[name] != getattr(obj, name)
    }
