"""Staff's list of MakeShop connections (malls/admin/connections.py): columns, filters,
search, permissions, the change form, and the promise that no admin page ever shows a
stored secret."""

from datetime import timedelta

import pytest
from django.db import connection as db_connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from django.utils.html import escape
from django_tasks_db.models import DBTaskResult

from malls.makeshop.models import MakeShopConnection, NotificationEvent
from malls.makeshop.verdicts import likely_cause
from malls.models import ChangeRecord, Mall, MallShop

from ..admin_factories import make_staff
from ..factories import make_connection, make_shop, make_store, make_user

Status = MakeShopConnection.Status
Application = MallShop.ApplicationStatus
pytestmark = pytest.mark.django_db

CHANGELIST = reverse("admin:malls_makeshopconnection_changelist")

# Distinctive values, so that finding one in a page can only mean a leak.
SECRETS = {
    "password": "pw-LEAK-CANARY-7f3a9c",
    "order_auth_code": "c0ffee11c0ffee22c0ffee33c0ffee44",
    "product_auth_code": "prod-LEAK-CANARY-51e8",
}


def change_url(connection):
    return reverse("admin:malls_makeshopconnection_change", args=[connection.pk])


def broken_connection(**extra):
    """Worked three days ago, rejected since: the order code was re-issued."""
    now = timezone.now()
    return make_connection(
        status=Status.REJECTED,
        verified_at=now - timedelta(days=3),
        last_checked_at=now,
        failing_since=now - timedelta(days=2),
        failed_check=MakeShopConnection.Check.ORDER_AUTH_CODE,
        failure_reason="token_rejected",
        makeshop_message="認証に失敗しました",
        **extra,
    )


@pytest.fixture
def staff_client(client):
    client.force_login(make_staff())
    return client


class TestList:
    def test_each_row_shows_store_shop_id_status_problem_application_and_notification(
        self, staff_client
    ):
        shop = make_shop(store=make_store(name="青空商店"), application_status=Application.APPLIED)
        make_connection(
            shop=shop,
            makeshop_shop_id="aozora",
            status=Status.VERIFIED,
            verified_at=timezone.now(),
            last_notification_at=timezone.now(),
            last_notification_kind=NotificationEvent.Kind.NEW_ORDER,
        )

        html = staff_client.get(CHANGELIST).text

        for text in ("青空商店", "aozora", str(Status.VERIFIED.label),
                     str(Application.APPLIED.label), str(NotificationEvent.Kind.NEW_ORDER.label)):
            assert text in html

    def test_a_connection_that_worked_and_is_now_rejected_says_so_with_the_likely_cause(
        self, staff_client
    ):
        broken = broken_connection(makeshop_shop_id="broken-shop")

        html = staff_client.get(CHANGELIST).text

        assert "認証に失敗しました" in html  # MakeShop's message
        assert escape(likely_cause(broken)) in html  # the code was probably re-issued
        assert html.count(escape(likely_cause(broken))) == 1

    def test_a_shop_rejected_from_the_start_is_not_called_broken(self, staff_client):
        never = make_connection(
            makeshop_shop_id="never-worked", status=Status.REJECTED,
            failed_check="order_auth_code", failure_reason="token_rejected",
        )

        html = staff_client.get(CHANGELIST).text

        assert "never-worked" in html
        assert likely_cause(never) == ""
        assert escape(likely_cause(broken_connection())) not in html

    def test_the_query_count_does_not_grow_with_the_rows_shown(self, staff_client):
        make_connection()
        with CaptureQueriesContext(db_connection) as few:
            assert staff_client.get(CHANGELIST).status_code == 200
        for _ in range(30):
            broken_connection()
        with CaptureQueriesContext(db_connection) as many:
            assert staff_client.get(CHANGELIST).status_code == 200

        assert len(many) == len(few)


def shop_ids_listed(client, **params):
    response = client.get(CHANGELIST, params)
    assert response.status_code == 200
    return {row.makeshop_shop_id for row in response.context["cl"].result_list}


