"""Load test: merchants browsing and saving their MakeShop settings on gunicorn + PostgreSQL.

Each of ``--merchants`` (default 50) simulated merchants has a store with three shops
(two on MakeShop, one on Rakuten), its own HTTP session and its own MakeShop shop in
the sandbox, so its saves wait only on its own shop's one-call-per-second spacing. A
merchant signs in (login page, then the POST), then until ``--seconds`` (default 60)
have passed repeats: the mall list, its shop's settings page, a save, the guide.
Saves alternate between the right order auth code (saved; redirect to the guide)
and a wrong one (MakeShop rejects it; the form comes back with the error). The first
right save ("save: first") asks MakeShop about all three credentials, a second apart;
later ones change nothing MakeShop has not accepted within the day, so by design they
save without asking.

Meanwhile a separate connection samples ``pg_stat_activity`` every 100 ms, and the
samples are matched with the sandbox's record of when each MakeShop call was in
flight: a connection "idle in transaction" during a call would mean a transaction
held open across a remote call.

Prints requests/s, p50/p99 per page, errors (goal: 0) and the samples' verdict.

Self-contained: creates the database ``goq_load_<pid>`` on the local PostgreSQL
(``DATABASE_URL``'s server if it names one), migrates it, collects static files into a
temporary folder, starts the sandbox and gunicorn (gthread) on free ports of 127.0.0.1
with production settings, and stops them and drops the database when done, also on
error or Ctrl-C. Traffic goes to 127.0.0.1 only.

Usage: .venv/bin/python bench/load.py [--seconds 60] [--merchants 50] [--latency 0.1]
       [--workers 5] [--threads 8] [--postgres postgres://postgres@127.0.0.1:5432]
"""

import os
import re
import shutil
import statistics
import sys
import tempfile
import threading
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path

import requests
from _common import (
    argument_parser,
    create_postgres_database,
    drop_postgres_database,
    end_on_sigterm,
    free_port,
    postgres_or_skip,
    postgres_server,
    production_env,
    sandbox_shops,
    start_gunicorn,
    stop,
)

PASSWORD = "load-merchant-2026"
WRONG_CODE = "f" * 32
SAMPLE_EVERY = 0.1
REQUEST_TIMEOUT = 60
PAGES = (
    "sign-in page", "sign-in POST", "mall list", "settings page", "save: first",
    "save: accepted", "save: rejected", "guide",
)
_CSRF = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')
_VERSION = re.compile(r'name="version" value="(\d+)"')
# The load database's connections, leaving out the sampler's own.
_ACTIVITY_SQL = """
    SELECT state,
           extract(epoch FROM clock_timestamp() - state_change),
           left(query, 1000)
      FROM pg_stat_activity
     WHERE datname = %s AND pid <> pg_backend_pid()
"""

@dataclass(frozen=True)
class Account:
    """What one simulated merchant knows: how to sign in, and its shop's MakeShop codes."""

    username: str
    shop_pk: int
    shop_id: str
    order_token: str


@dataclass
class Results:
    """Latencies of the answers that were as expected, and everything else, per page."""

    latencies: dict = field(default_factory=lambda: defaultdict(list))
    errors: Counter = field(default_factory=Counter)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def record(self, page, seconds):
        with self.lock:
            self.latencies[page].append(seconds)

    def error(self, page, what):
        with self.lock:
            self.errors[(page, what)] += 1


@dataclass(frozen=True)
class Sample:
    """The load database's connections at one moment: (state, seconds in it, last query)."""

    # time.monotonic() (the clock the sandbox records calls with) before the query was
    # sent and after its answer came: the snapshot was taken somewhere in between.
    started: float
    ended: float
    connections: tuple

    def in_state(self, state):
        return [row for row in self.connections if row[0] == state]


# --- Set-up -----------------------------------------------------------------------------


