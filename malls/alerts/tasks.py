"""Background jobs that send alerts (Django's tasks; ``manage.py db_worker`` runs them).

Queuing an e-mail also queues ``send_alerts_task`` once the transaction commits
(deferred to when the e-mail may go, where the backend can defer), and a run that
leaves e-mails waiting for a retry queues the next run for then. Reminders and the
digest need a clock: run ``manage.py send_alerts`` every few minutes and
``manage.py send_staff_digest`` once a day from cron (or queue these tasks from a
scheduler); ``send_alerts`` also sends whatever an earlier job left behind.
"""

import logging

from django.db.models import Q
from django.tasks import TaskResultStatus, task
from django.utils import timezone

from . import digest, outbox, services

logger = logging.getLogger("malls.alerts")


@task()
def send_alerts_task() -> dict:
    """Send every due alert e-mail; the counts are the job's visible result."""
    report = outbox.send_due()
    if report.next_attempt_at and report.next_attempt_at > timezone.now():
        kick_sender(not_before=report.next_attempt_at)
    return {"sent": report.sent, "retrying": report.retrying, "failed": report.failed,
            "cancelled": report.cancelled}


@task()
def send_reminders_task() -> dict:
    reminded = services.queue_reminders()
    return {"reminded": reminded}


@task()
def send_staff_digest_task() -> dict:
    return {"queued": digest.queue_staff_digest()}


def kick_sender(not_before=None) -> None:
    """Queue a sending job, unless one that runs early enough is already waiting."""
    backend = send_alerts_task.get_backend()
    job = send_alerts_task
    if not_before is not None and not_before > timezone.now() and backend.supports_defer:
        job = send_alerts_task.using(run_after=not_before)
    try:
        if _already_waiting(job):
            return
        job.enqueue()
    except Exception:
        # A queue that cannot take the job loses nothing: the e-mails are in the
        # outbox and `manage.py send_alerts` sends them.
        logger.exception("Could not queue the alert sender")


def _already_waiting(job) -> bool:
    backend = job.get_backend()
    if type(backend).__module__.split(".")[0] != "django_tasks_db":
        return False
    from django_tasks_db.models import DBTaskResult, get_date_max

    # A job without run_after is stored with the largest date and runs at once.
    at_once = Q(run_after=get_date_max())
    target = job.run_after or timezone.now()
    return DBTaskResult.objects.filter(
        at_once | Q(run_after__lte=target),
        task_path=send_alerts_task.module_path,
        backend_name=job.backend,
        status=TaskResultStatus.READY,
    ).exists()
