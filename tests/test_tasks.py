"""Background re-verification: the job itself, queueing without duplicates, real
``db_worker`` processes sharing MakeShop's per-shop limit, and a worker killed mid-job."""

import subprocess
import sys
import time
from datetime import timedelta

import pytest
from django.tasks import TaskResultStatus
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from malls import services
from malls.makeshop import jobs as makeshop_jobs
from malls.makeshop import services as makeshop_services
from malls.makeshop import tasks
from malls.makeshop.models import MakeShopConnection
from malls.makeshop.services import verification
from malls.models import CallSlot, ChangeRecord
from malls.services import queue

from .admin_factories import make_demo_connection, sandbox_for
from .factories import make_connection
from .processes import ROOT, child_env

Status = MakeShopConnection.Status
GONE = "6b1f7a4e-0000-4000-8000-000000000000"  # no such connection
DATABASE_QUEUE = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": ["default"]}}


def on_the_database_queue(connection):
    """Queue a job in the "database" backend, which only a db_worker process runs."""
    return tasks.verify_shop_task.using(backend="database").enqueue(str(connection.pk))


def start_worker(worker_id, sandbox, *options):
    return subprocess.Popen(
        [sys.executable, "manage.py", "db_worker", "--backend", "database", "--no-reload",
         "--no-startup-delay", "--interval", "0.1", "--worker-id", worker_id, *options],
        env=child_env(MAKESHOP_API_BASE_URL=sandbox.url),
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )


