"""The periodic jobs, as plain functions the connection core schedules (the provider
lists them): the 10-minute re-check of pending keys and the daily expiry re-read.

Each works in bounded batches with a constant number of queries per batch, asks RMS
for one shop at a time through the shared client (which spaces a shop's calls), and
returns how many shops it asked about.
"""

from datetime import timedelta

from django.db.models import Q
from django.utils import timezone

from . import connections, services
from .connections import Status
from .models import RakutenConnection

BATCH_SIZE = 500


def recheck_pending(*, now=None, client=None) -> int:
    """Every 10 minutes: pending keys whose re-check is due, and settings RMS gave no
    verdict on (unreachable, unreadable), asked again."""
    now = now or timezone.now()
    due_before = now - connections.RECHECK_EVERY
    waiting = RakutenConnection.objects.filter(
        Q(status=Status.PENDING_ACTIVATION)
        | Q(status__in=[Status.UNREACHABLE, Status.UNVERIFIED], last_checked_at__lte=due_before)
    ).select_related("shop")
    asked = 0
    for connection in waiting.iterator(chunk_size=BATCH_SIZE):
        if connection.status == Status.PENDING_ACTIVATION and not connections.recheck_due(
            connection.status, key_changed_at=connection.key_changed_at,
            last_checked_at=connection.last_checked_at, now=now,
        ):
            continue
        services.recheck(connection, client=client, now=now)
        asked += 1
    return asked


def refresh_expiry_dates(*, now=None, client=None) -> int:
    """Daily: the expiry date of every connection RMS has verified, read again (a key
    renewed in RMS but not pasted here, or shortened, shows up)."""
    now = now or timezone.now()
    read_before = now - timedelta(hours=20)  # once a day, even if the job runs late
    verified = RakutenConnection.objects.filter(
        status=Status.VERIFIED, verified_at__isnull=False
    ).filter(Q(last_checked_at__isnull=True) | Q(last_checked_at__lte=read_before))
    asked = 0
    for connection in verified.select_related("shop").iterator(chunk_size=BATCH_SIZE):
        services.refresh_expiry(connection, client=client, now=now)
        asked += 1
    return asked


def due_warnings(*, now=None):
    """The expiry warnings due today, as (connection, warning) pairs; the alert system
    sends each and then calls ``services.mark_warning_sent``."""
    now = now or timezone.now()
    today = connections.japan_today(now)
    horizon = today + timedelta(days=connections.EXPIRING_FROM_DAYS)
    candidates = RakutenConnection.objects.filter(
        expires_on__isnull=False, expires_on__lte=horizon
    ).exclude(status=Status.UNSET).select_related("shop", "shop__store")
    for connection in candidates.iterator(chunk_size=BATCH_SIZE):
        warning = connections.warning_due(connection.expires_on, today, connection.warnings_sent)
        if warning is not None:
            yield connection, warning
