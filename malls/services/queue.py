"""Queueing background jobs: one de-duplicating entry point, and stalled-job recovery.

The jobs themselves are ``@task`` functions in the mall packages (``malls.makeshop.tasks``
verifies shops, ``malls.makeshop.app.tasks`` app installations), which call the
services. So that the services never import the tasks back (no cycle), each tasks
module registers its jobs under a name with ``register_jobs`` when it is imported,
and its app's ``ready()`` imports it in every process, the way signal receivers are
connected. Everyone queues through ``enqueue(name, ids=...)``: one open job per row,
and a row whose settings just changed (``fresh``) gets a job of its own.

The check for an open job and the enqueue are two statements, not one: two saves of
one shop in the same instant may queue two jobs. That costs one extra call to the mall
(through the same per-shop slot) and records the same answer twice; it is not worth a
lock on the queue table.

django-tasks-db marks a job RUNNING when a worker claims it and keeps no heartbeat:
a worker killed mid-job (``kill -9``, out of memory, host lost) leaves its job
RUNNING for ever, and no other worker takes it. ``requeue_stalled_jobs`` puts such
jobs back on the queue. Running a verification twice is harmless: it asks the mall
again, through the same per-shop slot, and records the latest answer.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from itertools import batched

from django.tasks import TaskResultStatus
from django.utils import timezone

# Rows per batch job, each verified in its own thread (and database connection). The
# transport's session pools 32 connections per host; more threads than that would
# open and discard a connection per call.
BATCH_SIZE = 20

# A live job makes at most three calls per shop, each waiting at most two minutes for
# the shop's slot (throttle.DEFAULT_WAIT_TIMEOUT) plus the client's 20 s deadline:
# under eight minutes, batch or not. A job RUNNING for longer lost its worker.
STALLED_AFTER = timedelta(minutes=15)


@dataclass(frozen=True)
class Jobs:
    """One kind of job: ``one`` takes a row id, ``batch`` (optional) a list of them."""

    one: object
    batch: object = None

    @property
    def tasks(self) -> tuple:
        return (self.one,) if self.batch is None else (self.one, self.batch)


_registry: dict[str, Jobs] = {}


def register_jobs(name: str, *, one, batch=None) -> None:
    """Make ``name`` queue ``one`` (one row id) and, for runs of many, ``batch``."""
    _registry[name] = Jobs(one=one, batch=batch)


def jobs(name: str) -> Jobs:
    try:
        return _registry[name]
    except KeyError:
        raise RuntimeError(
            f"No jobs are registered as {name!r}: is the mall's app installed?"
        ) from None


def _jobs_of(*tasks):
    from django_tasks_db.models import DBTaskResult  # the queue's own table, not an app model

    return DBTaskResult.objects.filter(task_path__in=[task.module_path for task in tasks])


def registered_jobs():
    """Every job django-tasks-db holds of a registered kind."""
    return _jobs_of(*(task for kind in _registry.values() for task in kind.tasks))


def row_ids_of(args_kwargs) -> list[str]:
    """The row ids a job's stored arguments name (one id, or a batch's list)."""
    args = args_kwargs.get("args") or [None]
    ids = args[0] if isinstance(args[0], list) else [args[0]]
    return [str(pk) for pk in ids if pk]


def open_ids(name: str, *, statuses=(TaskResultStatus.READY, TaskResultStatus.RUNNING)) -> set:
    """Rows that already have a job of kind ``name`` in one of ``statuses``."""
    queued = _jobs_of(*jobs(name).tasks).filter(status__in=list(statuses))
    return {
        pk
        for args_kwargs in queued.values_list("args_kwargs", flat=True).iterator()
        for pk in row_ids_of(args_kwargs)
    }


def enqueue(name: str, *, ids, fresh: bool = False, **kwargs) -> tuple[int, int]:
    """Queue jobs of kind ``name`` for these rows, skipping those already covered.

    A row is covered by a job that is waiting (it reads the row when it runs) or,
    unless ``fresh``, by one already running: a running job read the row before it
    changed, so its answer will be dropped and a new job is needed. A fresh row gets
    a job of its own (its result names the shop); other runs go in batches of
    ``BATCH_SIZE`` where the kind has a batch job. ``kwargs`` go to every job.
    Returns ``(queued, already_open)`` counted in rows. Skipping keeps an hourly cron
    from piling duplicates onto a queue still working through the last run.
    """
    kind = jobs(name)
    wanted = list(dict.fromkeys(str(pk) for pk in ids))
    covering = (
        (TaskResultStatus.READY,) if fresh else (TaskResultStatus.READY, TaskResultStatus.RUNNING)
    )
    covered = open_ids(name, statuses=covering) if wanted else set()
    new = [pk for pk in wanted if pk not in covered]
    if fresh or kind.batch is None:
        for pk in new:
            kind.one.enqueue(pk, **kwargs)
    else:
        for batch in batched(new, BATCH_SIZE, strict=False):
            kind.batch.enqueue(list(batch), **kwargs)
    return len(new), len(wanted) - len(new)


def requeue_stalled_jobs(*, older_than: timedelta = STALLED_AFTER, among=None, now=None) -> int:
    """Put jobs whose worker died back on the queue; returns how many.

    ``among`` narrows the search to some jobs (a queryset of them). A requeued job
    keeps its id and its list of workers, so the admin shows who claimed it before.
    """
    cutoff = (now or timezone.now()) - older_than
    candidates = registered_jobs() if among is None else among & registered_jobs()
    return candidates.filter(status=TaskResultStatus.RUNNING, started_at__lt=cutoff).update(
        status=TaskResultStatus.READY, started_at=None
    )