class TestFiltersAndSearch:
    def test_status_filter_and_the_broken_choice(self, staff_client):
        make_connection(makeshop_shop_id="ok-1", status=Status.VERIFIED)
        make_connection(makeshop_shop_id="never", status=Status.REJECTED)
        broken_connection(makeshop_shop_id="broken")

        assert shop_ids_listed(staff_client, status="verified") == {"ok-1"}
        assert shop_ids_listed(staff_client, status="rejected") == {"never", "broken"}
        assert shop_ids_listed(staff_client, status="broken") == {"broken"}

    def test_failing_for_more_than_n_days(self, staff_client):
        now = timezone.now()
        make_connection(makeshop_shop_id="since-2d", status=Status.REJECTED,
                        failing_since=now - timedelta(days=2))
        make_connection(makeshop_shop_id="since-10d", status=Status.REJECTED,
                        failing_since=now - timedelta(days=10))
        make_connection(makeshop_shop_id="fine", status=Status.VERIFIED)

        assert shop_ids_listed(staff_client, failing_days="1") == {"since-2d", "since-10d"}
        assert shop_ids_listed(staff_client, failing_days="7") == {"since-10d"}
        assert shop_ids_listed(staff_client, failing_days="30") == set()

    def test_application_status_and_mall_filters(self, staff_client):
        make_connection(makeshop_shop_id="applied",
                        shop=make_shop(application_status=Application.APPLIED))
        make_connection(makeshop_shop_id="not-applied")
        makeshop = Mall.objects.get(code=Mall.MAKESHOP)

        assert shop_ids_listed(
            staff_client, shop__application_status__exact="applied"
        ) == {"applied"}
        assert shop_ids_listed(staff_client, shop__mall__id__exact=makeshop.pk) == {
            "applied", "not-applied"
        }

    def test_search_by_store_name_or_shop_id(self, staff_client):
        forest, sea = make_store(name="森の店"), make_store(name="海の店")
        make_connection(makeshop_shop_id="alpha-shop", shop=make_shop(store=forest))
        make_connection(makeshop_shop_id="beta-shop", shop=make_shop(store=sea))

        assert shop_ids_listed(staff_client, q="森の") == {"alpha-shop"}
        assert shop_ids_listed(staff_client, q="beta") == {"beta-shop"}


class TestPermissions:
    def test_people_who_are_not_staff_are_sent_to_the_admin_login(self, client):
        client.force_login(make_user())
        response = client.get(CHANGELIST)
        assert response.status_code == 302 and "login" in response.url

    def test_staff_without_the_view_permission_are_refused(self, client):
        make_connection()
        client.force_login(make_staff(permissions=()))
        assert client.get(CHANGELIST).status_code == 403

    def test_view_only_staff_see_the_list_but_are_offered_no_action(self, client):
        connection = make_connection()
        client.force_login(make_staff(permissions=("malls.view_makeshopconnection",)))

        response = client.get(CHANGELIST)
        form = response.context["action_form"]  # None when no action is offered at all
        actions = {name for name, _ in form.fields["action"].choices} if form else set()
        page = client.get(change_url(connection))

        assert response.status_code == page.status_code == 200
        assert not actions & {"reverify", "mark_applied", "mark_approved", "withdraw"}
        assert "/application/" not in page.text

    def test_view_only_staff_cannot_post_an_action_they_are_not_offered(self, client):
        connection = make_connection()
        client.force_login(make_staff(permissions=("malls.view_makeshopconnection",)))

        client.post(CHANGELIST, {"action": "mark_applied", "_selected_action": [connection.pk],
                                 "confirm": "yes"})
        page_url = reverse(
            "admin:malls_makeshopconnection_application", args=[connection.pk, "mark_applied"]
        )

        assert client.post(page_url).status_code == 403
        connection.shop.refresh_from_db()
        assert connection.shop.application_status == Application.NOT_APPLIED
        assert not ChangeRecord.objects.exists()

    def test_staff_may_re_verify_only_with_the_verify_permission(self, client, settings):
        settings.TASKS = {
            "default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": ["default"]}
        }
        connection = make_connection()
        client.force_login(make_staff(permissions=(
            "malls.view_makeshopconnection", "malls.change_makeshopconnection",
            "malls.change_application",
        )))

        client.post(CHANGELIST, {"action": "reverify", "_selected_action": [connection.pk]})

        assert not DBTaskResult.objects.exists()


class TestReverifyAction:
    def test_selected_shops_are_queued_once_and_shops_without_settings_skipped(
        self, staff_client, settings
    ):
        settings.TASKS = {
            "default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": ["default"]}
        }
        ready = make_connection()
        empty = make_connection(password=None, order_auth_code=None, product_auth_code=None)
        data = {"action": "reverify", "_selected_action": [ready.pk, empty.pk]}

        staff_client.post(CHANGELIST, data)
        response = staff_client.post(CHANGELIST, data, follow=True)

        jobs = list(DBTaskResult.objects.values_list("args_kwargs", flat=True))
        assert jobs == [{"args": [[str(ready.pk)]], "kwargs": {"force": True}}]
        # The message links to the job list, where progress and outcomes show.
        assert reverse("admin:django_tasks_database_dbtaskresult_changelist") in response.text


