"""Fixed-window hit counters kept in the database, so limits hold across machines."""

import time

from django.db import IntegrityError, transaction
from django.db.models import F

from .models import RateCounter


def hit(key: str, *, limit: int, window_seconds: int, clock=time.time) -> bool:
    """Count one hit for ``key``; return False when it goes over ``limit`` in this window.

    The increment is a single UPDATE (atomic in every database); the row for a new
    window is created on first use, and a concurrent creator is tolerated.
    """
    window = int(clock() // window_seconds)
    updated = RateCounter.objects.filter(key=key, window=window).update(hits=F("hits") + 1)
    if not updated:
        try:
            with transaction.atomic():
                RateCounter.objects.create(
                    key=key, window=window, hits=1, expires_at=(window + 1) * window_seconds
                )
        except IntegrityError:
            RateCounter.objects.filter(key=key, window=window).update(hits=F("hits") + 1)
    hits = RateCounter.objects.filter(key=key, window=window).values_list("hits", flat=True)
    return (hits.first() or 0) <= limit


def prune(*, clock=time.time) -> int:
    """Delete counters whose window has passed (run from a periodic job)."""
    return RateCounter.objects.filter(expires_at__lt=clock()).delete()[0]


def hits_in_window(key: str, *, window_seconds: int, clock=time.time) -> int:
    """How many hits ``key`` has in the current window (without counting one)."""
    window = int(clock() // window_seconds)
    return (
        RateCounter.objects.filter(key=key, window=window).values_list("hits", flat=True).first()
        or 0
    )


def reset(key: str) -> None:
    RateCounter.objects.filter(key=key).delete()
