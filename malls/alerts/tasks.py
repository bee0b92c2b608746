"""Background jobs that send alerts (Django's tasks; ``manage.py db_worker`` runs them).

Queuing an e-mail also queues ``send_alerts_task`` once the transaction commits
(deferred to when the e-mail may go, where the backend can defer), and a run that
leaves e-mails waiting for a retry queues the next run for then. Reminders and the
digest need a clock: run ``manage.py send_alerts`` every few minutes and
``manage.py send_staff_digest`` once a day from cron (or queue these tasks from a
scheduler); ``send_alerts`` also sends whatever an earlier job left behind.
"""

import logging

from django.tasks import task
from django.utils import timezone

from . import digest, outbox, queueing, services
from .queueing import kick_sender

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


queueing.use_sender(send_alerts_task)