class TestChangeForm:
    def test_saving_new_secrets_stages_them_and_queues_a_verification(
        self, staff_client, django_capture_on_commit_callbacks
    ):
        connection = make_connection(makeshop_shop_id="staged", status=Status.VERIFIED)
        data = {
            "makeshop_shop_id": "staged",
            "new_password": "",
            "new_order_auth_code": "abcdefabcdefabcdefabcdefabcdef12",
            "new_product_auth_code": "",
            "expected_version": connection.version,
        }

        with django_capture_on_commit_callbacks() as callbacks:
            response = staff_client.post(change_url(connection), data)

        assert response.status_code == 302, response.context["adminform"].form.errors
        saved = MakeShopConnection.objects.get(pk=connection.pk)
        assert saved.status == Status.PENDING
        assert saved.order_auth_code.reveal() == "abcdefabcdefabcdefabcdefabcdef12"
        assert saved.password.reveal() == "main-admin-pass"  # empty input kept it
        assert saved.version == connection.version + 1
        assert len(callbacks) == 1  # the verification job, queued once the save commits
        record = ChangeRecord.objects.get(action="makeshop.settings_saved")
        assert record.changes["order_auth_code"] == "changed"
        assert record.source == ChangeRecord.Source.ADMIN

    def test_staffs_pasted_codes_are_cleaned_like_the_merchants(self, staff_client):
        connection = make_connection(makeshop_shop_id="pasted")
        response = staff_client.post(change_url(connection), {
            "makeshop_shop_id": "pasted",
            "new_password": " pass with spaces ",
            "new_order_auth_code": " abcdefabcdef abcdefabcdef\tabcdef12 \n",
            "new_product_auth_code": "x" * 201,
            "expected_version": connection.version,
        })
        assert response.context["adminform"].form.errors.keys() == {"new_product_auth_code"}
        response = staff_client.post(change_url(connection), {
            "makeshop_shop_id": "pasted",
            "new_password": " pass with spaces ",
            "new_order_auth_code": " abcdefabcdef abcdefabcdef\tabcdef12 \n",
            "expected_version": connection.version,
        })
        assert response.status_code == 302
        saved = MakeShopConnection.objects.get(pk=connection.pk)
        assert saved.order_auth_code.reveal() == "abcdefabcdefabcdefabcdefabcdef12"
        assert saved.password.reveal() == " pass with spaces "  # a password is kept as typed

    def test_a_form_opened_before_someone_elses_save_is_refused(self, staff_client):
        connection = make_connection(makeshop_shop_id="raced")
        opened_version = connection.version
        MakeShopConnection.objects.filter(pk=connection.pk).update(version=opened_version + 1)

        response = staff_client.post(change_url(connection), {
            "makeshop_shop_id": "raced-again",
            "new_order_auth_code": "abcdefabcdefabcdefabcdefabcdef12",
            "expected_version": opened_version,
        })

        assert response.status_code == 200
        errors = response.context["adminform"].form.non_field_errors().as_data()
        assert [error.code for error in errors] == ["stale"]
        assert MakeShopConnection.objects.get(pk=connection.pk).makeshop_shop_id == "raced"
        assert not ChangeRecord.objects.exists()

    def test_staff_can_add_settings_to_a_makeshop_shop_but_not_to_another_malls(
        self, client, django_capture_on_commit_callbacks
    ):
        client.force_login(make_staff(permissions=(
            "malls.add_makeshopconnection", "malls.view_makeshopconnection",
        )))
        makeshop_shop = make_shop()
        rakuten_shop = make_shop(mall_code="rakuten")
        add_url = reverse("admin:malls_makeshopconnection_add")

        refused = client.post(add_url, {"shop": rakuten_shop.pk, "makeshop_shop_id": "r1"})
        with django_capture_on_commit_callbacks() as callbacks:
            added = client.post(add_url, {
                "shop": makeshop_shop.pk, "makeshop_shop_id": "new-shop",
                "new_order_auth_code": "abcdefabcdefabcdefabcdefabcdef12",
            })

        assert "shop" in refused.context["adminform"].form.errors
        assert added.status_code == 302
        created = MakeShopConnection.objects.get(makeshop_shop_id="new-shop")
        assert created.status == Status.PENDING and len(callbacks) == 1
        assert ChangeRecord.objects.get(shop=makeshop_shop).action == "makeshop.created"

    def test_the_shop_of_an_existing_connection_cannot_be_changed(self, staff_client):
        connection = make_connection(makeshop_shop_id="stays")
        other = make_shop()

        staff_client.post(change_url(connection), {
            "shop": other.pk, "makeshop_shop_id": "stays", "expected_version": connection.version,
        })

        assert MakeShopConnection.objects.get(pk=connection.pk).shop_id == connection.shop_id



