"""django-tasks-db's job list as staff follow a re-verification run (malls/admin/jobs.py)."""

from datetime import timedelta

import pytest
from django.tasks import TaskResultStatus
from django.urls import reverse
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from malls.makeshop import jobs as makeshop_jobs

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
        makeshop_jobs.enqueue_verification(connection_ids=[c.pk for c in connections])
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


class TestInStaffLanguage:
    """django-tasks-db names some columns and each job's page in fixed English."""

    def test_the_list_names_its_columns_in_japanese(self, staff_client, settings):
        TestJobList().queue(settings, make_connection())

        html = staff_client.get(TestJobList.URL).text

        assert "Task name" not in html
        assert "タスク名" in html and "MakeShopショップの接続確認" in html

    def test_a_jobs_page_is_named_after_its_task_not_the_model(self, staff_client, settings):
        job = TestJobList().queue(settings, make_connection())
        url = reverse("admin:django_tasks_database_dbtaskresult_change", args=[job.pk])

        html = staff_client.get(url).text

        assert "DBTaskResult object" not in html
        assert "MakeShopショップの接続確認" in html
        for english in ("Run after", "Traceback", "run after", "traceback"):
            assert f">{english}" not in html
        assert "実行予定日時" in html and "トレースバック" in html
