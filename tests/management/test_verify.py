"""``manage.py verify_makeshop``: selection, printed outcomes (never a secret), exit status,
and the cron mode that queues jobs."""

import subprocess
import sys
from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.tasks import TaskResultStatus
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from malls import services
from malls.makeshop import jobs as makeshop_jobs
from malls.makeshop import tasks
from malls.makeshop.models import MakeShopConnection
from malls.makeshop.sandbox import DEMO_SHOPS
from malls.models import ChangeRecord
from tests.admin_factories import make_demo_connection, sandbox_for
from tests.factories import make_connection
from tests.processes import ROOT, child_env

Status = MakeShopConnection.Status
DATABASE_QUEUE = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": ["default"]}}
WRONG_CODE = "ffffffffffffffffffffffffffffffff"


def run(*args, rejected=False):
    """The command's output; with ``rejected`` it must also exit with status 1."""
    out = StringIO()
    if not rejected:
        call_command("verify_makeshop", *args, stdout=out, stderr=StringIO())
        return out.getvalue()
    with pytest.raises(CommandError) as failed:
        call_command("verify_makeshop", *args, stdout=out, stderr=StringIO())
    assert failed.value.returncode == 1
    return out.getvalue()


def every_demo_secret():
    return {
        value
        for shop in DEMO_SHOPS.values()
        for value in (shop.order_token, shop.product_code, shop.password)
    } | {WRONG_CODE}


@pytest.mark.django_db(transaction=True)
class TestVerifyNow:
    def test_one_shop_is_verified_and_its_outcome_printed(self, settings):
        connection = make_demo_connection(only_order_code=True, status=Status.PENDING)

        with sandbox_for(settings):
            output = run("--shop", "demo-shop")

        assert "demo-shop: accepted" in output
        assert MakeShopConnection.objects.get(pk=connection.pk).status == Status.VERIFIED
        record = ChangeRecord.objects.get()
        assert (record.source, record.action) == (ChangeRecord.Source.COMMAND, "makeshop.verified")

    def test_a_rejection_is_printed_with_makeshops_message_and_exits_1(self, settings):
        make_demo_connection(only_order_code=True)
        rejected = make_demo_connection("demo-eucjp", only_order_code=True)
        rejected.order_auth_code = WRONG_CODE
        rejected.save()

        with sandbox_for(settings):
            output = run("--all", rejected=True)

        assert "demo-shop: accepted" in output
        assert "demo-eucjp: rejected (order_auth_code token_rejected" in output
        assert "認証に失敗しました" in output  # MakeShop's own message, secret-free
        assert "2 shop(s): 1 accepted, 1 rejected" in output
        for secret in every_demo_secret():
            assert secret not in output

    def test_an_unreachable_makeshop_is_reported_but_exits_0(self, settings):
        make_demo_connection("demo-maint", only_order_code=True)

        with sandbox_for(settings):
            output = run("--all")

        assert "demo-maint: unreachable (order_auth_code maintenance" in output

    def test_stale_selects_shops_not_checked_recently_or_ever(self, settings):
        now = timezone.now()
        make_demo_connection(only_order_code=True, last_checked_at=now - timedelta(hours=30))
        make_demo_connection("demo-eucjp", only_order_code=True,
                             last_checked_at=now - timedelta(hours=1))
        make_demo_connection("demo-pending", only_order_code=True)  # never checked

        with sandbox_for(settings) as sandbox:
            output = run("--all", "--stale", "24h", rejected=True)  # demo-pending: not approved

        assert {call.shop_id for call in sandbox.calls} == {"demo-shop", "demo-pending"}
        assert "demo-eucjp" not in output
        # Never checked comes first: the most overdue shop is verified first.
        assert output.index("demo-pending") < output.index("demo-shop")

    def test_the_exit_status_reaches_the_shell(self, settings):
        rejected = make_demo_connection(only_order_code=True)
        rejected.order_auth_code = WRONG_CODE
        rejected.save()

        with sandbox_for(settings) as sandbox:
            finished = subprocess.run(
                [sys.executable, "manage.py", "verify_makeshop", "--all"],
                env=child_env(MAKESHOP_API_BASE_URL=sandbox.url),
                cwd=ROOT, capture_output=True, text=True, timeout=60,
            )

        assert finished.returncode == 1
        assert "demo-shop: rejected" in finished.stdout
        assert WRONG_CODE not in finished.stdout + finished.stderr


