"""What the benchmarks share: the project on the path, their command line, a throw-away
database, sandbox shops, and gunicorn with production settings.

Every script imports this module first. A script run as ``.venv/bin/python bench/x.py``
has ``bench/`` on ``sys.path`` but not the project, so importing this puts the project
there and picks the test settings (throw-away keys, a test database) unless the caller
chose others.
"""

import argparse
import base64
import http.client
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "goq.settings_test")


# A smoke run that cannot happen here (no PostgreSQL server to create a database on)
# exits with this code after printing why; tests/bench reports it as a skip. 77 is
# what automake's test drivers read as "skipped".
EXIT_SKIPPED = 77


class BenchArgumentParser(argparse.ArgumentParser):
    """A bench's command line, with ``--smoke``: each step once, at the smallest size.

    A smoke run proves the script still works against today's code (``make test`` runs
    every bench so, see tests/bench); its figures mean nothing. ``smoke`` holds the
    values ``--smoke`` gives the options; an option also given on the command line keeps
    that value.
    """

    def __init__(self, *args, smoke: dict, **kwargs):
        super().__init__(*args, **kwargs)
        self.smoke = smoke
        self.add_argument(
            "--smoke", action="store_true",
            help="run each step once at the smallest size, to prove the script works "
                 "(figures meaningless): " + (
                     " ".join(f"--{name.replace('_', '-')} {value}"
                              for name, value in smoke.items()) or "no option changes"),
        )

    def parse_args(self, args=None, namespace=None):
        parsed = super().parse_args(args, namespace)
        if parsed.smoke:
            self.set_defaults(**self.smoke)
            parsed = super().parse_args(args, namespace)
        return parsed


def argument_parser(doc: str, *, smoke: dict) -> BenchArgumentParser:
    """A parser whose ``--help`` is the script's docstring: its first paragraph, then the rest.

    ``smoke``: the options' values under ``--smoke`` (the smallest run that still goes
    through every step).
    """
    summary, _, details = doc.strip().partition("\n\n")
    return BenchArgumentParser(
        description=summary, epilog=details or None,
        formatter_class=argparse.RawDescriptionHelpFormatter, smoke=smoke,
    )


# --- A throw-away database in this process ----------------------------------------------


@contextmanager
def test_database(*, test_environment: bool = False):
    """Set Django up and yield the connection to a new test database, dropped afterwards.

    ``test_environment`` runs ``setup_test_environment()`` (locmem e-mail, and so on).
    Page benchmarks leave it off: it instruments every template render for the test
    client, which would weigh on the pages far more than in use.
    """
    import django

    django.setup()
    from django.db import connection
    from django.test.utils import setup_test_environment

    if test_environment:
        setup_test_environment()
    test_name = connection.creation.create_test_db(verbosity=0, autoclobber=True, serialize=False)
    try:
        yield connection
    finally:
        connection.close()
        connection.creation.destroy_test_db(test_name, verbosity=0)


# --- MakeShop sandbox -------------------------------------------------------------------


def sandbox_shops(count: int, prefix: str = "bench") -> dict:
    """``count`` sandbox shops (``<prefix>-0000`` ...) with codes made for this run."""
    from malls.makeshop.sandbox import DemoShop

    shops = (
        DemoShop(
            f"{prefix}-{n:04d}", secrets.token_hex(16), f"{prefix}-product-{secrets.token_hex(6)}",
            f"{prefix}-password-{secrets.token_hex(6)}",
        )
        for n in range(count)
    )
    return {shop.shop_id: shop for shop in shops}


# --- PostgreSQL and gunicorn, for the benchmarks of the deployed stack --------------------


def postgres_server() -> str:
    """The server the benchmarks of the deployed stack create their database on.

    ``DATABASE_URL``'s PostgreSQL server when it names one (its database left out), so
    that a run prefixed with it, as the README says, stays on that server; else the
    local one.
    """
    url = urlsplit(os.environ.get("DATABASE_URL", ""))
    if url.scheme in ("postgres", "postgresql", "pgsql"):
        return f"{url.scheme}://{url.netloc}"
    return "postgres://postgres@127.0.0.1:5432"


def postgres_or_skip(admin_url: str, *, smoke: bool) -> None:
    """In a smoke run, exit with ``EXIT_SKIPPED`` if no PostgreSQL server answers.

    The deployed stack runs on PostgreSQL, so these benchmarks have no SQLite
    fallback; a developer's ``make test`` on SQLite may have no server. A full run
    fails on the connection error instead.
    """
    if not smoke:
        return
    import psycopg

    try:
        psycopg.connect(admin_url + "/postgres", connect_timeout=5).close()
    except psycopg.OperationalError as error:
        where = urlsplit(admin_url)  # host and port only: the URL may hold a password
        reason = str(error).strip().splitlines()[0]
        print(f"skipped: needs a PostgreSQL server, none answers at {where.hostname}:"
              f"{where.port or 5432} ({reason})")
        sys.exit(EXIT_SKIPPED)


def create_postgres_database(admin_url: str, name: str) -> None:
    """Create database ``name`` on the server at ``admin_url``, set Django up and migrate it.

    The caller has pointed ``DATABASE_URL`` at it first (see ``production_env``).
    """
    import psycopg
    from psycopg import sql

    with psycopg.connect(admin_url + "/postgres", autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))

    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def drop_postgres_database(admin_url: str, name: str) -> None:
    import psycopg
    from psycopg import sql

    with psycopg.connect(admin_url + "/postgres", autocommit=True) as conn:
        conn.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
        )


def production_env(*, settings_module: str, database_url: str, **extra: str) -> dict:
    """The environment of a server run as deployed: DEBUG off, fresh keys, loopback only.

    ``SECURE_SSL_REDIRECT`` is off because the benchmarks speak plain HTTP on loopback;
    TLS is the proxy's job.
    """
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": settings_module,
        "DATABASE_URL": database_url,
        "SECRET_KEY": secrets.token_urlsafe(50),
        "CREDENTIALS_KEYS": "bench:" + base64.b64encode(secrets.token_bytes(32)).decode(),
        "DEBUG": "false",
        "ALLOWED_HOSTS": "127.0.0.1",
        "SECURE_SSL_REDIRECT": "false",
        "LOG_LEVEL": "WARNING",
        "PYTHONPATH": str(ROOT),
        **extra,
    }


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_gunicorn(port, *, workers, threads, env, ready_path, log=None, timeout=60):
    """gunicorn (gthread) on 127.0.0.1:port, returned once ``ready_path`` answers 200."""
    process = subprocess.Popen(
        [
            sys.executable, "-m", "gunicorn", "goq.wsgi:application",
            "--bind", f"127.0.0.1:{port}", "--workers", str(workers),
            "--worker-class", "gthread", "--threads", str(threads),
            "--log-level", "warning", "--chdir", str(ROOT),
        ],
        env=env, cwd=ROOT, stdout=log, stderr=log,
    )
    give_up_at = time.monotonic() + timeout
    while time.monotonic() < give_up_at:
        if process.poll() is not None:
            raise RuntimeError(f"gunicorn exited with {process.returncode}")
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            conn.request("GET", ready_path)
            if conn.getresponse().status == 200:
                return process
        except OSError:
            time.sleep(0.2)
    stop(process)
    raise RuntimeError(f"gunicorn did not answer within {timeout} s")


def stop(process) -> None:
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def end_on_sigterm() -> None:
    """A plain ``kill`` ends the run through the same clean-up as Ctrl-C."""
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
