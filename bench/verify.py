"""Benchmark: what our verification path costs on top of MakeShop's answer, and how
evenly the per-shop limiter spaces calls under contention.

Prints, in one run, against the bundled sandbox answering at once:
  1. per verification (one order-code check, each for a different shop so no spacing
     applies): makeshop_services.check_makeshop_credentials (client + call slot in the
     database) against a bare requests.get to the same sandbox (ratio; goal <= 1.3).
     The global ceiling (MAKESHOP_MAX_CALLS_PER_SECOND) is off here unless set: with it
     on, back-to-back calls wait for their turn by design, which bench/ceiling.py measures;
  2. call spacing for one shop with three threads verifying it at once: the gap
     between one call's end and the next one's start, as MakeShop sees it
     (goal: 1.0-1.1 s).

Usage: .venv/bin/python bench/verify.py [--calls 300] [--contended 8]
"""

import os
import statistics
import threading
import time

from _common import argument_parser, test_database


def main():
    parser = argument_parser(__doc__, smoke={"calls": 2, "contended": 1})
    parser.add_argument("--calls", type=int, default=300)
    parser.add_argument("--contended", type=int, default=8, help="calls per thread, 3 threads")
    args = parser.parse_args()
    os.environ.setdefault("MAKESHOP_MAX_CALLS_PER_SECOND", "0")
    print(f"global ceiling: {os.environ['MAKESHOP_MAX_CALLS_PER_SECOND']} calls/s (0 = off)")

    with test_database(test_environment=True) as connection:
        run(args, connection)


def run(args, connection):
    """Time both paths per call, then three threads calling for one shop at once."""
    import requests
    from django.conf import settings

    from malls.makeshop import Check, get_client
    from malls.makeshop import services as makeshop_services
    from malls.makeshop.sandbox import DemoShop, make_server

    code = "0123456789abcdef0123456789abcdef"
    shops = {
        f"bench{i}": DemoShop(f"bench{i}", code, "p", "pw") for i in range(4 * args.calls + 1)
    }
    sandbox = make_server(shops=shops).start_in_thread()
    settings.MAKESHOP_API_BASE_URL = sandbox.url
    try:
        # 1. Overhead per verification.
        session = requests.Session()
        url = sandbox.url + "/api/orderinfo/index.html"

        def bare(shop_id):
            response = session.get(url, params={
                "cmd": "get", "shopid": shop_id, "token": code, "service": "goq",
                "start": "20261128000000", "end": "20261128000100",
            }, timeout=5)
            assert response.status_code == 200 and b"<orders" in response.content

        def ours(shop_id):
            result = makeshop_services.check_makeshop_credentials(
                shop_id=shop_id, credentials={Check.ORDER_AUTH_CODE: code}
            )
            assert result.ok, result

        get_client()  # warm up both paths on a shop not measured
        ours("bench0")
        time.sleep(1.1)
        bare("bench0")
        def timed(fn, ids):
            started = time.perf_counter()
            for shop_id in ids:
                fn(shop_id)
            return (time.perf_counter() - started) / len(ids) * 1000

        # Each measured call goes to a shop whose previous call (if any) is over a
        # second old, so no spacing applies and the sandbox never refuses: only the
        # per-call cost is timed.
        ids = [f"bench{i}" for i in range(1, 4 * args.calls + 1)]
        first_ours, seen_ours = ids[: args.calls], ids[: args.calls]
        bare_a, bare_b = ids[args.calls: 2 * args.calls], ids[2 * args.calls: 3 * args.calls]
        t_first = timed(ours, first_ours)  # a shop's first call ever: its slot row is created
        t_bare_a = timed(bare, bare_a)
        time.sleep(1.1)
        t_steady = timed(ours, seen_ours)  # the usual case: the slot row exists
        t_bare_b = timed(bare, bare_b)
        t_bare = statistics.mean([t_bare_a, t_bare_b])
        print(f"per verification ({connection.vendor}): bare requests {t_bare:.2f} ms; ours "
              f"{t_steady:.2f} ms, ratio {t_steady / t_bare:.2f} (goal <= 1.3); a shop's "
              f"first call ever {t_first:.2f} ms, ratio {t_first / t_bare:.2f}")

        # 2. Spacing under contention.
        first_seen = len(sandbox.calls)

        def worker():
            for _ in range(args.contended):
                ours("bench1")
            connection.close()

        threads = [threading.Thread(target=worker) for _ in range(3)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        calls = sorted(
            (c for c in sandbox.calls[first_seen:] if c.shop_id == "bench1"),
            key=lambda c: c.started_at,
        )
        gaps = [b.started_at - a.finished_at for a, b in zip(calls, calls[1:], strict=False)]
        starts = [b.started_at - a.started_at for a, b in zip(calls, calls[1:], strict=False)]
        overlaps = sum(1 for g in gaps if g < 0)
        print(f"contended spacing ({len(calls)} calls, 3 threads, one shop): end-to-next-start "
              f"min {min(gaps):.3f} s, median {statistics.median(gaps):.3f} s, "
              f"max {max(gaps):.3f} s (goal 1.0-1.1 s); start-to-start median "
              f"{statistics.median(starts):.3f} s; overlaps {overlaps}; "
              f"sandbox rate-limit violations {sandbox.violations}")
    finally:
        sandbox.shutdown()


if __name__ == "__main__":
    main()
