"""Benchmark: MakeShop's new API, the webhooks under load and the GraphQL client's overhead.

1. Webhooks: gunicorn on a free port of 127.0.0.1 with a throw-away database (a SQLite
   file, or ``--database-url`` for PostgreSQL: a database of that name is used as is),
   driven for ``--seconds`` by ``--concurrency`` keep-alive clients with the mix MakeShop
   would send: order updates for installed shops (most of the traffic: one every
   2 minutes per shop) and one repeated install (a new token) in twenty requests;
   uninstalls are left out (an order update for an uninstalled shop is a 404).
   Prints requests/s, p50, p99 and errors (goal: 0 errors, p99 < 100 ms). Each shop
   must stay under the order-update limit per installation (``webhooks.UPDATE_LIMIT``
   a minute; MakeShop sends one every 2 minutes): a 429 counts as an error, so keep
   ``--shops`` well above requests/s x 60 / UPDATE_LIMIT.
   Verification jobs are queued to a backend nobody works, so the figures are the
   webhooks' own.
2. Client overhead: ``MakeShopAppClient.verify_token`` against the GraphQL sandbox in
   this process, against a bare ``requests`` POST with the same headers and body to
   the same sandbox, interleaved; prints the median of each and the ratio (goal <= 1.3).

Usage: .venv/bin/python bench/app_webhooks.py [--seconds 10] [--concurrency 4]
       [--shops 200] [--calls 300] [--database-url postgres://postgres@127.0.0.1:5432/NAME]
"""

import base64
import itertools
import json
import os
import secrets
import statistics
import subprocess
import sys
import tempfile
import time

from _common import ROOT, argument_parser, free_port, start_gunicorn, stop
from notifications import Phase, drive

APP_ID = "goq-bench-app"


def bench_env(database_url, secret, graphql_url) -> dict:
    env = dict(os.environ)
    env.update(
        GOQ_IGNORE_DOTENV="1",
        DJANGO_SETTINGS_MODULE="goq.settings",
        DATABASE_URL=database_url,
        SECRET_KEY=secrets.token_urlsafe(50),
        CREDENTIALS_KEYS="bench:" + base64.b64encode(secrets.token_bytes(32)).decode(),
        SECURE_SSL_REDIRECT="false",
        LOG_LEVEL="WARNING",
        TASKS_BACKEND="django.tasks.backends.dummy.DummyBackend",
        MAKESHOP_APP_GRAPHQL_URL=graphql_url,
        MAKESHOP_APP_ID=APP_ID,
        MAKESHOP_APP_API_KEY="bench-api-key-" + secrets.token_hex(8),
        MAKESHOP_APP_WEBHOOK_SECRET=secret,
    )
    return env


def webhook_requests(secret, shops):
    """Order updates for installed shops, with a repeated install (a new token) in twenty."""
    counter = itertools.count()
    headers = {"Content-Type": "application/json"}

    def make():
        n = next(counter)
        if n % 20 == 0:
            shop = f"bench-shop-{(n // 20) % shops}"
            name, body = "install", {"app_id": APP_ID, "plan_id": "p", "app_name": "GoQ",
                                     "shop_id": shop, "token": f"tok-{n}-{secrets.token_hex(8)}"}
        else:
            shop = f"bench-shop-{n % shops}"
            name, body = "orders", {"app_id": APP_ID, "shop_id": shop, "event": "order_updated",
                                    "orders": [{"displayOrderNumber": f"B{n % 500:06d}"}]}
        return "POST", f"/makeshop/app/{secret}/{name}", json.dumps(body), headers

    return make


def install_all(port, secret, shops):
    import requests

    for shop in range(shops):
        response = requests.post(
            f"http://127.0.0.1:{port}/makeshop/app/{secret}/install", timeout=10,
            json={"app_id": APP_ID, "shop_id": f"bench-shop-{shop}", "token": f"tok-{shop}"},
        )
        response.raise_for_status()


def bench_webhooks(args) -> Phase:
    secret = secrets.token_urlsafe(32)
    with tempfile.TemporaryDirectory() as tmp:
        database_url = args.database_url or f"sqlite:///{tmp}/bench.sqlite3"
        env = bench_env(database_url, secret, "http://127.0.0.1:9/v1/graphql")
        subprocess.run([sys.executable, "manage.py", "migrate", "-v0"], env=env, cwd=ROOT,
                       check=True)
        port = free_port()
        server = start_gunicorn(port, workers=2, threads=4, env=env, ready_path="/healthz")
        try:
            install_all(port, secret, args.shops)
            phase = Phase("webhooks")
            drive(port, webhook_requests(secret, args.shops), seconds=args.seconds,
                  concurrency=args.concurrency, phase=phase)
        finally:
            stop(server)
    return phase


def bench_client(calls) -> tuple[float, float]:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "goq.settings_test")
    os.environ.setdefault("LOG_LEVEL", "WARNING")  # the per-call INFO line would flood the terminal
    import django

    django.setup()
    import requests

    from malls.makeshop.app.client import MakeShopAppClient, verification_query
    from malls.makeshop.app.sandbox import (
        DEMO_APP_SHOPS,
        SANDBOX_API_KEY,
        make_app_server,
    )

    token = DEMO_APP_SHOPS["demo-shop"].token
    server = make_app_server(min_interval=0.0).start_in_thread()
    client = MakeShopAppClient(server.url, SANDBOX_API_KEY)
    session = requests.Session()
    ours, bare = [], []
    try:
        for _ in range(20):  # warm both connection pools
            client.verify_token(shop_id="demo-shop", token=token)
            session.post(server.url, data=b"{}", timeout=10).close()
        for _ in range(calls):
            started = time.perf_counter()
            result = client.verify_token(shop_id="demo-shop", token=token)
            ours.append(time.perf_counter() - started)
            assert result.ok, result
            started = time.perf_counter()
            body = json.dumps({"query": verification_query(_utcnow())}).encode()
            response = session.post(server.url, data=body, timeout=10, headers={
                "authorization": f"Bearer {token}", "x-api-key": SANDBOX_API_KEY,
                "x-timestamp": str(int(time.time())), "content-type": "application/json",
            })
            response.json()
            bare.append(time.perf_counter() - started)
    finally:
        client.close()
        session.close()
        server.shutdown()
    return statistics.median(ours), statistics.median(bare)


def _utcnow():
    from datetime import UTC, datetime

    return datetime.now(UTC)


def main():
    parser = argument_parser(
        __doc__, smoke={"seconds": 0.5, "concurrency": 1, "shops": 3, "calls": 2}
    )
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--concurrency", type=int, default=4)
    parser.add_argument("--shops", type=int, default=200)
    parser.add_argument("--calls", type=int, default=300)
    parser.add_argument("--database-url", default="")
    args = parser.parse_args()

    phase = bench_webhooks(args)
    print(phase.line())
    ours, bare = bench_client(args.calls)
    print(f"client        verify_token median {ours * 1000:6.2f} ms   bare requests POST "
          f"{bare * 1000:6.2f} ms   ratio {ours / bare:4.2f} (goal <= 1.3)")


if __name__ == "__main__":
    main()
