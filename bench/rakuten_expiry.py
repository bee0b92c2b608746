"""Benchmark: the Rakuten licenseKey expiry warnings at 1,000 and 100,000 shops, in time
and in queries.

Each size gets its own database: stores of 10 Rakuten shops with one member each,
keys expiring from 20 days ago to 99 days ahead (spread evenly), and the warnings of
earlier days already given, as after a day of running. Then it measures, through the
alert system's hook (``notices.queue_due``, what ``manage.py send_alerts`` runs):

  1. the day's first run, which queues the day's warnings (keys 14, 7, 3 or 1 days
     from their last day, or on it: about 5 shops in 120) and records them; the
     queries grow by a constant number per batch of ``alerts.WARNINGS_PER_BATCH``
     warnings, never per shop;
  2. a second run the same day (every few minutes in production): nothing due, a
     constant number of queries, reading only the keys inside the 15-day window.

Usage: .venv/bin/python bench/rakuten_expiry.py [--small 1000] [--large 100000]
       (DATABASE_URL=postgres://... to run it on PostgreSQL)
"""

import math
import os
import time
from datetime import UTC, datetime, timedelta

from _common import argument_parser, test_database

SHOPS_PER_STORE = 10
BATCH = 5000
NOW = datetime(2026, 12, 5, 0, 0, tzinfo=UTC)  # 09:00 in Japan


def build(total: int) -> None:
    """``total`` Rakuten shops with a member per store and keys on the schedule."""
    from django.contrib.auth import get_user_model

    from malls.models import Mall, MallShop, Membership, Store
    from malls.rakuten import connections
    from malls.rakuten.models import RakutenConnection

    mall = Mall.objects.get(code="rakuten")
    today = connections.japan_today(NOW)
    users = get_user_model().objects
    for start in range(0, total, BATCH):
        end = min(start + BATCH, total)
        numbers = range(start // SHOPS_PER_STORE, math.ceil(end / SHOPS_PER_STORE))
        stores = Store.objects.bulk_create([Store(name=f"店舗{n}") for n in numbers])
        members = users.bulk_create(
            [users.model(username=f"member{n}", email=f"member{n}@shop.example", password="!")
             for n in numbers]
        )
        Membership.objects.bulk_create(
            [Membership(store=store, user=user) for store, user in zip(stores, members,
                                                                        strict=True)]
        )
        shops = MallShop.objects.bulk_create(
            [MallShop(store=stores[n // SHOPS_PER_STORE - numbers[0]], mall=mall,
                      name=f"楽天ショップ{n}") for n in range(start, end)]
        )
        rows = []
        for index, shop in enumerate(shops, start=start):
            days_left = index % 120 - 20
            expires_on = today + timedelta(days=days_left)
            given = [connections.warning_mark(expires_on, days)
                     for days in connections.WARNING_DAYS if days > days_left]
            rows.append(RakutenConnection(
                shop=shop, shop_url=f"bench-{index}", status="verified",
                expires_on=expires_on, warnings_sent=given,
            ))
        RakutenConnection.objects.bulk_create(rows)


def measure():
    """(seconds, queries, warnings) of the day's first run, then of a second run."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from malls.alerts import notices

    runs = []
    for moment in (NOW, NOW + timedelta(minutes=5)):
        with CaptureQueriesContext(connection) as queries:
            started = time.perf_counter()
            due = notices.queue_due(now=moment)
            seconds = time.perf_counter() - started
        runs.append((seconds, len(queries), due))
        if os.environ.get("SHOW_QUERIES"):
            for query in queries.captured_queries[:20]:
                print(query["sql"][:150])
    return runs


def main():
    parser = argument_parser(__doc__, smoke={"small": 120, "large": 240})
    parser.add_argument("--small", type=int, default=1000)
    parser.add_argument("--large", type=int, default=100_000)
    args = parser.parse_args()
    os.environ.setdefault("LOG_LEVEL", "WARNING")

    results = []
    for shops in (args.small, args.large):
        with test_database() as connection:
            from django.test import override_settings

            from malls.alerts.models import AlertMessage
            from malls.rakuten.alerts import WARNINGS_PER_BATCH

            # Queue only: no job sends the e-mails, so the figures are the job's own.
            override_settings(
                TASKS={"default": {"BACKEND": "django.tasks.backends.dummy.DummyBackend"}}
            ).enable()
            started = time.perf_counter()
            build(shops)
            built = time.perf_counter() - started
            (first_s, first_q, due), (again_s, again_q, again_due) = measure()
            assert again_due == 0, again_due
            e_mails = AlertMessage.objects.count()
            assert e_mails == due, (e_mails, due)  # one member per store
            batches = math.ceil(due / WARNINGS_PER_BATCH)
            print(f"{shops:>7} shops ({connection.vendor}, built in {built:.1f} s): "
                  f"day's first run {first_s * 1000:.0f} ms, {due} warnings queued, "
                  f"{first_q} queries ({batches} batches); second run {again_s * 1000:.1f} ms, "
                  f"{again_q} queries")
            results.append((shops, first_s, first_q, batches, again_s, again_q))
    (small, small_s, small_q, small_b, small_again_s, small_again_q), (
        large, large_s, large_q, large_b, large_again_s, large_again_q
    ) = results
    per_batch = (large_q - small_q) / (large_b - small_b) if large_b != small_b else 0
    print(f"shops x{large / small:.0f}: first run time x{large_s / small_s:.1f}, queries "
          f"{small_q} -> {large_q} ({per_batch:.1f} per batch of warnings, none per shop); "
          f"second run time x{large_again_s / small_again_s:.1f}, queries {small_again_q} -> "
          f"{large_again_q} (constant: {small_again_q == large_again_q})")


if __name__ == "__main__":
    main()