class TestNoSecretInAnyPage:
    """Every admin page that shows the connection, its shop or its history."""

    def test_secrets_appear_on_no_admin_page(self, client, django_capture_on_commit_callbacks):
        superuser = make_staff(permissions=(), is_superuser=True)
        client.force_login(superuser)
        shop = make_shop(store=make_store(name="漏洩テスト店"))
        connection = make_connection(
            shop=shop, makeshop_shop_id="leak-test", status=Status.REJECTED,
            verified_at=timezone.now(), failed_check="order_auth_code",
            failure_reason="token_rejected", **SECRETS,
        )
        # Give the history and the admin log something to show: a staff save of new secrets.
        with django_capture_on_commit_callbacks():
            saved = client.post(change_url(connection), {
                "makeshop_shop_id": "leak-test",
                "new_password": SECRETS["password"] + "-2",
                "new_order_auth_code": SECRETS["order_auth_code"][::-1],
                "new_product_auth_code": SECRETS["product_auth_code"] + "-2",
                "expected_version": connection.version,
            })
        secrets = {*SECRETS.values(), SECRETS["password"] + "-2",
                   SECRETS["order_auth_code"][::-1], SECRETS["product_auth_code"] + "-2"}
        record = ChangeRecord.objects.filter(shop=shop).first()
        pk = connection.pk
        pages = [
            CHANGELIST,
            CHANGELIST + "?q=leak-test",
            change_url(connection),
            reverse("admin:malls_makeshopconnection_history", args=[pk]),
            reverse("admin:malls_makeshopconnection_delete", args=[pk]),
            reverse("admin:malls_makeshopconnection_application", args=[pk, "mark_applied"]),
            reverse("admin:malls_mallshop_changelist"),
            reverse("admin:malls_mallshop_change", args=[shop.pk]),
            reverse("admin:malls_mallshop_history", args=[shop.pk]),
            reverse("admin:malls_changerecord_changelist"),
            reverse("admin:malls_changerecord_change", args=[record.pk]),
            reverse("admin:django_tasks_database_dbtaskresult_changelist"),
            reverse("admin:index"),
        ]
        # A refused save re-renders the form with what was posted.
        refused = client.post(change_url(connection), {
            "makeshop_shop_id": "not a valid id!",
            "new_password": "posted-LEAK-pw",
            "new_order_auth_code": "posted-LEAK-code",
            "expected_version": connection.version + 1,
        })
        responses = [refused, *(client.get(url) for url in pages)]
        responses.append(
            client.post(CHANGELIST, {"action": "mark_applied", "_selected_action": [pk]})
        )

        assert saved.status_code == 302
        assert [r.status_code for r in responses] == [200] * len(responses)
        bodies = [r.text for r in responses]
        for body in bodies:
            for secret in secrets | {"posted-LEAK-pw", "posted-LEAK-code"}:
                assert secret not in body
        # What staff do see of a secret: that it is saved, and its last four characters.
        assert "9c-2" in client.get(change_url(connection)).text


class TestNotificationUrl:
    def test_staff_can_issue_a_new_url_and_see_recent_notifications(self, staff_client):
        connection = make_connection()
        old_token = connection.notification_token
        NotificationEvent.objects.create(
            connection=connection, kind=NotificationEvent.Kind.NEW_ORDER,
            order_number="A-100200", received_at=timezone.now(), dedup_window=1,
        )

        page = staff_client.get(change_url(connection)).content.decode()
        assert "A-100200" in page

        staff_client.post(
            CHANGELIST,
            {"action": "new_notification_url", "_selected_action": [connection.pk]},
        )
        connection.refresh_from_db()
        assert connection.notification_token != old_token
        assert connection.previous_notification_token == old_token
        assert ChangeRecord.objects.filter(
            shop=connection.shop, action="notification_url.rotated",
            source=ChangeRecord.Source.ADMIN,
        ).exists()


@pytest.mark.django_db(transaction=True)
def test_the_change_page_says_when_makeshop_checks_of_its_shop_id_are_paused(
    client, settings, makeshop_sandbox
):
    """N2: staff see on the shop's page that another store's refusals paused the checks."""
    from malls.makeshop import services as makeshop_services

    settings.MAKESHOP_FAILED_CHECKS_PER_SHOP_PER_HOUR = 1
    owner = make_connection(makeshop_shop_id="demo-shop", status=Status.VERIFIED)
    client.force_login(make_staff())
    first = client.get(change_url(owner), headers={"accept-language": "en"}).text
    assert "GoQ asks MakeShop nothing about it" not in first

    makeshop_services.apply_makeshop_settings(  # a stranger, with a wrong code
        connection=MakeShopConnection(shop=make_shop()), shop_id="demo-shop",
        new_secrets={"order_auth_code": "f" * 32}, expected_version=None,
    )

    page = client.get(change_url(owner), headers={"accept-language": "en"}).text
    assert "GoQ asks MakeShop nothing about it until" in page