def wait_for(condition, timeout=30.0, what="condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


def overlapping_shops(calls) -> bool:
    """Whether every shop's calls were under way while every other shop's were."""
    spans = {}
    for call in calls:
        first, last = spans.get(call.shop_id, (call.started_at, call.finished_at))
        spans[call.shop_id] = (min(first, call.started_at), max(last, call.finished_at))
    return max(first for first, _ in spans.values()) < min(last for _, last in spans.values())


@pytest.mark.django_db(transaction=True)
class TestTheJob:
    def test_a_queued_job_verifies_the_shop_and_reports_the_outcome(self, settings):
        connection = make_demo_connection(status=Status.PENDING)

        with sandbox_for(settings) as sandbox:
            result = tasks.verify_shop_task.enqueue(str(connection.pk))

        assert result.status == TaskResultStatus.SUCCESSFUL
        assert result.return_value == {
            "shop_id": "demo-shop", "outcome": "accepted", "status": "verified",
            "failed_check": "", "reason": "", "calls": 3,
        }
        assert MakeShopConnection.objects.get(pk=connection.pk).status == Status.VERIFIED
        assert len(sandbox.calls) == 3 and sandbox.violations == 0

    def test_a_rejected_shop_is_recorded_with_the_failing_check(self, settings):
        connection = make_demo_connection(only_order_code=True)
        MakeShopConnection.objects.filter(pk=connection.pk).update(status=Status.VERIFIED)
        connection.refresh_from_db()
        connection.order_auth_code = "ffffffffffffffffffffffffffffffff"  # re-issued in MakeShop
        connection.save()

        with sandbox_for(settings):
            result = tasks.verify_shop_task.enqueue(str(connection.pk))

        assert result.return_value["outcome"] == "rejected"
        assert result.return_value["failed_check"] == "order_auth_code"
        assert MakeShopConnection.objects.get(pk=connection.pk).status == Status.REJECTED

    def test_a_connection_deleted_before_its_job_ran_is_reported_gone(self):
        result = tasks.verify_shop_task.enqueue(GONE)
        assert result.return_value == {"outcome": "gone"}

    def test_a_batch_verifies_its_shops_side_by_side(self, settings):
        connections = [make_demo_connection(shop) for shop in ("demo-shop", "demo-eucjp")]
        ids = [str(c.pk) for c in connections] + [GONE]

        with sandbox_for(settings, latency=0.05) as sandbox:
            started = time.monotonic()
            result = tasks.verify_batch_task.enqueue(ids)
            elapsed = time.monotonic() - started

        assert result.return_value == {"shops": 3, "outcomes": {"accepted": 2, "gone": 1}}
        # Each shop's three checks take two seconds at least (MakeShop's spacing). That
        # the shops ran side by side, not one after the other, is read from the
        # sandbox's record of the calls, not from the wall clock of a loaded machine.
        assert elapsed > 2.0
        assert len(sandbox.calls) == 6 and sandbox.violations == 0
        assert overlapping_shops(sandbox.calls)

    def test_one_shop_failing_in_a_batch_costs_the_others_nothing(self, settings, monkeypatch):
        good, bad = make_demo_connection(only_order_code=True), make_connection()
        verify = verification.verify_connection

        def verify_or_crash(*, connection, **kwargs):
            if connection.pk == bad.pk:
                raise RuntimeError("a bug, say")
            return verify(connection=connection, **kwargs)

        monkeypatch.setattr(verification, "verify_connection", verify_or_crash)
        with sandbox_for(settings):
            result = tasks.verify_batch_task.enqueue([str(good.pk), str(bad.pk)])

        assert result.return_value["outcomes"] == {"accepted": 1, "error": 1}
        assert MakeShopConnection.objects.get(pk=good.pk).status == Status.VERIFIED

    def test_admin_staged_settings_are_verified_once_the_save_commits(self, settings):
        connection = make_connection(makeshop_shop_id="demo-shop", password=None,
                                     product_auth_code=None, order_auth_code=None)

        with sandbox_for(settings) as sandbox:
            makeshop_services.apply_makeshop_settings(
                connection=connection, shop_id="demo-shop",
                new_secrets={"order_auth_code": "0123456789abcdef0123456789abcdef"},
                expected_version=connection.version, verify=makeshop_services.Verify.LATER,
                source=ChangeRecord.Source.ADMIN,
            )

        assert MakeShopConnection.objects.get(pk=connection.pk).status == Status.VERIFIED
        assert len(sandbox.calls) == 1


@pytest.mark.django_db
class TestQueueing:
    def test_shops_with_a_job_waiting_or_running_are_not_queued_twice(self, settings):
        settings.TASKS = DATABASE_QUEUE
        waiting, running, finished, fresh = (make_connection() for _ in range(4))
        tasks.verify_shop_task.enqueue(str(waiting.pk))
        DBTaskResult.objects.filter(pk=tasks.verify_shop_task.enqueue(
            str(running.pk)).id).update(status=TaskResultStatus.RUNNING)
        DBTaskResult.objects.filter(pk=tasks.verify_shop_task.enqueue(
            str(finished.pk)).id).update(status=TaskResultStatus.SUCCESSFUL)

        queued, already_open = makeshop_jobs.enqueue_verification(
            connection_ids=[c.pk for c in (waiting, running, finished, fresh)]
        )

        assert (queued, already_open) == (2, 2)
        batch = DBTaskResult.objects.get(task_path=tasks.verify_batch_task.module_path)
        assert queue.row_ids_of(batch.args_kwargs) == [str(finished.pk), str(fresh.pk)]
        assert makeshop_jobs.open_verification_ids() == {
            str(c.pk) for c in (waiting, running, finished, fresh)
        }

    def test_saved_settings_are_covered_by_a_waiting_job_but_not_by_a_running_one(
        self, settings
    ):
        """A running job read the settings before the save: its answer will be dropped."""
        settings.TASKS = DATABASE_QUEUE
        waiting, running = make_connection(), make_connection()
        tasks.verify_shop_task.enqueue(str(waiting.pk))
        DBTaskResult.objects.filter(pk=tasks.verify_shop_task.enqueue(
            str(running.pk)).id).update(status=TaskResultStatus.RUNNING)

        queued = makeshop_jobs.enqueue_verification(
            connection_ids=[waiting.pk, running.pk, running.pk], settings_changed=True
        )

        assert queued == (1, 1)
        new = DBTaskResult.objects.filter(status=TaskResultStatus.READY).exclude(
            args_kwargs__args__0=str(waiting.pk)
        ).get()
        assert new.task_path == tasks.verify_shop_task.module_path
        assert queue.row_ids_of(new.args_kwargs) == [str(running.pk)]

    def test_only_jobs_running_longer_than_a_live_job_can_are_requeued(self, settings):
        settings.TASKS = DATABASE_QUEUE
        stalled, live = make_connection(), make_connection()
        now = timezone.now()
        for connection, started in ((stalled, now - services.STALLED_AFTER - timedelta(seconds=1)),
                                    (live, now - timedelta(minutes=1))):
            result = tasks.verify_shop_task.enqueue(str(connection.pk))
            DBTaskResult.objects.filter(pk=result.id).update(
                status=TaskResultStatus.RUNNING, started_at=started, worker_ids=["gone"]
            )

        assert services.requeue_stalled_jobs() == 1

        job = DBTaskResult.objects.get(args_kwargs__args__0=str(stalled.pk))
        assert job.status == TaskResultStatus.READY and job.worker_ids == ["gone"]
        assert DBTaskResult.objects.get(
            args_kwargs__args__0=str(live.pk)
        ).status == TaskResultStatus.RUNNING

    def test_verifiable_connections_need_a_shop_id_and_a_secret(self):
        ready = make_connection()
        make_connection(password=None, order_auth_code=None, product_auth_code=None)
        no_id = make_connection()
        MakeShopConnection.objects.filter(pk=no_id.pk).update(makeshop_shop_id=None)

        assert list(makeshop_services.verifiable_connections()) == [ready]


@pytest.mark.django_db(transaction=True)
class TestWorkers:
    """Real ``manage.py db_worker`` processes against this run's test database."""

    def test_two_workers_on_one_shop_keep_makeshops_limit(self, settings):
        connection = make_demo_connection(only_order_code=True)
        other = make_demo_connection("demo-eucjp", only_order_code=True)
        # Four jobs for one shop take three seconds at least: long enough for both
        # workers to be taking jobs at the same time.
        jobs = [on_the_database_queue(connection) for _ in range(4)]
        jobs.append(on_the_database_queue(other))

        with sandbox_for(settings, latency=0.05) as sandbox:
            workers = [start_worker(f"w{n}", sandbox, "--batch") for n in (1, 2)]
            for worker in workers:
                _, err = worker.communicate(timeout=60)
                assert worker.returncode == 0, err

        assert {DBTaskResult.objects.get(pk=job.id).status for job in jobs} == {
            TaskResultStatus.SUCCESSFUL
        }
        calls = sorted(c for c in sandbox.calls if c.shop_id == "demo-shop")
        assert len(calls) == 4 and sandbox.violations == 0
        gaps = [b.started_at - a.finished_at for a, b in zip(calls, calls[1:], strict=False)]
        assert min(gaps) >= 1.0
        assert len({worker for job in jobs for worker in DBTaskResult.objects.get(
            pk=job.id).worker_ids}) == 2  # both workers took jobs

    def test_a_worker_killed_mid_job_loses_no_job(self, settings):
        """django-tasks-db leaves the job RUNNING for ever; requeueing it recovers it."""
        connection = make_demo_connection(only_order_code=True, status=Status.PENDING)
        job = on_the_database_queue(connection)

        with sandbox_for(settings, latency=2.0) as sandbox:
            first = start_worker("killed", sandbox)
            try:
                # Mid-job: the worker holds the shop's slot and MakeShop is answering.
                wait_for(lambda: "demo-shop" in sandbox.in_flight, what="the call")
                assert CallSlot.objects.filter(pk="makeshop:demo-shop", busy_until__gt=time.time()
                ).exists()
            finally:
                first.kill()  # SIGKILL: no clean-up, no chance to mark the job
                first.wait(timeout=10)

            stuck = DBTaskResult.objects.get(pk=job.id)
            assert stuck.status == TaskResultStatus.RUNNING
            assert stuck.worker_ids == ["killed"]
            # A second worker on its own would never take it: it is not READY.
            idle = start_worker("idle", sandbox, "--batch")
            idle.communicate(timeout=30)
            assert DBTaskResult.objects.get(pk=job.id).worker_ids == ["killed"]

            # Let MakeShop finish the dead worker's call, then fast-forward the two
            # clocks the real system waits on: the slot's 60 s lease and STALLED_AFTER.
            wait_for(lambda: len(sandbox.calls) == 1, what="the dead call to end")
            CallSlot.objects.filter(pk="makeshop:demo-shop").update(
                busy_until=0.0, next_call_at=time.time() + 1.02
            )
            assert services.requeue_stalled_jobs(older_than=timedelta(0)) == 1

            second = start_worker("second", sandbox, "--batch")
            _, err = second.communicate(timeout=60)
            assert second.returncode == 0, err

        done = DBTaskResult.objects.get(pk=job.id)
        assert done.status == TaskResultStatus.SUCCESSFUL
        assert done.worker_ids == ["killed", "second"]
        assert done.return_value["outcome"] == "accepted"
        assert MakeShopConnection.objects.get(pk=connection.pk).status == Status.VERIFIED
        assert sandbox.violations == 0
