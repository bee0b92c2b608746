"""``manage.py db_worker`` keeps running through transient database errors: a locked
SQLite while it opens its transaction, a dropped PostgreSQL connection while it claims
a job. It backs off, reconnects and then runs the job."""

import pytest
from django.core.management import call_command
from django.db import InterfaceError, OperationalError
from django.tasks import task
from django_tasks_db.management.commands import db_worker as library
from django_tasks_db.models import DBTaskResult

from malls.management.commands import db_worker

pytestmark = pytest.mark.django_db(transaction=True)

RUNS = []


@task()
def remember(value):
    RUNS.append(value)
    return value


@pytest.fixture(autouse=True)
def quick_back_off(monkeypatch):
    RUNS.clear()
    sleeps = []
    monkeypatch.setattr(db_worker.ResilientWorker, "first_delay", 0.01)
    monkeypatch.setattr(db_worker.time, "sleep", lambda seconds: sleeps.append(seconds))
    return sleeps


def run_worker():
    call_command(
        "db_worker", "--backend", "database", "--batch", "--no-reload", "--no-startup-delay",
        "--interval", "0", verbosity=0,
    )


def fail_times(monkeypatch, target, name, error, times):
    original = getattr(target, name)
    calls = {"n": 0}

    def failing(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] <= times:
            raise error
        return original(*args, **kwargs)

    monkeypatch.setattr(target, name, failing)
    return calls


def test_a_locked_database_while_opening_the_transaction_is_retried(
    monkeypatch, quick_back_off
):
    job = remember.using(backend="database").enqueue("after the lock")
    # Where SQLite's BEGIN IMMEDIATE gives up: outside the library's own retry.
    calls = fail_times(
        monkeypatch, library, "exclusive_transaction",
        OperationalError("database is locked"), times=3,
    )

    run_worker()

    assert calls["n"] >= 4
    assert RUNS == ["after the lock"]
    assert DBTaskResult.objects.get(pk=job.id).status == "SUCCESSFUL"
    # Exponential back-off with jitter: each wait at least half the doubled delay.
    assert len(quick_back_off) == 3
    assert quick_back_off[2] >= 0.02 and quick_back_off[0] <= 0.01


@pytest.mark.parametrize(
    "error",
    [
        OperationalError("server closed the connection unexpectedly"),
        InterfaceError("connection already closed"),
    ],
)
def test_a_dropped_connection_while_claiming_a_job_is_retried(monkeypatch, error):
    job = remember.using(backend="database").enqueue("after the drop")
    fail_times(monkeypatch, DBTaskResult, "claim", error, times=2)

    run_worker()

    assert RUNS == ["after the drop"]
    assert DBTaskResult.objects.get(pk=job.id).status == "SUCCESSFUL"


def test_other_errors_still_end_the_worker(monkeypatch):
    remember.using(backend="database").enqueue("never")
    fail_times(monkeypatch, library, "exclusive_transaction", RuntimeError("a bug"), times=1)

    with pytest.raises(RuntimeError):
        run_worker()


def test_the_back_off_is_capped(monkeypatch, quick_back_off):
    remember.using(backend="database").enqueue("eventually")
    monkeypatch.setattr(db_worker.ResilientWorker, "max_delay", 0.04)
    fail_times(
        monkeypatch, library, "exclusive_transaction",
        OperationalError("database is locked"), times=8,
    )

    run_worker()

    assert RUNS == ["eventually"]
    assert max(quick_back_off) <= 0.04