def setup_database(admin_url, name, shops) -> list[Account]:
    """Create and migrate the database, collect static files, add one store per merchant."""
    create_postgres_database(admin_url, name)
    from django.contrib.auth import get_user_model
    from django.contrib.auth.hashers import make_password
    from django.core.management import call_command
    from django.db import connections

    from malls.makeshop.models import MakeShopConnection
    from malls.models import Mall, MallShop, Membership, Store

    call_command("collectstatic", interactive=False, verbosity=0)
    makeshop, rakuten = Mall.objects.get(code=Mall.MAKESHOP), Mall.objects.get(code="rakuten")
    hashed = make_password(PASSWORD)  # hashed once: the real hasher costs ~1 s a password
    accounts = []
    for n, shop in enumerate(shops.values()):
        user = get_user_model().objects.create(username=f"merchant{n:02d}", password=hashed)
        store = Store.objects.create(name=f"負荷テスト店{n:02d}")
        Membership.objects.create(user=user, store=store)
        main, second = (
            MallShop.objects.create(store=store, mall=makeshop, name=name)
            for name in ("本店", "2号店")
        )
        MallShop.objects.create(store=store, mall=rakuten, name="楽天市場店")
        # Saved but never checked: the merchant's first right save verifies all three.
        MakeShopConnection.objects.create(
            shop=main, makeshop_shop_id=shop.shop_id, password=shop.password,
            order_auth_code=shop.order_token, product_auth_code=shop.product_code,
            status=MakeShopConnection.Status.UNVERIFIED,
        )
        MakeShopConnection.objects.create(
            shop=second, makeshop_shop_id=f"{shop.shop_id}-second", password=shop.password,
            order_auth_code=shop.order_token, status=MakeShopConnection.Status.VERIFIED,
        )
        accounts.append(Account(user.username, main.pk, shop.shop_id, shop.order_token))
    connections.close_all()
    return accounts


# --- The merchants ----------------------------------------------------------------------


class Browser:
    """One merchant's HTTP session against production settings over plain HTTP.

    Production cookies are ``__Host-`` and Secure, which a client sends over HTTPS
    only; the server here is on loopback without TLS, so the session's copies are
    marked not-secure after each answer. The server is left exactly as deployed.
    """

    def __init__(self, base_url, results):
        self.session = requests.Session()
        self.base_url = base_url
        self.results = results

    def request(self, page, method, path, *, expect, **kwargs):
        """Send one request; record its time if ``expect(response)``, else an error."""
        started = time.perf_counter()
        try:
            response = self.session.request(
                method, self.base_url + path, allow_redirects=False, timeout=REQUEST_TIMEOUT,
                **kwargs,
            )
        except requests.RequestException as exc:
            self.results.error(page, type(exc).__name__)
            return None
        elapsed = time.perf_counter() - started
        for cookie in self.session.cookies:
            cookie.secure = False
        if not expect(response):
            self.results.error(page, f"HTTP {response.status_code}")
            return None
        self.results.record(page, elapsed)
        return response


def ok(response):
    return response.status_code == 200


def sign_in(browser, account) -> bool:
    page = browser.request("sign-in page", "GET", "/accounts/login/", expect=ok)
    if page is None:
        return False
    answer = browser.request(
        "sign-in POST", "POST", "/accounts/login/",
        data={"csrfmiddlewaretoken": _CSRF.search(page.text)[1], "username": account.username,
              "password": PASSWORD},
        expect=lambda r: r.status_code == 302 and r.headers["Location"] == "/settings/",
    )
    return answer is not None


