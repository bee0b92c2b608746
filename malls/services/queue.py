"""Queueing background verifications: de-duplicating entry points, and stalled-job recovery.

The jobs themselves are the ``@task`` functions of ``malls.makeshop.tasks``, which call the
services. So that the services never import ``malls.makeshop.tasks`` back (no cycle), the tasks
module hands its two jobs to ``use_jobs`` when it is imported, and the app's
``ready()`` imports it in every process, the way signal receivers are connected.

MakeShop app installations (new API) are verified by a job of their own
(``malls.makeshop.app.tasks``, registered with ``use_installation_job``): an
installation is not a connection, and its job takes an installation id. Its entry
point, ``enqueue_installation_verification``, sits here beside ``enqueue_verification``
and follows the same rules (one open job per installation; a token just changed needs a
job of its own), and ``requeue_stalled_jobs`` recovers both kinds.

django-tasks-db marks a job RUNNING when a worker claims it and keeps no heartbeat:
a worker killed mid-job (``kill -9``, out of memory, host lost) leaves its job
RUNNING for ever, and no other worker takes it. ``requeue_stalled_jobs`` puts such
jobs back on the queue. Running a verification twice is harmless: it asks MakeShop
again, through the same per-shop slot, and records the latest answer.
"""

from __future__ import annotations

from datetime import timedelta
from itertools import batched

from django.tasks import TaskResultStatus
from django.utils import timezone

# Shops per batch job, each verified in its own thread (and database connection). The
# MakeShop client's session pools 32 connections per host; more threads than that
# would open and discard a connection per call.
BATCH_SIZE = 20

# A live job makes at most three calls per shop, each waiting at most two minutes for
# the shop's slot (throttle.DEFAULT_WAIT_TIMEOUT) plus the client's 20 s deadline:
# under eight minutes, batch or not. A job RUNNING for longer lost its worker.
STALLED_AFTER = timedelta(minutes=15)


class _Jobs:
    """The ``@task`` functions this module queues; set by ``malls.makeshop.tasks`` on import."""

    shop = None  # one shop: (connection_id, force)
    batch = None  # several shops side by side: (connection_ids, force)
    installation = None  # one MakeShop app installation: (installation_id,)


def use_jobs(*, shop, batch) -> None:
    """Register the job that verifies one shop and the one that verifies a batch."""
    _Jobs.shop, _Jobs.batch = shop, batch


def use_installation_job(job) -> None:
    """Register the job that verifies one MakeShop app installation's token."""
    _Jobs.installation = job


def _jobs() -> _Jobs:
    if _Jobs.shop is None or _Jobs.batch is None:
        raise RuntimeError("malls.makeshop.tasks is not loaded: is the malls app installed?")
    return _Jobs


def _jobs_of(*tasks):
    from django_tasks_db.models import DBTaskResult  # the queue's own table, not an app model

    return DBTaskResult.objects.filter(task_path__in=[task.module_path for task in tasks])


def verification_jobs():
    """Every verification job django-tasks-db holds, of any kind (installations' included)."""
    jobs = _jobs()
    installation = () if jobs.installation is None else (jobs.installation,)
    return _jobs_of(jobs.shop, jobs.batch, *installation)


def connection_ids_of(args_kwargs) -> list[str]:
    """The connection ids a job's stored arguments name."""
    args = args_kwargs.get("args") or [None]
    ids = args[0] if isinstance(args[0], list) else [args[0]]
    return [str(pk) for pk in ids if pk]


def _open_ids(jobs, statuses) -> set:
    jobs = jobs.filter(status__in=list(statuses))
    return {
        pk
        for args_kwargs in jobs.values_list("args_kwargs", flat=True).iterator()
        for pk in connection_ids_of(args_kwargs)
    }


def open_verification_ids(*, statuses=(TaskResultStatus.READY, TaskResultStatus.RUNNING)) -> set:
    """Connections that already have a verification job in one of ``statuses``."""
    jobs = _jobs()
    return _open_ids(_jobs_of(jobs.shop, jobs.batch), statuses)


def enqueue_verification(
    *, connection_ids, force: bool = True, settings_changed: bool = False
) -> tuple[int, int]:
    """Queue background verification of these connections, skipping those already covered.

    A connection is covered by a job that is waiting (it reads the row when it runs)
    or, unless ``settings_changed``, by one already running: a running job read the
    settings before they changed, so its answer will be dropped and a new job is
    needed. Settings just saved get a job of their own, whose result names the shop;
    re-verification runs go in batches of ``BATCH_SIZE``. Returns ``(queued,
    already_open)`` counted in shops. Skipping keeps an hourly cron from piling
    duplicates onto a queue still working through the last run.
    """
    jobs = _jobs()
    wanted = list(dict.fromkeys(str(pk) for pk in connection_ids))
    covering = (
        (TaskResultStatus.READY,)
        if settings_changed
        else (TaskResultStatus.READY, TaskResultStatus.RUNNING)
    )
    open_ids = open_verification_ids(statuses=covering) if wanted else set()
    new = [pk for pk in wanted if pk not in open_ids]
    if settings_changed:
        for pk in new:
            jobs.shop.enqueue(pk, force=force)
    else:
        for batch in batched(new, BATCH_SIZE, strict=False):
            jobs.batch.enqueue(list(batch), force=force)
    return len(new), len(wanted) - len(new)


def enqueue_installation_verification(
    *, installation_ids, token_changed: bool = False
) -> tuple[int, int]:
    """Queue a token verification per MakeShop app installation, skipping those covered.

    Same rule as ``enqueue_verification``: a waiting job covers an installation (it
    reads the row when it runs); a running one does too, unless the token just
    changed (``token_changed``: its answer is about the old token and is dropped).
    One job per installation: each makes a single call. Returns ``(queued,
    already_open)``.
    """
    job = _Jobs.installation
    if job is None:
        raise RuntimeError("malls.makeshop.app.tasks is not loaded: is the malls app installed?")
    wanted = list(dict.fromkeys(str(pk) for pk in installation_ids))
    covering = (
        (TaskResultStatus.READY,)
        if token_changed
        else (TaskResultStatus.READY, TaskResultStatus.RUNNING)
    )
    open_ids = _open_ids(_jobs_of(job), covering) if wanted else set()
    new = [pk for pk in wanted if pk not in open_ids]
    for pk in new:
        job.enqueue(pk)
    return len(new), len(wanted) - len(new)


def requeue_stalled_jobs(*, older_than: timedelta = STALLED_AFTER, among=None, now=None) -> int:
    """Put verification jobs whose worker died back on the queue; returns how many.

    ``among`` narrows the search to some jobs (a queryset of them). A requeued job
    keeps its id and its list of workers, so the admin shows who claimed it before.
    """
    cutoff = (now or timezone.now()) - older_than
    jobs = verification_jobs() if among is None else among & verification_jobs()
    return jobs.filter(status=TaskResultStatus.RUNNING, started_at__lt=cutoff).update(
        status=TaskResultStatus.READY, started_at=None
    )
