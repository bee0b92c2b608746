"""Benchmark: re-verifying 1,000 shops against the sandbox with two ``db_worker`` processes.

Builds the shops (each with its three credentials, so three MakeShop calls per shop;
one in twenty has a product code MakeShop refuses), queues them as "re-verify" does,
starts the workers, waits until every job has finished, and prints:
  - MakeShop's per-shop limit as the sandbox saw it: the smallest gap between two
    calls for one shop (end of one to start of the next; goal >= 1 s), calls that
    overlapped, and calls the sandbox refused as too fast (goal: 0 and 0);
  - whether every shop got an outcome, and which;
  - the wall time next to the floor: the slowest single shop's checks, first call
    start to last call end (no schedule can beat it).

Usage: .venv/bin/python bench/reverify_run.py [--shops 1000] [--workers 2]
           [--latency 0.05] [--single]
``--single`` queues one job per shop instead of batches, to show what batching buys
(run it with --shops 100: one worker then verifies one shop at a time).
Uses a throw-away test database (SQLite unless DATABASE_URL says otherwise).
"""

import logging
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter, defaultdict
from itertools import batched

from _common import ROOT, argument_parser, sandbox_shops, test_database

REJECT_EVERY = 20  # one shop in 20 has a product code MakeShop refuses
BACKEND = "database"  # settings_test's alias for the django-tasks-db backend


def create_connections(shops):
    from malls.makeshop.models import MakeShopConnection
    from malls.models import Mall, MallShop, Store

    mall, _ = Mall.objects.get_or_create(
        code=Mall.MAKESHOP, defaults={"name": "MakeShop", "name_en": "MakeShop"}
    )
    store = Store.objects.create(name="ベンチ店舗")
    rows = MallShop.objects.bulk_create(
        [MallShop(store=store, mall=mall, name=shop_id) for shop_id in shops]
    )
    connections = []
    for n, (row, demo) in enumerate(zip(rows, shops.values(), strict=True)):
        product_code = "refused-code" if n % REJECT_EVERY == 0 else demo.product_code
        connections.append(MakeShopConnection(
            shop=row, makeshop_shop_id=demo.shop_id, password=demo.password,
            order_auth_code=demo.order_token, product_auth_code=product_code,
            status=MakeShopConnection.Status.VERIFIED,
        ))
    # bulk_create goes through the field's pre_save, so the secrets are encrypted.
    return MakeShopConnection.objects.bulk_create(connections)


def enqueue(connections, single):
    """Queue the jobs on the database backend, the way ``services.enqueue_verification`` does."""
    from malls.makeshop import tasks
    from malls.services.queue import BATCH_SIZE

    ids = [str(connection.pk) for connection in connections]
    if single:
        task = tasks.verify_shop_task.using(backend=BACKEND)
        return [task.enqueue(pk).id for pk in ids]
    task = tasks.verify_batch_task.using(backend=BACKEND)
    return [task.enqueue(list(batch)).id for batch in batched(ids, BATCH_SIZE, strict=False)]


def start_workers(count, sandbox_url, db_name, log):
    """Workers on this run's database; their output goes to ``log`` (read on failure)."""
    env = dict(os.environ, GOQ_TEST_DATABASE_NAME=str(db_name), LOG_LEVEL="WARNING",
               MAKESHOP_API_BASE_URL=sandbox_url, PYTHONPATH=str(ROOT))
    return [
        subprocess.Popen(
            [sys.executable, "manage.py", "db_worker", "--backend", BACKEND, "--no-reload",
             "--no-startup-delay", "--interval", "0.2", "--worker-id", f"bench-worker-{n}",
             "--verbosity", "0"],
            cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
        )
        for n in range(1, count + 1)
    ]


def wait_for_jobs(job_ids, timeout):
    from django.tasks import TaskResultStatus
    from django_tasks_db.models import DBTaskResult

    jobs = DBTaskResult.objects.filter(pk__in=job_ids)
    deadline = time.monotonic() + timeout
    last_report = 0.0
    while time.monotonic() < deadline:
        open_jobs = jobs.filter(status__in=[TaskResultStatus.READY, TaskResultStatus.RUNNING])
        remaining = open_jobs.count()
        if not remaining:
            return
        if time.monotonic() - last_report > 10:
            print(f"  … {len(job_ids) - remaining}/{len(job_ids)} jobs finished", flush=True)
            last_report = time.monotonic()
        time.sleep(0.2)
    raise SystemExit(f"gave up after {timeout} s with jobs still open")


