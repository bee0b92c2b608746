"""Benchmark: the cost of the mall list (出店中のモール一覧) over the bare page layout.

Prints the median time of ``/settings/malls/`` for a store with 50 shops (MakeShop
shops in every verification state, plus shops on other malls) and the median time
of a page that renders the same layout, for the same signed-in member, with no
data; then their ratio (for information) and each page's query count. The goal is
absolute: the list's 95th percentile under 100 ms (the architecture review's advice: a
ratio to an empty page penalises any template, and the rows are plain templates now).

Usage: .venv/bin/python bench/pages.py [--shops 50] [--requests 300]
Uses a throw-away test database (SQLite unless DATABASE_URL says otherwise); the
requests go through the full middleware stack with Django's test client.
"""

import statistics
import time
from datetime import timedelta

from _common import argument_parser, test_database

EMPTY_URL = "/bench/empty/"
LIST_URL = "/settings/malls/"


class BenchURLs:
    """The project's URLs plus the no-data page the list is compared with."""

    @staticmethod
    def build():
        from django.shortcuts import render
        from django.urls import include, path
        from django.views.decorators.cache import never_cache

        from malls.access import store_member_required

        @never_cache
        @store_member_required
        def empty_layout(request):
            """The list's page without its data: same access checks, layout and headers."""
            return render(request, "base.html")

        BenchURLs.urlpatterns = [
            path(EMPTY_URL.strip("/") + "/", empty_layout),
            path("", include("goq.urls")),
        ]
        return BenchURLs


def build_store(shop_count):
    """A member of two stores, and one of them with ``shop_count`` shops in assorted states."""
    from django.contrib.auth import get_user_model
    from django.utils import timezone

    from malls.makeshop.models import MakeShopConnection
    from malls.models import Mall, MallShop, Membership, Store

    user = get_user_model().objects.create_user("bench", password="bench-pass-2026")
    store = Store.objects.create(name="ベンチ店舗")
    Membership.objects.create(user=user, store=store)
    Membership.objects.create(user=user, store=Store.objects.create(name="もう一つの店舗"))
    malls = {mall.code: mall for mall in Mall.objects.all()}
    now = timezone.now()
    Status = MakeShopConnection.Status
    states = [
        {"status": Status.VERIFIED, "verified_at": now},
        {"status": Status.REJECTED, "failed_check": "order_auth_code",
         "failure_reason": "token_rejected", "failing_since": now - timedelta(days=2)},
        {"status": Status.UNVERIFIED, "failed_check": "order_auth_code",
         "failure_reason": "maintenance", "last_checked_at": now},
        {"status": Status.PENDING},
        {"status": Status.VERIFIED, "verified_at": now, "last_notification_at": now,
         "last_notification_kind": "new_order"},
    ]
    others = [code for code in malls if code != Mall.MAKESHOP]
    for number in range(shop_count):
        if number % 5 == 4:
            MallShop.objects.create(
                store=store, mall=malls[others[number % len(others)]], name=f"他モール店 {number}"
            )
            continue
        shop = MallShop.objects.create(
            store=store, mall=malls[Mall.MAKESHOP], name=f"MakeShop店 {number}"
        )
        MakeShopConnection.objects.create(
            shop=shop,
            makeshop_shop_id=f"bench-shop-{number}",
            password="bench-password-0001",
            order_auth_code="0123456789abcdef0123456789abcdef",
            product_auth_code="bench-product-0001",
            **states[number % len(states)],
        )
    return user, store


def count_queries(client, url):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as queries:
        assert client.get(url).status_code == 200
    return len(queries.captured_queries)


def page_times_ms(client, urls, requests):
    """(median, p95) per URL, the URLs taken in turn so both see the same machine load."""
    for _ in range(20):  # warm up templates, translations, connections
        for url in urls:
            assert client.get(url).status_code == 200
    times = {url: [] for url in urls}
    for _ in range(requests):
        for url in urls:
            started = time.perf_counter()
            response = client.get(url)
            times[url].append((time.perf_counter() - started) * 1000)
            assert response.status_code == 200
    return {
        url: (statistics.median(values), statistics.quantiles(values, n=20)[-1])
        for url, values in times.items()
    }


def main():
    parser = argument_parser(__doc__, smoke={"shops": 5, "requests": 2})
    parser.add_argument("--shops", type=int, default=50)
    parser.add_argument("--requests", type=int, default=300)
    args = parser.parse_args()

    # Without setup_test_environment(): the list renders a template per row.
    with test_database() as connection:
        from django.conf import settings
        from django.test import Client
        from django.test.utils import override_settings

        with override_settings(
            ROOT_URLCONF=BenchURLs.build(),
            DEBUG=False,
            ALLOWED_HOSTS=[*settings.ALLOWED_HOSTS, "testserver"],
        ):
            user, store = build_store(args.shops)
            client = Client()
            client.force_login(user)
            client.post("/settings/store/", {"store": store.pk})
            list_queries = count_queries(client, LIST_URL)
            empty_queries = count_queries(client, EMPTY_URL)
            medians = page_times_ms(client, [LIST_URL, EMPTY_URL], args.requests)
            (list_ms, list_p95), (empty_ms, _) = medians[LIST_URL], medians[EMPTY_URL]
            html = client.get(LIST_URL).text
            assert html.count("<tr>") == args.shops + 1, "every shop is listed"

    ratio = list_ms / empty_ms
    print(f"database: {connection.vendor}; {args.requests} requests per page, taken in turn")
    print(f"mall list, {args.shops} shops: median {list_ms:.2f} ms, p95 {list_p95:.2f} ms "
          f"({list_queries} queries)")
    print(f"same layout, no data:  median {empty_ms:.2f} ms ({empty_queries} queries)")
    print(f"ratio of medians {ratio:.2f} (for information)")
    print(f"list p95 {list_p95:.1f} ms (goal < 100 ms): "
          f"{'ok' if list_p95 < 100 else 'OVER GOAL'}")


if __name__ == "__main__":
    main()