def browse_and_save(browser, account, deadline):
    """The merchant's loop: list, settings page, save (right, then wrong code), guide."""
    settings_path = f"/settings/malls/makeshop/{account.shop_pk}/"
    guide_path = f"{settings_path}guide/"
    right, first = True, True
    while time.monotonic() < deadline:
        browser.request("mall list", "GET", "/settings/malls/", expect=ok)
        page = browser.request("settings page", "GET", settings_path, expect=ok)
        if page is None or time.monotonic() >= deadline:
            continue
        data = {
            "csrfmiddlewaretoken": _CSRF.search(page.text)[1],
            "version": _VERSION.search(page.text)[1],
            "shop_id": account.shop_id,
            "password": "",
            "order_auth_code": account.order_token if right else WRONG_CODE,
            "product_auth_code": "",
        }
        if right:
            # The first asks MakeShop about all three credentials, one second apart.
            browser.request(
                "save: first" if first else "save: accepted", "POST", settings_path, data=data,
                expect=lambda r: r.status_code == 302 and r.headers["Location"] == guide_path,
            )
            first = False
        else:
            browser.request(
                "save: rejected", "POST", settings_path, data=data,
                # The form again, with MakeShop's verdict on the order auth code.
                expect=lambda r: ok(r) and 'href="#id_order_auth_code"' in r.text,
            )
        right = not right
        browser.request("guide", "GET", guide_path, expect=ok)


def run_merchants(base_url, accounts, seconds, results) -> tuple[float, float]:
    """Sign everyone in, then browse for ``seconds``; returns (loop start, loop end)."""
    browsers = [Browser(base_url, results) for _ in accounts]
    signed_in = [False] * len(accounts)

    def enter(index):
        signed_in[index] = sign_in(browsers[index], accounts[index])

    run_threads(enter, range(len(accounts)))
    started = time.monotonic()
    deadline = started + seconds
    run_threads(
        lambda index: browse_and_save(browsers[index], accounts[index], deadline),
        [index for index, ok_ in enumerate(signed_in) if ok_],
    )
    return started, time.monotonic()


def run_threads(target, items):
    threads = [threading.Thread(target=target, args=(item,)) for item in items]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()


# --- pg_stat_activity -------------------------------------------------------------------


def sample_activity(admin_url, name, stop_event, samples):
    """Append a ``Sample`` every ``SAMPLE_EVERY`` seconds until ``stop_event`` is set."""
    import psycopg

    with psycopg.connect(admin_url + "/postgres", autocommit=True) as conn:
        while True:
            started = time.monotonic()
            rows = conn.execute(_ACTIVITY_SQL, [name]).fetchall()
            samples.append(Sample(started, time.monotonic(), tuple(
                (state, float(secs or 0), query) for state, secs, query in rows
            )))
            if stop_event.wait(max(0.0, SAMPLE_EVERY - (time.monotonic() - started))):
                return


def shops_called_during(calls, sample) -> set[str]:
    """The shop IDs of the sandbox's calls in flight for the whole of ``sample``'s query.

    Only then is the snapshot, taken at an unknown moment of the query, sure to fall
    inside the call.
    """
    return {
        call.shop_id for call in calls
        if call.started_at <= sample.started and sample.ended <= call.finished_at
    }


def around_a_call(query: str, shop_ids: set[str]) -> bool:
    """Whether an idle transaction's last statement names a shop whose call is in flight.

    Every call first claims its shop's call slot (``malls.throttle``), naming the shop
    (values are bound client-side, so they show), and the claim commits before the
    request leaves. A transaction held open across a call would instead sit idle with
    that claim, or another statement about the shop, as its last one for the whole
    call. Each merchant here has its own shop and one request at a time, so no other
    request names a shop while its call is in flight.
    """
    return any(f"'{shop}'" in query for shop in shop_ids)


# --- Report -----------------------------------------------------------------------------


def percentile(values, p):
    if len(values) < 2:
        return values[0] if values else float("nan")
    return statistics.quantiles(values, n=100, method="inclusive")[p - 1]


