"""Who may act for a store: memberships added and removed, each recorded in the store's history."""

from __future__ import annotations

from django.db import transaction

from ..models import ChangeRecord, Membership
from .history import record_change


def add_member(*, store, user, actor=None, source=ChangeRecord.Source.ADMIN) -> Membership:
    """Give ``user`` access to ``store``; adding an existing member changes nothing."""
    with transaction.atomic():
        membership, created = Membership.objects.get_or_create(store=store, user=user)
        if created:
            record_change(
                store=store, actor=actor, source=source, action="membership.added",
                changes={"user": [None, user.get_username()]},
            )
    return membership


def remove_member(*, membership, actor=None, source=ChangeRecord.Source.ADMIN) -> None:
    """Take a user's access to a store away."""
    with transaction.atomic():
        record_change(
            store=membership.store, actor=actor, source=source, action="membership.removed",
            changes={"user": [membership.user.get_username(), None]},
        )
        membership.delete()