@pytest.mark.django_db
class TestArguments:
    def test_an_unknown_shop_id_is_an_error(self):
        with pytest.raises(CommandError, match="no-such-shop"):
            run("--shop", "no-such-shop")

    @pytest.mark.parametrize("age", ["24", "1w", "-3h", "h"])
    def test_a_malformed_age_is_an_error(self, age):
        with pytest.raises(CommandError, match="--stale"):
            run("--all", "--stale", age)

    def test_shop_and_all_exclude_each_other_and_one_is_required(self):
        with pytest.raises(CommandError):
            run("--shop", "x", "--all")
        with pytest.raises(CommandError):
            run()

    def test_no_shop_selected_prints_a_summary(self):
        assert "0 shop(s): none selected" in run("--all")


@pytest.mark.django_db
class TestEnqueue:
    def test_jobs_are_queued_once_per_stale_shop(self, settings):
        settings.TASKS = DATABASE_QUEUE
        now = timezone.now()
        stale = make_connection(last_checked_at=now - timedelta(days=2))
        make_connection(last_checked_at=now)
        make_connection(password=None, order_auth_code=None, product_auth_code=None)

        first = run("--all", "--stale", "24h", "--enqueue")
        second = run("--all", "--stale", "24h", "--enqueue")

        assert "queued 1 shop(s) for verification; 0 already had a job open" in first
        assert "queued 0 shop(s) for verification; 1 already had a job open" in second
        assert list(DBTaskResult.objects.values_list("args_kwargs", flat=True)) == [
            {"args": [[str(stale.pk)]], "kwargs": {"force": True}}
        ]

    def test_jobs_whose_worker_died_are_put_back_on_the_queue(self, settings):
        settings.TASKS = DATABASE_QUEUE
        connection = make_connection()
        job = tasks.verify_shop_task.enqueue(str(connection.pk))
        DBTaskResult.objects.filter(pk=job.id).update(
            status=TaskResultStatus.RUNNING,
            started_at=timezone.now() - services.STALLED_AFTER - timedelta(minutes=1),
        )

        output = run("--all", "--enqueue")

        assert "put back on the queue: 1 job(s)" in output
        assert DBTaskResult.objects.get().status == TaskResultStatus.READY


# --- MakeShop app installations (new API) ------------------------------------------------------


def make_installation(shop_id="demo-app", *, state="installed", **extra):
    from malls.makeshop.app.models import MakeShopAppInstallation
    from malls.makeshop.app.sandbox import DEMO_APP_SHOPS

    shop = DEMO_APP_SHOPS.get(shop_id)
    extra.setdefault("token", shop.token if shop else "not-a-sandbox-token")
    return MakeShopAppInstallation.objects.create(
        shop_id=shop_id, state=state, installed_at=timezone.now(), **extra
    )


@pytest.fixture
def graphql(settings):
    """The new API on, against a GraphQL sandbox without a rate limit."""
    import secrets

    from malls.makeshop.app import sandbox

    server = sandbox.make_app_server(min_interval=0.0).start_in_thread()
    settings.MAKESHOP_APP_GRAPHQL_URL = server.url
    settings.MAKESHOP_APP_ID = sandbox.SANDBOX_APP_ID
    settings.MAKESHOP_APP_API_KEY = sandbox.SANDBOX_API_KEY
    settings.MAKESHOP_APP_WEBHOOK_SECRET = secrets.token_urlsafe(32)
    yield server
    server.shutdown()


def app_state(installation):
    installation.refresh_from_db()
    return installation.state


