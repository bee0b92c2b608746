"""Fixed-window hit counters kept in the database, so limits hold across machines."""

import time

from django.db import connection

from .models import RateCounter


def hit(key: str, *, limit: int, window_seconds: int, clock=time.time) -> bool:
    """Count one hit for ``key``; return False when it goes over ``limit`` in this window.

    One upsert statement (INSERT ... ON CONFLICT ... DO UPDATE ... RETURNING, in both
    PostgreSQL and SQLite 3.35+): atomic under concurrency, one round trip.
    """
    window = int(clock() // window_seconds)
    with connection.cursor() as cursor:
        cursor.execute(_UPSERT_SQL, [key, window, (window + 1) * window_seconds])
        (hits,) = cursor.fetchone()
    return hits <= limit


def _upsert_sql() -> str:
    table = RateCounter._meta.db_table
    # Built from the model's own table name only; values are bound parameters.
    insert = f'INSERT INTO "{table}" ("key", "window", "hits", "expires_at") '  # noqa: S608
    return (
        insert + "VALUES (%s, %s, 1, %s) "
        f'ON CONFLICT ("key", "window") DO UPDATE SET "hits" = "{table}"."hits" + 1 '
        'RETURNING "hits"'
    )


_UPSERT_SQL = _upsert_sql()


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
