"""Benchmark: staff's MakeShop connection list in the admin, at 1,000 and 100,000 shops.

Prints, for each size, the median time and the query count of one changelist page:
  - ours: ``MakeShopConnectionAdmin`` as staff use it (store and application from the
    joined shop and store, the broken-connection hint, four filters, search, actions);
  - plain: a default ``ModelAdmin`` on the same table, rows and order, showing the
    connection's own columns only (no joins, no filters, no search, no custom code);
  - plain shops: a default ``ModelAdmin`` on the MallShop table (same number of rows), the
    comparison the brief suggested.
The ratio ours / plain is the figure to watch (goal <= 2); the query count must be the
same at both sizes. A filtered and a searched page are timed at the larger size too.

Usage: .venv/bin/python bench/admin.py [--rows 100000] [--small 1000] [--repeat 15]
Uses a throw-away test database (SQLite unless DATABASE_URL says otherwise); secrets
are left empty, so the status column's check for unreadable secrets (one decryption per
saved secret on the page, ~4 µs each) is not in these figures.
"""

import statistics
import sys
import time
import types
import uuid
from datetime import timedelta

from _common import argument_parser, test_database

SHOPS_PER_STORE = 10
BATCH = 5_000  # a multiple of SHOPS_PER_STORE


def build_urls():
    """The real admin plus two bare ones, mounted on a URLconf of this benchmark's own."""
    from django.contrib import admin
    from django.urls import path

    from malls.makeshop.models import MakeShopConnection
    from malls.models import MallShop

    plain = admin.AdminSite(name="plain")
    plain.register(
        MakeShopConnection,
        type("PlainConnectionAdmin", (admin.ModelAdmin,), {
            "list_display": ["makeshop_shop_id", "status", "verified_at", "failed_check",
                             "makeshop_message", "last_notification_at", "last_checked_at"],
            "ordering": ["makeshop_shop_id"],
        }),
    )
    plain.register(
        MallShop,
        type("PlainShopAdmin", (admin.ModelAdmin,), {
            "list_display": ["name", "order_retrieval", "application_status",
                             "application_updated_at", "created_at", "updated_at"],
            "ordering": ["pk"],
        }),
    )
    module = types.ModuleType("bench_admin_urls")
    module.urlpatterns = [path("admin/", admin.site.urls), path("plain/", plain.urls)]
    sys.modules[module.__name__] = module
    return module.__name__


