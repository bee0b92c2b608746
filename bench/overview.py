"""Benchmark: the staff overview (the admin's index) at 1,000 and 100,000 shops.

Prints, for each size, the median time and the query count of:
  - index: the admin's index page as staff open it (the overview's counts, the 30-day
    chart read from the history, the lists);
  - overview: ``malls.makeshop.admin.overview.build_overview()`` alone, the figures
    without the page.
Each shop has its MakeShop connection in one of the states (7 in 10 working) and one or
two recorded status changes within the last 40 days, as the services write them. The
query count must be the same at both sizes.

Usage: .venv/bin/python bench/overview.py [--rows 100000] [--small 1000] [--repeat 11]
Uses a throw-away test database (SQLite unless DATABASE_URL says otherwise); secrets
are left empty (the overview never decrypts them).
"""

import statistics
import time
import uuid
from datetime import timedelta

from _common import argument_parser, test_database

SHOPS_PER_STORE = 10
BATCH = 5_000  # a multiple of SHOPS_PER_STORE


def add_rows(target: int) -> None:
    """Grow the tables to ``target`` shops, each with its connection and its history."""
    from django.utils import timezone

    from malls.makeshop.models import MakeShopConnection
    from malls.models import ChangeRecord, Mall, MallShop, Store

    Status = MakeShopConnection.Status
    mall, _ = Mall.objects.get_or_create(code=Mall.MAKESHOP, defaults={"name": "MakeShop",
                                                                       "name_en": "MakeShop"})
    now = timezone.now()
    statuses = [Status.VERIFIED] * 7 + [Status.REJECTED, Status.UNVERIFIED, Status.PENDING]
    reasons = [("order_auth_code", "token_rejected"), ("password", "login_refused"),
               ("product_auth_code", "not_enabled")]
    applications = list(MallShop.ApplicationStatus)
    start = MallShop.objects.count()
    # History is dated in the past here; for everyone else the column is auto_now_add.
    at_field = ChangeRecord._meta.get_field("at")
    at_field.auto_now_add = False
    try:
        for first in range(start, target, BATCH):
            numbers = range(first, min(first + BATCH, target))
            stores = Store.objects.bulk_create(
                [Store(name=f"店舗{n // SHOPS_PER_STORE:06d}") for n in numbers
                 if n % SHOPS_PER_STORE == 0]
            )
            shops = MallShop.objects.bulk_create([
                MallShop(store=stores[(n - first) // SHOPS_PER_STORE], mall=mall,
                         name=f"ショップ{n:06d}",
                         application_status=applications[n % len(applications)])
                for n in numbers
            ])
            connections, history = [], []
            for n, shop in zip(numbers, shops, strict=True):
                status = statuses[n % len(statuses)]
                worked = status != Status.PENDING
                failing = status in (Status.REJECTED, Status.UNVERIFIED)
                changed_at = now - timedelta(hours=n % 700)
                check, reason = reasons[n % len(reasons)] if failing else ("", "")
                connections.append(MakeShopConnection(
                    id=uuid.uuid4(), shop=shop, makeshop_shop_id=f"shop-{n:06d}", status=status,
                    verified_at=changed_at - timedelta(days=1) if worked else None,
                    failing_since=changed_at if status == Status.REJECTED else None,
                    failed_check=check, failure_reason=reason,
                ))
                first_state = "verified" if worked else "pending"
                history.append(ChangeRecord(
                    store=shop.store, shop=shop, source="task", action="makeshop.verified",
                    at=changed_at - timedelta(days=1 + n % 10),
                    changes={"status": ["unset", first_state]},
                ))
                if status != first_state:
                    history.append(ChangeRecord(
                        store=shop.store, shop=shop, source="task", action="makeshop.verified",
                        at=changed_at, changes={"status": [first_state, status]},
                    ))
            MakeShopConnection.objects.bulk_create(connections)
            ChangeRecord.objects.bulk_create(history)
    finally:
        at_field.auto_now_add = True
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")


def timed(call, repeat):
    """Median seconds of ``call()`` and the queries one call makes."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    times = []
    for round_ in range(repeat + 2):
        started = time.perf_counter()
        call()
        if round_ >= 2:  # the first rounds warm caches
            times.append(time.perf_counter() - started)
    with CaptureQueriesContext(connection) as queries:
        call()
    return statistics.median(times), len(queries)


def main():
    parser = argument_parser(__doc__, smoke={"rows": 20, "small": 10, "repeat": 1})
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--small", type=int, default=1_000)
    parser.add_argument("--repeat", type=int, default=11)
    args = parser.parse_args()

    # No setup_test_environment(): its template instrumentation would slow every page.
    with test_database() as connection:
        from django.conf import settings
        from django.contrib.auth import get_user_model
        from django.test import Client

        from malls.makeshop.admin import overview

        settings.ALLOWED_HOSTS = ["testserver"]
        settings.DEBUG = False
        staff = get_user_model().objects.create_superuser("bench-staff", "", "bench-pass-2026")
        client = Client()
        client.force_login(staff)

        def index():
            assert client.get("/admin/").status_code == 200

        print(f"database: {connection.vendor}; median of {args.repeat}")
        results = {}
        for size in (args.small, args.rows):
            started = time.perf_counter()
            add_rows(size)
            print(f"\n{size:,} shops (built in {time.perf_counter() - started:.1f} s)")
            for name, call in (("index", index), ("overview", overview.build_overview)):
                seconds, queries = results[size, name] = timed(call, args.repeat)
                print(f"  {name:<10} {seconds * 1000:8.1f} ms  {queries:3d} queries")
        for name in ("index", "overview"):
            small_q, large_q = results[args.small, name][1], results[args.rows, name][1]
            verdict = "constant" if small_q == large_q else "GROWS"
            print(f"\n{name}: {small_q} queries at {args.small:,}, {large_q} at {args.rows:,}"
                  f" ({verdict})", end="")
        print()


if __name__ == "__main__":
    main()
