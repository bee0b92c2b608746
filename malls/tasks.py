"""Background jobs (Django's tasks framework): re-verifying saved MakeShop settings.

Jobs carry connection ids and nothing else, so the job table and its admin pages
never hold a credential. They are run by ``manage.py db_worker`` (django-tasks-db)
and spaced per MakeShop shop by ``malls.throttle``, whichever worker or thread runs
them.

Two kinds of job:

- ``verify_connection_task``: one shop, queued when settings are saved.
- ``verify_connections_task``: a batch of shops verified side by side, queued by
  "re-verify selected" and ``verify_makeshop --enqueue``. A shop's checks are one
  second apart (MakeShop's limit), and a worker that verified one shop at a time
  would spend those seconds asleep; a batch spends them on the other shops.

django-tasks-db marks a job RUNNING when a worker claims it and keeps no heartbeat:
a worker killed mid-job (``kill -9``, out of memory, host lost) leaves its job
RUNNING for ever, and no other worker takes it. ``requeue_stalled_jobs`` puts such
jobs back on the queue (``verify_makeshop --enqueue`` calls it, and so can staff in
the admin). Running a verification twice is harmless: it asks MakeShop again,
through the same per-shop slot, and records the latest answer.
"""

import logging
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from enum import StrEnum
from itertools import batched

from django.db import connection as db_connection
from django.db.models import Q
from django.tasks import TaskResultStatus, task
from django.utils import timezone

from . import services
from .models import ChangeRecord, MakeShopConnection

logger = logging.getLogger(__name__)

# Shops per batch job, each verified in its own thread (and database connection). The
# MakeShop client's session pools 32 connections per host; more threads than that
# would open and discard a connection per call.
BATCH_SIZE = 20

# A live job makes at most three calls per shop, each waiting at most two minutes for
# the shop's slot (throttle.DEFAULT_WAIT_TIMEOUT) plus the client's 20 s deadline:
# under eight minutes, batch or not. A job RUNNING for longer lost its worker.
STALLED_AFTER = timedelta(minutes=15)


class JobOutcome(StrEnum):
    """A job's outcome when no verification ran (otherwise the verification's outcome)."""

    GONE = "gone"  # the connection was deleted after the job was queued
    NOTHING_TO_VERIFY = "nothing to verify"  # no shop ID or no secret saved
    ERROR = "error"  # the job failed; see the log


@task()
def verify_connection_task(connection_id: str, force: bool = True) -> dict:
    """Re-verify one shop's saved settings; the summary is the job's visible result."""
    connection = (
        MakeShopConnection.objects.select_related("shop").filter(pk=connection_id).first()
    )
    if connection is None:
        return {"outcome": JobOutcome.GONE}
    verification = services.verify_connection(
        connection=connection, force=force, source=ChangeRecord.Source.TASK
    )
    summary = {"shop_id": connection.makeshop_shop_id}
    if verification is None:
        return {**summary, "outcome": JobOutcome.NOTHING_TO_VERIFY}
    return {
        **summary,
        "outcome": str(verification.outcome),
        "status": connection.status,
        "failed_check": connection.failed_check,
        "reason": connection.failure_reason,
        "calls": verification.calls,
    }


@task()
def verify_connections_task(connection_ids: list[str], force: bool = True) -> dict:
    """Re-verify a batch of shops side by side; the result counts their outcomes."""
    with ThreadPoolExecutor(max_workers=max(len(connection_ids), 1)) as pool:
        summaries = list(pool.map(lambda pk: _verify_in_thread(pk, force), connection_ids))
    outcomes = Counter(summary["outcome"] for summary in summaries)
    return {"shops": len(summaries), "outcomes": dict(sorted(outcomes.items()))}


def _verify_in_thread(connection_id, force) -> dict:
    try:
        return verify_connection_task.call(connection_id, force)
    except Exception:
        # One shop's failure must not cost the others their outcome.
        logger.exception("Verification of connection %s failed", connection_id)
        return {"outcome": JobOutcome.ERROR}
    finally:
        db_connection.close()  # this thread's own connection


def verifiable_connections():
    """Connections with a shop ID and at least one saved secret: something to ask about."""
    has_secret = Q()
    for name in MakeShopConnection.SECRET_FIELDS:
        has_secret |= Q(**{f"{name}__isnull": False})
    return MakeShopConnection.objects.filter(has_secret, makeshop_shop_id__isnull=False)


def verification_jobs():
    """Every verification job django-tasks-db holds, of either kind."""
    from django_tasks_db.models import DBTaskResult

    return DBTaskResult.objects.filter(
        task_path__in=[verify_connection_task.module_path, verify_connections_task.module_path]
    )


def connection_ids_of(args_kwargs) -> list[str]:
    """The connection ids a job's stored arguments name."""
    args = args_kwargs.get("args") or [None]
    ids = args[0] if isinstance(args[0], list) else [args[0]]
    return [str(pk) for pk in ids if pk]


def open_verification_ids() -> set[str]:
    """Connections that already have a verification job waiting or running."""
    jobs = verification_jobs().filter(
        status__in=[TaskResultStatus.READY, TaskResultStatus.RUNNING]
    )
    return {
        pk
        for args_kwargs in jobs.values_list("args_kwargs", flat=True).iterator()
        for pk in connection_ids_of(args_kwargs)
    }


def enqueue_reverification(*, connection_ids, force: bool = True) -> tuple[int, int]:
    """Queue batch jobs for these connections, skipping those with a job already open.

    Returns ``(queued, already_open)`` counted in shops. Skipping keeps an hourly
    cron from piling duplicates onto a queue still working through the last run.
    """
    wanted = [str(pk) for pk in connection_ids]
    open_ids = open_verification_ids() if wanted else set()
    new = [pk for pk in wanted if pk not in open_ids]
    for batch in batched(new, BATCH_SIZE, strict=False):
        verify_connections_task.enqueue(list(batch), force=force)
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
