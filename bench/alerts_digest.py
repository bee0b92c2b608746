"""Benchmark: the daily staff digest for many broken shops, in time and in queries.

Builds 1,000 shops with open or recent alerts (several causes, a few staff users),
measures ``digest.queue_staff_digest`` (build the report, render it per language,
queue one e-mail per staff user), then grows the same database to 100,000 shops and
measures again. The query count must not grow with the shops; the time grows only
with what the database aggregates. Prints both runs and their ratios.

Usage: .venv/bin/python bench/alerts_digest.py [--small 1000] [--large 100000]
       (DATABASE_URL=postgres://... to run it on PostgreSQL)
"""

import os
import time
from datetime import timedelta

from _common import argument_parser, test_database

CAUSES = [
    ("rejected", "order_auth_code", "token_rejected"),
    ("rejected", "product_auth_code", "token_rejected"),
    ("rejected", "password", "login_refused"),
    ("rejected", "order_auth_code", "not_enabled"),
    ("unverified", "", "legacy_api_retired"),
    ("unverified", "order_auth_code", "timeout"),
]
SHOPS_PER_STORE = 10
BATCH = 5000
_stores = {}  # store number -> Store, across calls


def grow_to(total, *, now):
    """Add shops (and their stores and alerts) until there are ``total``."""
    from malls.alerts.models import ShopAlert
    from malls.models import Mall, MallShop, Store

    mall = Mall.objects.get(code=Mall.MAKESHOP)
    have = MallShop.objects.count()
    for start in range(have, total, BATCH):
        end = min(start + BATCH, total)
        wanted = range(start // SHOPS_PER_STORE, (end - 1) // SHOPS_PER_STORE + 1)
        new = [n for n in wanted if n not in _stores]
        for store in Store.objects.bulk_create([Store(name=f"店舗{n}") for n in new]):
            _stores[int(store.name[2:])] = store
        known = _stores
        shops = MallShop.objects.bulk_create(
            [
                MallShop(store=known[n // SHOPS_PER_STORE], mall=mall, name=f"ショップ{n}")
                for n in range(start, end)
            ]
        )
        alerts = []
        for index, shop in enumerate(shops, start=start):
            status, check, reason = CAUSES[index % len(CAUSES)]
            # A third broke today, the rest have been broken for days; every tenth
            # of today's is already fixed.
            opened = now - timedelta(hours=index % 20) if index % 3 == 0 else now - timedelta(
                days=2 + index % 9
            )
            closed = now - timedelta(minutes=5) if index % 30 == 0 else None
            alerts.append(
                ShopAlert(shop=shop, opened_at=opened, closed_at=closed, status=status,
                          failed_check=check, reason=reason)
            )
        ShopAlert.objects.bulk_create(alerts)


def measure(now, repeat=3):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from malls.alerts import digest
    from malls.alerts.models import AlertMessage

    times = []
    for _ in range(repeat):
        AlertMessage.objects.all().delete()
        with CaptureQueriesContext(connection) as queries:
            started = time.perf_counter()
            queued = digest.queue_staff_digest(now=now)
            times.append(time.perf_counter() - started)
        assert queued == 3, queued
    if os.environ.get("SHOW_QUERIES"):
        for query in queries.captured_queries:
            print(query["sql"][:150])
    return min(times), len(queries)


def main():
    parser = argument_parser(__doc__, smoke={"small": 10, "large": 20})
    parser.add_argument("--small", type=int, default=1000)
    parser.add_argument("--large", type=int, default=100_000)
    args = parser.parse_args()

    with test_database(test_environment=True):
        from django.contrib.auth import get_user_model
        from django.test import override_settings
        from django.utils import timezone

        from malls.alerts.models import AlertPreference

        # Queue only: no job sends the digests, so the numbers are the digest's own.
        override_settings(
            TASKS={"default": {"BACKEND": "django.tasks.backends.dummy.DummyBackend"}}
        ).enable()
        from django.contrib.auth.models import Permission

        view_shops = Permission.objects.get(
            content_type__app_label="malls", codename="view_makeshopconnection"
        )
        users = get_user_model().objects
        for name, language in (("staff-ja", "ja"), ("staff-en", "en"), ("staff-2", "ja")):
            user = users.create_user(name, f"{name}@goq.example", "p", is_staff=True)
            # The digest goes only to staff who may view shops' connections.
            user.user_permissions.add(view_shops)
            AlertPreference.objects.create(user=user, language=language)
        now = timezone.now()
        rows = []
        for shops in (args.small, args.large):
            started = time.perf_counter()
            grow_to(shops, now=now)
            built = time.perf_counter() - started
            seconds, queries = measure(now)
            rows.append((shops, seconds, queries))
            print(f"{shops:>7} shops (built in {built:.1f} s): digest {seconds * 1000:.1f} ms, "
                  f"{queries} queries")
        (small, small_s, small_q), (large, large_s, large_q) = rows
        print(f"shops x{large / small:.0f}: time x{large_s / small_s:.1f}, "
              f"queries x{large_q / small_q:.2f} (constant: {small_q == large_q})")


if __name__ == "__main__":
    main()