def report(results, loop_seconds, samples, calls, sandbox_violations, stored):
    loop_pages = [page for page in PAGES if not page.startswith("sign-in")]
    loop_requests = sum(len(results.latencies[page]) for page in loop_pages) + sum(
        count for (page, _what), count in results.errors.items() if page in loop_pages
    )
    print(f"\n{loop_requests:,} requests in {loop_seconds:.1f} s of browsing and saving: "
          f"{loop_requests / loop_seconds:,.1f} requests/s (sign-in, before it, not counted)")
    print(f"{'page':<16}{'answers':>9}{'p50 ms':>10}{'p99 ms':>10}{'max ms':>10}{'errors':>8}")
    for page in PAGES:
        times = sorted(seconds * 1000 for seconds in results.latencies[page])
        errors = sum(count for (name, _what), count in results.errors.items() if name == page)
        if not times and not errors:
            continue
        worst = times[-1] if times else float("nan")
        print(f"{page:<16}{len(times):>9,}{percentile(times, 50):>10.1f}"
              f"{percentile(times, 99):>10.1f}{worst:>10.1f}{errors:>8}")
    total_errors = sum(results.errors.values())
    print(f"errors: {total_errors}" + (f" {dict(results.errors)}" if total_errors else ""))

    by_endpoint = Counter(call.endpoint for call in calls)
    print(f"\nMakeShop sandbox: {len(calls):,} calls {dict(by_endpoint)}, "
          f"{sandbox_violations} over the one-call-per-second limit")
    accepted = len(results.latencies["save: first"]) + len(results.latencies["save: accepted"])
    print(f"stored: {stored['saved']:,} 'settings saved' history entries for {accepted:,} "
          f"accepted saves; versions advanced {stored['versions']:,}; "
          f"{stored['verified']} of {stored['connections']} saved-to shops verified")

    print_activity(samples, calls)
    return total_errors


def print_activity(samples, calls):
    """What pg_stat_activity showed, and whether a transaction stayed open across a call."""
    idle, idle_during_calls, held = [], [], []
    most_calls = 0
    for sample in samples:
        shops = shops_called_during(calls, sample)
        most_calls = max(most_calls, len(shops))
        for row in sample.in_state("idle in transaction"):
            idle.append(row)
            if shops:
                idle_during_calls.append(row)
                if around_a_call(row[2], shops):
                    held.append(row)
    during_calls = sum(bool(shops_called_during(calls, sample)) for sample in samples)
    longest = max(idle, key=lambda row: row[1], default=("", 0.0, ""))
    print(f"\npg_stat_activity: {len(samples)} samples, one every {SAMPLE_EVERY * 1000:.0f} ms; "
          f"MakeShop calls in flight during {during_calls} of them (up to {most_calls} at "
          f"once); up to {max((len(s.connections) for s in samples), default=0)} connections, "
          f"{max((len(s.in_state('active')) for s in samples), default=0)} active")
    print(f"'idle in transaction': {len(idle)} sightings in "
          f"{sum(bool(s.in_state('idle in transaction')) for s in samples)} samples "
          f"(at most {max((len(s.in_state('idle in transaction')) for s in samples), default=0)}"
          f" at once), {len(idle_during_calls)} while a call was in flight; longest "
          f"{longest[1] * 1000:.0f} ms"
          + (f", after: {' '.join(longest[2].split())[:100]}" if idle else ""))
    last = Counter(" ".join(row[2].split())[:60] for row in idle)
    if last:
        print("  their last statements: " + "; ".join(
            f"{count}x {query}" for query, count in last.most_common(4)))
    print(f"verdict: {len(held)} connection(s) sat idle in transaction after a statement "
          "about a shop whose MakeShop call was in flight: "
          + ("transactions WERE held open across calls" if held
             else "no transaction was held open across a call"))
    for row in held[:5]:
        print(f"  {row[1] * 1000:.0f} ms after: {' '.join(row[2].split())[:200]}")


