"""Benchmark: the update-notification endpoint on gunicorn and PostgreSQL.

Drives ``/makeshop/notify/<token>/`` for ``--seconds`` (default 60) with
``--concurrency`` clients, then a bare view that only answers 200 on the same stack
(same gunicorn, settings and middleware) for as long, and prints requests/s, p50,
p99 and errors for each, and their ratio (goal: 0 errors, p99 < 100 ms).

Self-contained: creates a database ``goq_bench_<pid>`` on the local PostgreSQL
(``DATABASE_URL``'s server if it names one), migrates it, creates ``--shops`` connected
shops, starts gunicorn on a free port of 127.0.0.1, and drops the database when done.
Traffic goes to 127.0.0.1 only.

The notification mix is what MakeShop might send: the shops' tokens in turn, half
as a POSTed form and half in the URL path, one delivery in ten a repeat of the one
before (the dedup path), every event kind. Each client keeps its HTTP connection
open (keep-alive), so the figures are the server's, not TCP set-up's.

Usage: .venv/bin/python bench/notifications.py [--seconds 60] [--concurrency 4]
       [--postgres postgres://postgres@127.0.0.1:5432] [--conn-max-age 60]
"""

import http.client
import itertools
import os
import statistics
import threading
import time
import urllib.parse
from collections import Counter
from dataclasses import dataclass, field

from _common import (
    argument_parser,
    create_postgres_database,
    drop_postgres_database,
    free_port,
    postgres_or_skip,
    postgres_server,
    production_env,
    start_gunicorn,
    stop,
)

COMMANDS = ("order", "payment", "modify", "delivery", "cancel")
WARM_UP_SECONDS = 3


@dataclass
class Phase:
    """What the clients saw while driving one target."""

    name: str
    seconds: float = 0.0
    latencies: list = field(default_factory=list)  # seconds, successful answers only
    errors: Counter = field(default_factory=Counter)

    @property
    def requests(self) -> int:
        return len(self.latencies) + sum(self.errors.values())

    @property
    def rate(self) -> float:
        return self.requests / self.seconds

    def percentile(self, p: float) -> float:
        if not self.latencies:
            return float("nan")
        return statistics.quantiles(self.latencies, n=1000, method="inclusive")[
            round(p * 10) - 1
        ]

    def line(self) -> str:
        errors = sum(self.errors.values())
        detail = f" {dict(self.errors)}" if errors else ""
        p50, p99 = self.percentile(50) * 1000, self.percentile(99) * 1000
        worst = max(self.latencies) * 1000
        return (
            f"{self.name:<13} {self.rate:8,.0f} req/s   p50 {p50:6.2f} ms   p99 {p99:6.2f} ms"
            f"   max {worst:7.1f} ms   errors {errors}{detail}   ({self.requests:,} requests)"
        )