@pytest.mark.django_db(transaction=True)
class TestAppInstallations:
    def test_all_verifies_app_tokens_too_and_prints_no_token(self, graphql):
        from malls.makeshop.app.sandbox import DEMO_APP_SHOPS

        installed = make_installation()  # unclaimed: verified all the same
        linked = make_installation("demo-shop", state="verified",
                                   connection=make_connection(password=None,
                                                              order_auth_code=None,
                                                              product_auth_code=None))

        output = run("--all")

        assert "demo-app (MakeShop app): accepted" in output
        assert "demo-shop (MakeShop app): accepted" in output
        assert "2 app installation(s): 2 accepted" in output
        assert app_state(installed) == app_state(linked) == "verified"
        assert installed.events.get().source == "command"
        for shop in DEMO_APP_SHOPS.values():
            assert shop.token not in output

    def test_a_rejected_token_is_printed_and_exits_1(self, graphql):
        make_installation("other-app")  # a token the sandbox does not know

        output = run("--all", rejected=True)

        assert "other-app (MakeShop app): rejected (rejected token_rejected" in output

    def test_one_shop_may_be_an_app_installation_only(self, graphql):
        installation = make_installation()
        output = run("--shop", "demo-app")
        assert "demo-app (MakeShop app): accepted" in output
        assert app_state(installation) == "verified"

    def test_rejected_and_uninstalled_tokens_wait_for_the_merchant(self, graphql):
        make_installation("demo-app", state="rejected")
        make_installation("demo-shop", state="uninstalled", token=None)
        assert "app installation" not in run("--all")

    def test_a_failed_verification_is_retried_by_the_next_stale_run(self, graphql, settings):
        installation = make_installation()
        settings.MAKESHOP_APP_GRAPHQL_URL = "http://127.0.0.1:9/v1/graphql"  # nothing listens
        assert "demo-app (MakeShop app): unreachable" in run("--all", "--stale", "24h")
        assert app_state(installation) == "unreachable"

        settings.MAKESHOP_APP_GRAPHQL_URL = graphql.url
        output = run("--all", "--stale", "24h")  # checked a moment ago, yet retried

        assert "demo-app (MakeShop app): accepted" in output
        assert app_state(installation) == "verified"
        assert "app installation" not in run("--all", "--stale", "24h")  # fresh now


@pytest.mark.django_db
class TestAppInstallationsEnqueue:
    def test_stale_selects_never_checked_old_and_failed_checks(self, settings):
        settings.TASKS = DATABASE_QUEUE
        now = timezone.now()
        due = [
            make_installation("never-checked"),
            make_installation("old", state="verified", last_checked_at=now - timedelta(days=2)),
            make_installation("unreachable", state="unreachable", last_checked_at=now),
            make_installation("noted", state="verified", last_checked_at=now,
                              failure_reason="timeout"),
        ]
        make_installation("fresh", state="verified", last_checked_at=now)
        make_installation("rejected", state="rejected")

        first = run("--all", "--stale", "24h", "--enqueue")
        second = run("--all", "--stale", "24h", "--enqueue")

        assert "queued 4 app installation(s) for verification; 0 already had a job open" in first
        assert "queued 0 app installation(s) for verification; 4 already had a job open" in second
        queued = DBTaskResult.objects.values_list("args_kwargs", flat=True)
        assert sorted(job["args"][0] for job in queued) == sorted(str(i.pk) for i in due)

    def test_a_new_token_gets_a_job_even_while_one_runs(self, settings):

        settings.TASKS = DATABASE_QUEUE
        installation = make_installation()
        makeshop_jobs.enqueue_installation_verification(installation_ids=[installation.pk])
        DBTaskResult.objects.update(status=TaskResultStatus.RUNNING, started_at=timezone.now())

        assert makeshop_jobs.enqueue_installation_verification(
            installation_ids=[installation.pk]
        )[0] == 0
        assert makeshop_jobs.enqueue_installation_verification(
            installation_ids=[installation.pk], token_changed=True
        )[0] == 1

    def test_installation_jobs_whose_worker_died_are_put_back_on_the_queue(self, settings):
        from malls.makeshop.app.tasks import verify_installation_task

        settings.TASKS = DATABASE_QUEUE
        job = verify_installation_task.enqueue(str(make_installation().pk))
        DBTaskResult.objects.filter(pk=job.id).update(
            status=TaskResultStatus.RUNNING,
            started_at=timezone.now() - services.STALLED_AFTER - timedelta(minutes=1),
        )

        output = run("--all", "--enqueue")

        assert "put back on the queue: 1 job(s)" in output
        assert DBTaskResult.objects.get().status == TaskResultStatus.READY
        assert "queued 0 app installation(s) for verification; 1 already had a job open" in output
