"""Benchmark: the re-verification batch under the global ceiling on calls to MakeShop.

Queues N shops (three credentials each, so three calls per shop) as "re-verify" does,
runs ``db_worker`` processes against the sandbox with MAKESHOP_MAX_CALLS_PER_SECOND
set, and prints:
  - the busiest second as the sandbox saw it (goal: at most the ceiling), the
    tightest ceiling+1 calls in a row (goal: spread over at least a second), and
    the calls it refused as too fast for one shop (goal: 0);
  - the batch's wall time next to the ceiling's floor, calls / ceiling (no schedule
    under the ceiling can beat it), as a ratio (goal: close to 1).

Usage: .venv/bin/python bench/ceiling.py [--shops 100] [--ceiling 10] [--workers 2]
           [--latency 0.05]
Uses a throw-away test database (SQLite unless DATABASE_URL says otherwise).
"""

import logging
import os
import sys
import tempfile
import time

from _common import argument_parser, sandbox_shops, test_database
from reverify_run import create_connections, enqueue, start_workers, wait_for_jobs


def busiest_second(starts):
    """The most calls starting within one second (a window opening at each call)."""
    starts = sorted(starts)
    best, first = 0, 0
    for last, start in enumerate(starts):
        while start - starts[first] >= 1.0:
            first += 1
        best = max(best, last - first + 1)
    return best


def main():
    # Smoke: 2 shops make 6 calls, enough for the ceiling+1 window the report reads.
    parser = argument_parser(__doc__, smoke={
        "shops": 2, "ceiling": 5, "workers": 1, "latency": 0, "timeout": 120,
    })
    parser.add_argument("--shops", type=int, default=100)
    parser.add_argument("--ceiling", type=float, default=10.0)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--latency", type=float, default=0.05)
    parser.add_argument("--timeout", type=float, default=3600)
    args = parser.parse_args()
    os.environ["MAKESHOP_MAX_CALLS_PER_SECOND"] = str(args.ceiling)  # for the workers

    with test_database() as connection:
        run(args, connection)


def run(args, connection):
    from malls.makeshop.sandbox import make_server

    logging.getLogger("malls.makeshop.sandbox").setLevel(logging.WARNING)
    log = tempfile.TemporaryFile("w+")
    shops = sandbox_shops(args.shops)
    sandbox = make_server(shops=shops, latency=args.latency).start_in_thread()
    workers = []
    try:
        job_ids = enqueue(create_connections(shops), single=False)
        print(f"{connection.vendor}; {args.shops} shops x 3 calls; ceiling "
              f"{args.ceiling:g} calls/s; {args.workers} workers; latency "
              f"{args.latency * 1000:.0f} ms")
        connection.close()  # the workers are about to share the database

        started = time.monotonic()
        workers = start_workers(args.workers, sandbox.url, connection.settings_dict["NAME"], log)
        wait_for_jobs(job_ids, args.timeout)
        wall = time.monotonic() - started

        calls = sandbox.calls
        starts = [call.started_at for call in calls]
        busiest = busiest_second(starts)
        floor = len(calls) / args.ceiling
        print(f"\ncalls: {len(calls)} (expected {3 * args.shops}); refused as too fast for "
              f"one shop: {sandbox.violations}")
        print(f"busiest second at the sandbox: {busiest} calls (ceiling {args.ceiling:g})")
        window = int(args.ceiling) + 1
        ordered = sorted(starts)
        tightest = min(b - a for a, b in zip(ordered, ordered[window - 1:], strict=False))
        print(f"tightest {window} calls in a row span {tightest:.3f} s (goal: >= 1 s)")
        print(f"calls' span at the sandbox: {max(starts) - min(starts):.1f} s")
        print(f"wall (workers started -> last job finished): {wall:.1f} s")
        print(f"ceiling's floor (calls / ceiling): {floor:.1f} s")
        print(f"wall / floor: {wall / floor:.2f}")
        if busiest > args.ceiling or sandbox.violations or len(calls) < 3 * args.shops:
            raise SystemExit("FAILED: see above")
    finally:
        for worker in workers:
            worker.terminate()
        for worker in workers:
            worker.wait(timeout=30)
        sandbox.shutdown()
        log.seek(0)
        if output := log.read():
            print(f"\nworkers said:\n{output[-3000:]}", file=sys.stderr)


if __name__ == "__main__":
    main()
