"""A store's shops on the malls: added, renamed or moved, deleted, each with its history."""

from __future__ import annotations

from django.db import transaction

from ..models import ChangeRecord, MallShop
from .history import record_change

# What staff may change on a shop; the application moves only through its workflow.
EDITABLE_FIELDS = ("store", "mall", "name")


def add_shop(*, store, mall, name, actor=None, source=ChangeRecord.Source.MERCHANT) -> MallShop:
    """Add a shop to ``store`` on ``mall``."""
    with transaction.atomic():
        shop = MallShop.objects.create(store=store, mall=mall, name=name)
        record_change(
            shop=shop, actor=actor, source=source, action="shop.created",
            changes={"store": [None, str(store)], "mall": [None, str(mall)], "name": [None, name]},
        )
    return shop


def edit_shop(*, shop, actor=None, source=ChangeRecord.Source.ADMIN, **values) -> MallShop:
    """Change a shop's store, mall or name; records only what really changed.

    A shop moved to another store is recorded in the new store's history (the entry
    follows the shop).
    """
    unknown = set(values) - set(EDITABLE_FIELDS)
    if unknown:
        raise ValueError(f"not editable here: {', '.join(sorted(unknown))}")
    with transaction.atomic():
        locked = MallShop.objects.select_for_update().get(pk=shop.pk)
        changes = {}
        for name, value in values.items():
            old = getattr(locked, name)
            if old != value:
                changes[name] = [str(old), str(value)]
                setattr(locked, name, value)
        if not changes:
            return locked
        locked.save(update_fields=[*changes, "updated_at"])
        record_change(shop=locked, actor=actor, source=source, action="shop.edited",
                      changes=changes)
    return locked


def delete_shop(*, shop, actor=None, source=ChangeRecord.Source.ADMIN) -> None:
    """Delete a shop and its settings; its history stays with its store."""
    with transaction.atomic():
        record_change(
            shop=shop, actor=actor, source=source, action="shop.deleted",
            changes={"name": [shop.name, None]},
        )
        shop.delete()