def add_rows(target: int) -> None:
    """Grow the tables to ``target`` shops, each with its MakeShop connection."""
    from django.utils import timezone

    from malls.makeshop.models import MakeShopConnection
    from malls.models import Mall, MallShop, Store

    Status = MakeShopConnection.Status
    Application = MallShop.ApplicationStatus
    mall, _ = Mall.objects.get_or_create(code=Mall.MAKESHOP, defaults={"name": "MakeShop",
                                                                       "name_en": "MakeShop"})
    now = timezone.now()
    start = MallShop.objects.count()
    statuses = [Status.VERIFIED] * 7 + [Status.REJECTED, Status.UNVERIFIED, Status.PENDING]
    applications = list(Application)
    for first in range(start, target, BATCH):
        numbers = range(first, min(first + BATCH, target))
        stores = Store.objects.bulk_create(
            [Store(name=f"店舗{n // SHOPS_PER_STORE:06d}") for n in numbers
             if n % SHOPS_PER_STORE == 0]
        )
        # Batches start on a store boundary, so each shop's store is in this batch.
        shops = MallShop.objects.bulk_create([
            MallShop(store=stores[(n - first) // SHOPS_PER_STORE], mall=mall,
                     name=f"ショップ{n:06d}",
                     application_status=applications[n % len(applications)])
            for n in numbers
        ])
        connections = []
        for n, shop in zip(numbers, shops, strict=True):
            status = statuses[n % len(statuses)]
            rejected = status == Status.REJECTED
            connections.append(MakeShopConnection(
                id=uuid.uuid4(), shop=shop, makeshop_shop_id=f"shop-{n:06d}", status=status,
                verified_at=now - timedelta(days=n % 5) if status != Status.PENDING else None,
                last_checked_at=now - timedelta(hours=n % 48),
                failing_since=now - timedelta(days=n % 40) if rejected else None,
                failed_check="order_auth_code" if rejected else "",
                failure_reason="token_rejected" if rejected else "",
                makeshop_message="認証に失敗しました" if rejected else "",
                last_notification_at=now - timedelta(minutes=n % 600) if n % 3 else None,
                last_notification_kind="new_order" if n % 3 else "",
            ))
        MakeShopConnection.objects.bulk_create(connections)
    _analyze()


def _analyze():
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")


def measure(client, urls, repeat):
    """Median seconds per GET and the queries one GET makes, for each URL.

    The URLs take turns, round after round, so that a busy machine slows them alike
    and the ratios hold even when the absolute times drift.
    """
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    times = {url: [] for url in urls}
    for round_ in range(repeat + 3):
        for url in urls:
            started = time.perf_counter()
            response = client.get(url)
            elapsed = time.perf_counter() - started
            assert response.status_code == 200, url
            if round_ >= 3:  # the first rounds warm caches
                times[url].append(elapsed)
    results = {}
    for url in urls:
        with CaptureQueriesContext(connection) as queries:
            client.get(url)
        results[url] = (statistics.median(times[url]), len(queries))
    return results


def main():
    parser = argument_parser(__doc__, smoke={"rows": 20, "small": 10, "repeat": 1})
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--small", type=int, default=1_000)
    parser.add_argument("--repeat", type=int, default=21)
    args = parser.parse_args()

    # No setup_test_environment(): its template instrumentation would slow every page.
    with test_database() as connection:
        run(args, connection)


def run(args, connection):
    """Time the three lists at both sizes, then filtered and searched pages at the larger."""
    from django.conf import settings
    from django.contrib.auth import get_user_model
    from django.test import Client

    settings.ROOT_URLCONF = build_urls()
    settings.ALLOWED_HOSTS = ["testserver"]
    settings.DEBUG = False
    staff = get_user_model().objects.create_superuser("bench-staff", "", "bench-pass-2026")
    client = Client()
    client.force_login(staff)
    pages = {
        "ours": "/admin/malls/makeshopconnection/",
        "plain": "/plain/malls/makeshopconnection/",
        "plain shops": "/plain/malls/mallshop/",
    }
    print(f"database: {connection.vendor}; one page = 100 rows; median of {args.repeat}")
    results = {}
    for size in (args.small, args.rows):
        started = time.perf_counter()
        add_rows(size)
        print(f"\n{size:,} shops (built in {time.perf_counter() - started:.1f} s)")
        measured = measure(client, list(pages.values()), args.repeat)
        for name, url in pages.items():
            seconds, queries = results[size, name] = measured[url]
            print(f"  {name:<12} {seconds * 1000:8.1f} ms  {queries:3d} queries")
        ours, plain = results[size, "ours"][0], results[size, "plain"][0]
        shops = results[size, "plain shops"][0]
        print(f"  ratio ours/plain {ours / plain:.2f} (goal <= 2); "
              f"ours/plain shops {ours / shops:.2f}")
    extra = {
        "ours, filter broken": pages["ours"] + "?status=broken",
        "ours, failing > 7 days": pages["ours"] + "?failing_days=7",
        "ours, search shop ID": pages["ours"] + "?q=shop-0999",
        "ours, search store": pages["ours"] + "?q=店舗00123",
    }
    print(f"\nat {args.rows:,} shops")
    measured = measure(client, list(extra.values()), args.repeat)
    for name, url in extra.items():
        seconds, queries = measured[url]
        print(f"  {name:<24} {seconds * 1000:8.1f} ms  {queries:3d} queries")
    small_q = results[args.small, "ours"][1]
    large_q = results[args.rows, "ours"][1]
    verdict = "constant" if small_q == large_q else "GROWS"
    print(f"\nqueries per page: {small_q} at {args.small:,}, {large_q} at {args.rows:,}"
          f" ({verdict})")


if __name__ == "__main__":
    main()
