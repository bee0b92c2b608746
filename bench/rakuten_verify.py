"""Benchmark: what our Rakuten verification costs on top of RMS's answers.

Prints, in one run, against the bundled RMS sandbox answering at once (each
verification for a different shop):
  1. per verification, the three calls (expiry date, order search, shop master):
     ``RakutenClient.verify`` (transport with its deadline and size cap, answer
     reading, redaction, no per-shop spacing) against the same
     three calls made with a bare ``requests.Session`` (ratio; goal <= 1.3);
  2. per save: ``services.save_settings`` (the verification, then the encrypted keys,
     the history row and the alert check written in one transaction) against the bare
     calls (ratio);
  3. one verification with the shop's one-second spacing between its calls, as GoQ
     runs it: about two seconds, by design.

Usage: .venv/bin/python bench/rakuten_verify.py [--calls 200]
       (DATABASE_URL=postgres://... to run it on PostgreSQL)
"""

import contextlib
import os
import time
from datetime import UTC, datetime, timedelta

from _common import argument_parser, test_database


def bench_shops(count: int) -> dict:
    """``count`` sandbox shops with keys made for this run."""
    import secrets

    from malls.rakuten.sandbox import DemoShop

    return {
        f"bench-{n:05d}": DemoShop(
            f"bench-{n:05d}", f"SP9{n:05d}_{secrets.token_hex(8)}",
            f"SL9{n:05d}_{secrets.token_hex(8)}", shop_name=f"ベンチ{n}",
        )
        for n in range(count)
    }


def main():
    parser = argument_parser(__doc__, smoke={"calls": 2})
    parser.add_argument("--calls", type=int, default=200)
    args = parser.parse_args()
    os.environ.setdefault("LOG_LEVEL", "WARNING")  # a line per call would flood the terminal

    with test_database(test_environment=True) as connection:
        run(args, connection)


def run(args, connection):
    import requests

    from malls.models import Mall, MallShop, Store
    from malls.rakuten import services
    from malls.rakuten.api import EXPIRY_PATH, SEARCH_ORDER_PATH, SHOP_MASTER_PATH
    from malls.rakuten.client import RakutenClient, esa_header
    from malls.rakuten.sandbox import make_server

    shops = bench_shops(4 * args.calls + 2)
    sandbox = make_server(shops=shops, min_interval=0).start_in_thread()
    # No spacing: the client's own cost per call (the call slots are timed below).
    client = RakutenClient(sandbox.url, pace=lambda shop_url: contextlib.nullcontext())
    session = requests.Session()
    now = datetime.now(UTC)
    end = now.replace(microsecond=0)
    search = {
        "dateType": 1,
        "startDatetime": (end - timedelta(minutes=1)).strftime("%Y-%m-%dT%H:%M:%S%z"),
        "endDatetime": end.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "PaginationRequestModel": {"requestRecordsAmount": 30, "requestPage": 1},
    }

    def bare(shop):
        headers = {"Authorization": esa_header(shop.service_secret, shop.license_key)}
        for response in (
            session.get(sandbox.url + EXPIRY_PATH, params={"licenseKey": shop.license_key},
                        headers=headers, timeout=5),
            session.post(sandbox.url + SEARCH_ORDER_PATH, json=search, headers=headers,
                         timeout=5),
            session.get(sandbox.url + SHOP_MASTER_PATH, headers=headers, timeout=5),
        ):
            assert response.status_code == 200, response.status_code
            response.content  # noqa: B018  (read, as the client does)

    def ours(shop):
        result = client.verify(service_secret=shop.service_secret,
                               license_key=shop.license_key, shop_url=shop.shop_url, now=now)
        assert result.ok, result

    mall_shops = {}  # sandbox shop URL -> its MallShop, made before the timing

    def saved(shop):
        result = services.save_settings(
            shop=mall_shops[shop.shop_url], shop_url=shop.shop_url,
            service_secret=shop.service_secret, license_key=shop.license_key, client=client,
            now=now,
        )
        assert result.saved and result.connection.status == "verified", result

    def timed(fn, batch):
        started = time.perf_counter()
        for shop in batch:
            fn(shop)
        return (time.perf_counter() - started) / len(batch) * 1000

    try:
        every = list(shops.values())
        warm, spaced, every = every[0], every[1], every[2:]
        quarter = [every[i * args.calls:(i + 1) * args.calls] for i in range(4)]
        store, mall = Store.objects.create(name="ベンチ店舗"), Mall.objects.get(code="rakuten")
        for shop in [warm, *quarter[2]]:
            mall_shops[shop.shop_url] = MallShop.objects.create(
                store=store, mall=mall, name=shop.shop_name
            )
        ours(warm), bare(warm), saved(warm)
        t_bare_a = timed(bare, quarter[0])
        t_ours = timed(ours, quarter[1])
        t_saved = timed(saved, quarter[2])
        t_bare_b = timed(bare, quarter[3])
        t_bare = (t_bare_a + t_bare_b) / 2
        print(f"per verification, 3 calls ({connection.vendor}): bare requests {t_bare:.2f} ms; "
              f"ours {t_ours:.2f} ms, ratio {t_ours / t_bare:.2f} (goal <= 1.3)")
        print(f"per save (verification, encryption, history, alerts): {t_saved:.2f} ms, "
              f"ratio {t_saved / t_bare:.2f} to the bare calls")

        paced = RakutenClient(sandbox.url)  # the database call slots: 1 s per shop
        started = time.perf_counter()
        paced.verify(service_secret=spaced.service_secret, license_key=spaced.license_key,
                     shop_url=spaced.shop_url, now=now)
        print(f"one verification with the shop's 1 s spacing: "
              f"{time.perf_counter() - started:.2f} s (two waits between three calls)")
        paced.close()
    finally:
        client.close()
        session.close()
        sandbox.shutdown()


if __name__ == "__main__":
    main()