def spacing(calls):
    """Per-shop gaps (end of a call to start of the next), overlaps, and shop spans."""
    by_shop = defaultdict(list)
    for call in calls:
        by_shop[call.shop_id].append(call)
    gaps, starts, overlaps, spans = [], [], 0, {}
    for shop_calls in by_shop.values():
        shop_calls.sort(key=lambda call: call.started_at)
        for before, after in zip(shop_calls, shop_calls[1:], strict=False):
            gaps.append(after.started_at - before.finished_at)
            starts.append(after.started_at - before.started_at)
            overlaps += after.started_at < before.finished_at
        spans[shop_calls[0].shop_id] = shop_calls[-1].finished_at - shop_calls[0].started_at
    return gaps, starts, overlaps, spans


def main():
    parser = argument_parser(
        __doc__, smoke={"shops": 2, "workers": 1, "latency": 0, "timeout": 120}
    )
    parser.add_argument("--shops", type=int, default=1000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--latency", type=float, default=0.05)
    parser.add_argument("--single", action="store_true", help="one job per shop")
    parser.add_argument("--timeout", type=float, default=3600)
    args = parser.parse_args()

    with test_database() as connection:
        run(args, connection)


def run(args, connection):
    """Build the shops, queue them, run the workers to the end and print what happened."""
    from django.tasks import TaskResultStatus
    from django_tasks_db.models import DBTaskResult

    from malls.makeshop.models import MakeShopConnection
    from malls.makeshop.sandbox import make_server
    from malls.services.queue import BATCH_SIZE

    logging.getLogger("malls.makeshop.sandbox").setLevel(logging.WARNING)
    log = tempfile.TemporaryFile("w+")
    shops = sandbox_shops(args.shops)
    sandbox = make_server(shops=shops, latency=args.latency).start_in_thread()
    workers = []
    try:
        connections = create_connections(shops)
        job_ids = enqueue(connections, args.single)
        kind = "one job per shop" if args.single else f"batches of {BATCH_SIZE} shops"
        print(f"{connection.vendor}; {args.shops} shops x 3 calls; {len(job_ids)} jobs "
              f"({kind}); {args.workers} workers; sandbox latency {args.latency * 1000:.0f} ms")
        connection.close()  # the workers are about to share the database

        started = time.monotonic()
        workers = start_workers(args.workers, sandbox.url, connection.settings_dict["NAME"], log)
        wait_for_jobs(job_ids, args.timeout)
        wall = time.monotonic() - started

        jobs = DBTaskResult.objects.filter(pk__in=job_ids)
        first_start = min(jobs.values_list("started_at", flat=True))
        last_finish = max(jobs.values_list("finished_at", flat=True))
        job_status = Counter(jobs.values_list("status", flat=True))
        statuses = Counter(MakeShopConnection.objects.values_list("status", flat=True))
        checked = MakeShopConnection.objects.filter(last_checked_at__isnull=False).count()
        calls = sandbox.calls
        gaps, starts, overlaps, spans = spacing(calls)
        slowest_shop, floor = max(spans.items(), key=lambda item: item[1])
        by_worker = Counter(w for ids in jobs.values_list("worker_ids", flat=True) for w in ids)

        print("\nMakeShop's limit, as the sandbox saw it")
        print(f"  calls: {len(calls)} (expected {3 * args.shops}); refused as too fast: "
              f"{sandbox.violations}; overlapping calls for one shop: {overlaps}")
        print(f"  gap between a shop's calls, end to start: min {min(gaps):.3f} s, "
              f"median {statistics.median(gaps):.3f} s (goal >= 1 s)")
        print(f"  start to start: min {min(starts):.3f} s; largest gap {max(gaps):.2f} s; "
              f"slowest call {max(c.finished_at - c.started_at for c in calls):.2f} s")
        print("\nOutcomes")
        print(f"  jobs: {dict(job_status)}; jobs per worker: {dict(by_worker)}")
        print(f"  shops checked: {checked}/{args.shops}; status now: {dict(statuses)} "
              f"(expected {args.shops // REJECT_EVERY + (args.shops % REJECT_EVERY > 0)} "
              "rejected)")
        print("\nTime")
        print(f"  wall (workers started -> last job finished): {wall:.1f} s")
        print(f"  first job start -> last job finish: "
              f"{(last_finish - first_start).total_seconds():.1f} s")
        print(f"  floor (slowest single shop's checks, {slowest_shop}): {floor:.2f} s; "
              f"median shop {statistics.median(spans.values()):.2f} s")
        print(f"  wall / floor: {wall / floor:.1f}; calls per second: {len(calls) / wall:.1f}")
        failed = job_status.get(TaskResultStatus.FAILED, 0)
        if failed or sandbox.violations or overlaps or checked < args.shops:
            raise SystemExit("FAILED: see above")
    finally:
        for worker in workers:
            worker.terminate()
        for worker in workers:
            worker.wait(timeout=30)
        log.seek(0)
        if output := log.read():
            print(f"\nworkers said:\n{output[-3000:]}", file=sys.stderr)
        sandbox.shutdown()


if __name__ == "__main__":
    main()
