"""Background jobs (Django's tasks framework): re-verifying saved MakeShop settings.

Jobs carry connection ids and nothing else, so the job table and its admin pages
never hold a credential. They are run by ``manage.py db_worker`` (django-tasks-db)
and spaced per MakeShop shop by ``malls.throttle``, whichever worker or thread runs
them. Only ``malls.makeshop.jobs.enqueue_verification`` queues them (it
de-duplicates); this module hands it the two jobs on import.

- ``verify_shop_task``: one shop, queued when settings are saved.
- ``verify_batch_task``: shops verified side by side, queued by "re-verify selected"
  and ``verify_makeshop --enqueue``. A shop's checks are one second apart (MakeShop's
  limit), and a worker that verified one shop at a time would spend those seconds
  asleep; a batch spends them on the other shops.
"""

import logging
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from enum import StrEnum

from django.db import connection as db_connection
from django.tasks import task

from malls.makeshop import jobs
from malls.makeshop.models import MakeShopConnection
from malls.makeshop.services import verification
from malls.models import ChangeRecord
from malls.services import queue

logger = logging.getLogger(__name__)


class JobOutcome(StrEnum):
    """A job's outcome when no verification ran (otherwise the verification's outcome)."""

    GONE = "gone"  # the connection was deleted after the job was queued
    NOTHING_TO_VERIFY = "nothing to verify"  # no shop ID or no secret saved
    ERROR = "error"  # the job failed; see the log


@task()
def verify_shop_task(connection_id: str, force: bool = True) -> dict:
    """Re-verify one shop's saved settings; the summary is the job's visible result."""
    connection = (
        MakeShopConnection.objects.select_related("shop").filter(pk=connection_id).first()
    )
    if connection is None:
        return {"outcome": JobOutcome.GONE}
    result = verification.verify_connection(
        connection=connection, force=force, source=ChangeRecord.Source.TASK
    )
    summary = {"shop_id": connection.makeshop_shop_id}
    if result is None:
        return {**summary, "outcome": JobOutcome.NOTHING_TO_VERIFY}
    return {
        **summary,
        "outcome": str(result.outcome),
        "status": connection.status,
        "failed_check": connection.failed_check,
        "reason": connection.failure_reason,
        "calls": result.calls,
    }


@task()
def verify_batch_task(connection_ids: list[str], force: bool = True) -> dict:
    """Re-verify a batch of shops side by side; the result counts their outcomes."""
    with ThreadPoolExecutor(max_workers=max(len(connection_ids), 1)) as pool:
        summaries = list(pool.map(lambda pk: _verify_in_thread(pk, force), connection_ids))
    outcomes = Counter(summary["outcome"] for summary in summaries)
    return {"shops": len(summaries), "outcomes": dict(sorted(outcomes.items()))}


def _verify_in_thread(connection_id, force) -> dict:
    try:
        return verify_shop_task.call(connection_id, force)
    except Exception:
        # One shop's failure must not cost the others their outcome.
        logger.exception("Verification of connection %s failed", connection_id)
        return {"outcome": JobOutcome.ERROR}
    finally:
        db_connection.close()  # this thread's own connection


queue.register_jobs(jobs.VERIFY, one=verify_shop_task, batch=verify_batch_task)
