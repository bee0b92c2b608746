"""django-tasks-db's job list as staff follow a re-verification run (malls/admin/jobs.py)."""

from datetime import timedelta

import pytest
from django.tasks import TaskResultStatus
from django.urls import reverse
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from malls import services

from ..admin_factories import make_staff
from ..factories import make_connection

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff_client(client):
    client.force_login(make_staff())
    return client


class TestJobList:
    """django-tasks-db's job list, as staff follow a re-verification run."""

    URL = reverse("admin:django_tasks_database_dbtaskresult_changelist")

    def queue(self, settings, *connections):
        settings.TASKS = {
            "default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": ["default"]}
        }
        before = set(DBTaskResult.objects.values_list("pk", flat=True))
        services.enqueue_verification(connection_ids=[c.pk for c in connections])
        return DBTaskResult.objects.exclude(pk__in=before).get()

    def test_the_title_counts_jobs_by_status_and_rows_show_outcomes(self, staff_client, settings):
        job = self.queue(settings, make_connection(), make_connection())
        DBTaskResult.objects.filter(pk=job.pk).update(
            status="SUCCESSFUL", return_value={"shops": 2, "outcomes": {"accepted": 2}}
        )
        self.queue(settings, make_connection())

        response = staff_client.get(self.URL)

        title = response.context["title"]
        assert "1" in title and str(TaskResultStatus.READY.label) in title
        assert "2: accepted 2" in response.text

    def test_staff_can_put_a_stalled_job_back_on_the_queue(self, staff_client, settings):
        job = self.queue(settings, make_connection())
        DBTaskResult.objects.filter(pk=job.pk).update(
            status="RUNNING", started_at=timezone.now() - timedelta(hours=1), worker_ids=["dead"]
        )

        staff_client.post(self.URL, {"action": "requeue_stalled", "_selected_action": [job.pk]})

        assert DBTaskResult.objects.get(pk=job.pk).status == "READY"

    def test_a_job_still_within_its_time_is_left_running(self, staff_client, settings):
        job = self.queue(settings, make_connection())
        DBTaskResult.objects.filter(pk=job.pk).update(
            status="RUNNING", started_at=timezone.now(), worker_ids=["alive"]
        )

        staff_client.post(self.URL, {"action": "requeue_stalled", "_selected_action": [job.pk]})

        assert DBTaskResult.objects.get(pk=job.pk).status == "RUNNING"