def stored_totals(shop_pks):
    from django.db import connections
    from django.db.models import Sum

    from malls.makeshop.models import MakeShopConnection
    from malls.models import ChangeRecord

    saved = ChangeRecord.objects.filter(
        shop_id__in=shop_pks, action="makeshop.settings_saved"
    ).count()
    rows = MakeShopConnection.objects.filter(shop_id__in=shop_pks)
    versions = (rows.aggregate(total=Sum("version"))["total"] or 0) - rows.count()
    verified = rows.filter(status=MakeShopConnection.Status.VERIFIED).count()
    totals = {"saved": saved, "versions": versions, "verified": verified,
              "connections": rows.count()}
    connections.close_all()
    return totals


# --- Main -------------------------------------------------------------------------------


def main():
    parser = argument_parser(__doc__, smoke={
        "seconds": 1, "merchants": 2, "latency": 0, "workers": 1, "threads": 2,
    })
    parser.add_argument("--seconds", type=float, default=60, help="browsing time (default 60)")
    parser.add_argument("--merchants", type=int, default=50, help="simulated merchants (50)")
    parser.add_argument("--latency", type=float, default=0.1,
                        help="seconds the sandbox takes to answer each call (default 0.1)")
    parser.add_argument("--workers", type=int, default=2 * (os.cpu_count() or 1) + 1)
    parser.add_argument("--threads", type=int, default=8, help="gthread threads per worker")
    parser.add_argument("--postgres", default=postgres_server(),
                        help="server URL without database name; the bench creates its own "
                             "(default: DATABASE_URL's PostgreSQL server, else the local one)")
    args = parser.parse_args()
    end_on_sigterm()
    postgres_or_skip(args.postgres, smoke=args.smoke)

    from malls.makeshop.sandbox import make_server

    name = f"goq_load_{os.getpid()}"
    admin_url = args.postgres.rstrip("/")
    work = Path(tempfile.mkdtemp(prefix="goq-load-"))
    shops = sandbox_shops(args.merchants, prefix="load")
    sandbox = make_server(shops=shops, latency=args.latency).start_in_thread()
    env = production_env(
        settings_module="bench.load_stack",
        database_url=f"{admin_url}/{name}",
        GOQ_LOAD_STATIC_ROOT=str(work / "static"),
        MAKESHOP_API_BASE_URL=sandbox.url,
        VERIFICATIONS_PER_STORE_PER_MINUTE="1000000",
    )
    os.environ.update(env)
    port = free_port()
    print(f"{args.merchants} merchants for {args.seconds:g} s; gunicorn gthread {args.workers} "
          f"workers x {args.threads} threads on 127.0.0.1:{port}; PostgreSQL database {name}; "
          f"MakeShop sandbox at {sandbox.url} answering in {args.latency:g} s; "
          f"{os.cpu_count()} CPUs", flush=True)
    server = None
    log_path = work / "gunicorn.log"
    try:
        accounts = setup_database(admin_url, name, shops)
        with open(log_path, "w") as log:
            server = start_gunicorn(
                port, workers=args.workers, threads=args.threads, env=env, log=log,
                ready_path="/healthz",
            )
            results, samples, stop_sampling = Results(), [], threading.Event()
            sampler = threading.Thread(
                target=sample_activity, args=(admin_url, name, stop_sampling, samples)
            )
            sampler.start()
            try:
                started, ended = run_merchants(
                    f"http://127.0.0.1:{port}", accounts, args.seconds, results
                )
            finally:
                stop_sampling.set()
                sampler.join()
        errors = report(
            results, ended - started, [s for s in samples if started <= s.started <= ended],
            sandbox.calls, sandbox.violations,
            stored_totals([account.shop_pk for account in accounts]),
        )
        # Each worker's start-up check prints one line; anything else is worth reading.
        logged = [
            line for line in log_path.read_text().splitlines()
            if line.strip() and not line.startswith("System check identified no issues")
        ]
        print(f"gunicorn's log: {len(logged)} other lines" + (":" if logged else ""))
        for line in logged[-20:]:
            print("  " + line[:300])
        sys.exit(1 if errors else 0)
    finally:
        if server is not None:
            stop(server)
        sandbox.shutdown()
        drop_postgres_database(admin_url, name)
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