def drive(port, make_request, *, seconds, concurrency, phase: Phase):
    """Send requests from ``concurrency`` threads until ``seconds`` pass; record into ``phase``."""
    deadline = time.perf_counter() + seconds
    lock = threading.Lock()

    def client():
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        latencies, errors = [], Counter()
        while time.perf_counter() < deadline:
            method, path, body, headers = make_request()
            started = time.perf_counter()
            try:
                conn.request(method, path, body=body, headers=headers)
                response = conn.getresponse()
                response.read()
                elapsed = time.perf_counter() - started
                if response.status == 200:
                    latencies.append(elapsed)
                else:
                    errors[response.status] += 1
                if response.will_close:
                    conn.close()
            except (OSError, http.client.HTTPException) as exc:
                errors[type(exc).__name__] += 1
                conn.close()
        conn.close()
        with lock:
            phase.latencies.extend(latencies)
            phase.errors.update(errors)

    started = time.perf_counter()
    threads = [threading.Thread(target=client) for _ in range(concurrency)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    phase.seconds = time.perf_counter() - started


def notification_requests(shops):
    """An endless, thread-safe supply of notifications in the mix described above."""
    counter = itertools.count()
    form = {"Content-Type": "application/x-www-form-urlencoded"}

    def make():
        n = next(counter)
        if n % 10 == 9:
            n -= 1  # repeat the previous delivery
        shop_id, token = shops[n % len(shops)]
        order_number, command = f"B{n:09d}", COMMANDS[n % len(COMMANDS)]
        if n % 2:
            return "GET", f"/makeshop/notify/{token}/{shop_id}/{order_number}/{command}/", None, {}
        body = urllib.parse.urlencode({"shopid": shop_id, "ordernum": order_number, "cmd": command})
        return "POST", f"/makeshop/notify/{token}/", body, form

    return make


def bare_requests(shops):
    """The same request shapes, sent to the bare view."""
    notify = notification_requests(shops)

    def make():
        method, path, body, headers = notify()
        return method, path.replace("/makeshop/notify/", "/bench/bare/", 1), body, headers

    return make


def setup_database(admin_url, name, shops):
    """Create and migrate the bench database; returns [(shop_id, token), ...]."""
    create_postgres_database(admin_url, name)
    from django.db import connections

    from malls.makeshop.models import MakeShopConnection
    from malls.models import Mall, MallShop, Store

    store = Store.objects.create(name="bench")
    mall = Mall.objects.get(code=Mall.MAKESHOP)
    rows = MallShop.objects.bulk_create(
        MallShop(store=store, mall=mall, name=f"bench {i}") for i in range(shops)
    )
    MakeShopConnection.objects.bulk_create(
        MakeShopConnection(shop=shop, makeshop_shop_id=f"bench-{shop.pk}") for shop in rows
    )
    pairs = list(MakeShopConnection.objects.values_list("makeshop_shop_id", "notification_token"))
    connections.close_all()
    return pairs


def recorded_totals():
    """(events, repeats, open refresh requests) as stored: every accepted delivery counts once."""
    from django.db import connections
    from django.db.models import Sum

    from malls.makeshop.models import NotificationEvent, OrderRefreshRequest

    events = NotificationEvent.objects.count()
    repeats = NotificationEvent.objects.aggregate(total=Sum("repeats"))["total"] or 0
    refreshes = OrderRefreshRequest.objects.filter(fulfilled_at__isnull=True).count()
    connections.close_all()
    return events, repeats, refreshes


def main():
    parser = argument_parser(__doc__, smoke={
        "seconds": 0.5, "warm_up": 0.2, "concurrency": 1, "shops": 3, "workers": 1,
        "threads": 2,
    })
    parser.add_argument("--seconds", type=float, default=60, help="per target (default 60)")
    parser.add_argument("--warm-up", type=float, default=WARM_UP_SECONDS,
                        help=f"untimed seconds per target first (default {WARM_UP_SECONDS})")
    parser.add_argument("--concurrency", type=int, default=4, help="client threads (default 4)")
    parser.add_argument("--shops", type=int, default=1000, help="connected shops (default 1000)")
    parser.add_argument("--workers", type=int, default=2 * (os.cpu_count() or 1) + 1)
    parser.add_argument("--threads", type=int, default=2, help="gthread threads per worker")
    parser.add_argument(
        "--conn-max-age", type=int, default=60,
        help="seconds a worker keeps its database connection (0 = one per request)",
    )
    parser.add_argument("--postgres", default=postgres_server(),
                        help="server URL without database name; the bench creates its own "
                             "(default: DATABASE_URL's PostgreSQL server, else the local one)")
    args = parser.parse_args()
    postgres_or_skip(args.postgres, smoke=args.smoke)

    name = f"goq_bench_{os.getpid()}"
    admin_url = args.postgres.rstrip("/")
    env = production_env(
        settings_module="bench.notifications_stack",
        database_url=f"{admin_url}/{name}?conn_max_age={args.conn_max_age}",
    )
    os.environ.update(env)
    port = free_port()
    print(f"gunicorn gthread {args.workers} workers x {args.threads} threads on 127.0.0.1:{port}, "
          f"PostgreSQL database {name} (conn_max_age={args.conn_max_age}), {args.shops} shops, "
          f"{args.concurrency} clients, {args.seconds:g} s per target, {os.cpu_count()} CPUs")
    server = None
    try:
        shops = setup_database(admin_url, name, args.shops)
        server = start_gunicorn(port, workers=args.workers, threads=args.threads, env=env,
                                ready_path="/bench/bare/ready")
        phases, warm_ups = [], []
        targets = (("bare view", bare_requests), ("notification", notification_requests))
        for label, supply in targets:
            make = supply(shops)
            warm_ups.append(Phase(label))
            drive(port, make, seconds=args.warm_up, concurrency=args.concurrency,
                  phase=warm_ups[-1])
            phase = Phase(label)
            drive(port, make, seconds=args.seconds, concurrency=args.concurrency, phase=phase)
            phases.append(phase)
            print(phase.line(), flush=True)
        bare, notify = phases
        print(f"ratio notification / bare: req/s {notify.rate / bare.rate:.2f}, "
              f"p50 {notify.percentile(50) / bare.percentile(50):.2f}, "
              f"p99 {notify.percentile(99) / bare.percentile(99):.2f}")
        errors = sum(notify.errors.values())
        p99_ms = notify.percentile(99) * 1000
        verdict = "met" if errors == 0 and p99_ms < 100 else "NOT met"
        print(f"goal (0 errors, p99 < 100 ms): {verdict} ({errors} errors, p99 {p99_ms:.1f} ms)")
        events, repeats, refreshes = recorded_totals()
        accepted = len(notify.latencies) + len(warm_ups[1].latencies)
        check = "matches" if events + repeats == accepted else "DOES NOT match"
        print(f"stored: {events:,} events + {repeats:,} repeats, {check} the {accepted:,} "
              f"accepted deliveries (warm-up included); {refreshes:,} orders to refresh")
    finally:
        if server is not None:
            stop(server)
        drop_postgres_database(admin_url, name)


if __name__ == "__main__":
    main()
