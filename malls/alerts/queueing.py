"""Queuing the alert sender from anywhere without importing the tasks module.

``malls.alerts.tasks`` hands its sending job to ``use_sender`` when it is imported (the
app's ``ready()`` imports it in every process), so services, the digest and the admin
queue a run through ``kick_sender`` and the tasks module imports them, never the reverse.
"""

import logging

from django.db.models import Q
from django.tasks import TaskResultStatus
from django.utils import timezone

logger = logging.getLogger("malls.alerts")


class _Sender:
    task = None


def use_sender(task) -> None:
    """Register the job that sends every due alert e-mail."""
    _Sender.task = task


def kick_sender(not_before=None) -> None:
    """Queue a sending job, unless one that runs early enough is already waiting."""
    send_alerts_task = _Sender.task
    if send_alerts_task is None:
        raise RuntimeError("malls.alerts.tasks is not loaded: is the malls app installed?")
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
        task_path=_Sender.task.module_path,
        backend_name=job.backend,
        status=TaskResultStatus.READY,
    ).exists()
