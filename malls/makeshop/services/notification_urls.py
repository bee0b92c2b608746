"""A shop's update-notification URL: issuing a new one, and forgetting retired ones.

When a new URL is issued the old one keeps working for ``NOTIFICATION_TOKEN_GRACE``,
so the merchant has time to paste the new one into MakeShop. Only one retired URL is
kept: a second new URL while an earlier one is in its grace period is refused
(``NotificationUrlInGrace``), so every URL ever shown works for its full grace
period, however often someone presses the button. A URL that leaked can be stopped
at once instead (``stop_previous_notification_url``): an explicit choice, never a
side effect of issuing another.
"""

from __future__ import annotations

from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from malls.makeshop.models import MakeShopConnection, new_notification_token
from malls.models import ChangeRecord
from malls.services.history import record_change

# How long a retired URL keeps working, so the merchant has time to paste the new one.
NOTIFICATION_TOKEN_GRACE = timedelta(hours=24)


class NotificationUrlInGrace(Exception):
    """A URL retired earlier still works until ``until``; a new one now would cut it off."""

    def __init__(self, until):
        super().__init__(until.isoformat())
        self.until = until


def rotate_notification_token(*, connection, actor=None, source=ChangeRecord.Source.MERCHANT):
    """Issue a new notification URL token; the old one keeps working for the grace period.

    Raises NotificationUrlInGrace while a URL retired earlier is still in its grace.
    """
    with transaction.atomic():
        locked = MakeShopConnection.objects.select_for_update().get(pk=connection.pk)
        if locked.previous_notification_token and (
            locked.previous_token_expires_at and locked.previous_token_expires_at > timezone.now()
        ):
            raise NotificationUrlInGrace(locked.previous_token_expires_at)
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


def stop_previous_notification_url(
    *, connection, actor=None, source=ChangeRecord.Source.MERCHANT
) -> bool:
    """Stop the retired URL now, before its grace period ends (it leaked, say).

    From then on it answers as an unknown URL. Returns False, recording nothing, when
    no retired URL is still working. Issuing a new URL is allowed again at once.
    """
    with transaction.atomic():
        locked = MakeShopConnection.objects.select_for_update().get(pk=connection.pk)
        if not locked.previous_notification_token or not (
            locked.previous_token_expires_at and locked.previous_token_expires_at > timezone.now()
        ):
            return False
        locked.previous_notification_token = ""
        locked.previous_token_expires_at = None
        locked.save(
            update_fields=["previous_notification_token", "previous_token_expires_at", "updated_at"]
        )
        record_change(
            shop=locked.shop, actor=actor, source=source, action="notification_url.old_stopped"
        )
    return True


def forget_expired_notification_tokens(*, now=None, source=ChangeRecord.Source.COMMAND) -> int:
    """Forget retired tokens whose grace period has passed; returns how many.

    Each forgotten token is a line in its shop's history: from then on the old URL
    answers 404, and the history says since when.
    """
    now = now or timezone.now()
    expired = MakeShopConnection.objects.filter(previous_token_expires_at__lt=now).exclude(
        previous_notification_token=""
    )
    forgotten = 0
    with transaction.atomic():
        for connection in expired.select_for_update(of=("self",)).select_related("shop__store"):
            connection.previous_notification_token = ""
            connection.previous_token_expires_at = None
            connection.save(update_fields=["previous_notification_token",
                                           "previous_token_expires_at", "updated_at"])
            record_change(
                shop=connection.shop, source=source, action="notification_url.old_forgotten"
            )
            forgotten += 1
    return forgotten
