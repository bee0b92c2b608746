"""MakeShop app installations in the admin (malls/admin/installations.py), and the new API
on the connection list (malls/admin/connections.py): each shop's API and installation
state, filters whose counts equal the overview's, unclaimed installations assigned to the
right shop by staff allowed to (with history), re-verification of both kinds, and no
token on any admin page."""

import pytest
from django.contrib.messages import get_messages
from django.db import connection as db
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from malls.makeshop.admin import overview
from malls.makeshop.app import installations, receipts
from malls.makeshop.app.models import AppInstallationEvent, MakeShopAppInstallation
from malls.makeshop.models import MakeShopConnection
from malls.models import ChangeRecord

from ..admin_factories import REVIEWER_PERMISSIONS, make_staff
from ..factories import make_connection, make_shop, make_store

pytestmark = pytest.mark.django_db

State = MakeShopAppInstallation.State
CONNECTIONS = reverse("admin:malls_makeshopconnection_changelist")
INSTALLATIONS = reverse("admin:malls_makeshopappinstallation_changelist")
# Distinctive, so that finding it in a page can only mean a leak.
TOKEN = "tok-LEAK-CANARY-5b7e2c91d4"
ASSIGNER = (*REVIEWER_PERMISSIONS, "malls.view_makeshopappinstallation",
            "malls.assign_makeshopappinstallation")
VIEWER = (*REVIEWER_PERMISSIONS, "malls.view_makeshopappinstallation")
VERIFY_TASK = "malls.makeshop.app.tasks.verify_installation_task"


def installed(shop_id, *, token=TOKEN, state=None, connection=None):
    """An installation as the install webhook leaves it (event recorded), then as given."""
    installation = installations.store_installation(shop_id=shop_id, token=token)
    if connection is not None:
        MakeShopAppInstallation.objects.filter(pk=installation.pk).update(connection=connection)
    if state is not None:
        MakeShopAppInstallation.objects.filter(pk=installation.pk).update(state=state)
    installation.refresh_from_db()
    return installation


def without_shop_id(store_name=None):
    shop = make_shop(store=make_store(name=store_name) if store_name else None)
    return MakeShopConnection.objects.create(shop=shop, makeshop_shop_id=None)


def assign_url(installation):
    return reverse("admin:malls_makeshopappinstallation_assign", args=[installation.pk])


def unassign_url(installation):
    return reverse("admin:malls_makeshopappinstallation_unassign", args=[installation.pk])


def change_url(installation):
    return reverse("admin:malls_makeshopappinstallation_change", args=[installation.pk])


def listed(client, url, **params):
    response = client.get(url, params)
    assert response.status_code == 200
    return response.context["cl"]


def messages_of(response, level_tag):
    return [str(m) for m in get_messages(response.wsgi_request) if m.level_tag == level_tag]


def use_database_tasks(settings):
    settings.TASKS = {
        "default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": ["default"]}
    }


@pytest.fixture
def assigner(client):
    user = make_staff(permissions=ASSIGNER, username="assigner-ito")
    client.force_login(user)
    return user


class TestConnectionList:
    def test_each_row_says_which_api_and_the_installation_state(self, client):
        client.force_login(make_staff())
        on_app = make_connection(makeshop_shop_id="on-app")
        installed("on-app", state=State.VERIFIED, connection=on_app)
        waiting = make_connection(makeshop_shop_id="rejected-app")
        installed("rejected-app", state=State.REJECTED, connection=waiting)
        make_connection(makeshop_shop_id="legacy-only")

        rows = {
            row.makeshop_shop_id: row for row in listed(client, CONNECTIONS).result_list
        }
        html = client.get(CONNECTIONS).text

        assert set(rows) == {"on-app", "rejected-app", "legacy-only"}
        assert "アプリ" in html and "認証コード" in html
        assert str(State.REJECTED.label) in html  # the app not (yet) in use, and why

    def test_the_list_costs_no_query_per_row_for_the_installations(self, client):
        client.force_login(make_staff())
        make_connection()
        with CaptureQueriesContext(db) as few:
            client.get(CONNECTIONS)
        for n in range(10):
            installed(f"many-{n}", state=State.VERIFIED,
                      connection=make_connection(makeshop_shop_id=f"many-{n}"))
        with CaptureQueriesContext(db) as many:
            client.get(CONNECTIONS)

        assert len(many) == len(few)

    def test_filters_by_api_and_installation_state_count_what_the_overview_says(self, client):
        client.force_login(make_staff())
        for n, state in enumerate([State.VERIFIED, State.VERIFIED, State.REJECTED,
                                   State.INSTALLED, State.UNINSTALLED]):
            installed(f"app-{n}", state=state,
                      connection=make_connection(makeshop_shop_id=f"app-{n}"))
        make_connection(makeshop_shop_id="legacy-a")
        make_connection(makeshop_shop_id="legacy-b")
        make_connection(makeshop_shop_id="nothing-saved", password=None, order_auth_code=None,
                        product_auth_code=None)
        installed("unclaimed", state=State.VERIFIED)  # serves no shop: counted nowhere

        figures = {f.key: f for f in overview.build_overview().by_api}

        assert figures["api:app"].count == 2
        # Auth codes and no verified app: the three whose app is not in use, and two more.
        assert figures["api:legacy"].count == 5
        for figure in figures.values():
            assert listed(client, figure.url).result_count == figure.count, figure
        by_state = {
            state: listed(client, CONNECTIONS, app_state=state).result_count
            for state in [*State.values, "none"]
        }
        assert by_state == {"installed": 1, "verified": 2, "rejected": 1, "unreachable": 0,
                            "uninstalled": 1, "none": 3}

    def test_the_installations_list_heads_with_the_shops_still_on_the_legacy_api(self, client):
        client.force_login(make_staff(permissions=VIEWER))
        make_connection()
        make_connection()
        installed("on-app", state=State.VERIFIED,
                  connection=make_connection(makeshop_shop_id="on-app"))
        installed("waiting")

        response = client.get(INSTALLATIONS)

        figures = {f.key: f.count for f in response.context["api_figures"]}
        assert figures == {"api:legacy": 2, "api:app": 1}
        assert response.context["unclaimed"] == 1
        legacy_url = overview.changelist_url({"api": "legacy"})
        assert f'href="{legacy_url}">2</a>' in response.text


class TestInstallationPages:
    def test_the_page_shows_state_installation_link_and_events_never_the_token(self, client):
        client.force_login(make_staff(permissions=VIEWER))
        connection = make_connection(makeshop_shop_id="linked-shop",
                                     shop=make_shop(store=make_store(name="紐付け商店")))
        installation = installed("linked-shop", state=State.VERIFIED, connection=connection)

        html = client.get(change_url(installation)).text

        assert "linked-shop" in html and "紐付け商店" in html
        assert str(State.VERIFIED.label) in html
        assert "MakeShopアプリのインストール" in html  # the install event, in the history table
        assert TOKEN not in html

    def test_installations_cannot_be_added_edited_or_deleted_here(self, client):
        client.force_login(make_staff(permissions=(), is_superuser=True))
        installation = installed("read-only")

        assert client.get(reverse("admin:malls_makeshopappinstallation_add")).status_code == 403
        client.post(change_url(installation), {"shop_id": "changed"})
        delete = reverse("admin:malls_makeshopappinstallation_delete", args=[installation.pk])
        assert client.post(delete, {"post": "yes"}).status_code == 403
        assert MakeShopAppInstallation.objects.get().shop_id == "read-only"

    def test_the_unclaimed_filter_lists_installations_waiting_for_staff(self, client):
        client.force_login(make_staff(permissions=VIEWER))
        installed("waiting-1")
        installed("gone", state=State.UNINSTALLED)
        installed("served", connection=make_connection(makeshop_shop_id="served"))

        cl = listed(client, INSTALLATIONS, claimed="no")

        assert [i.shop_id for i in cl.result_list] == ["waiting-1"]


class TestAssignment:
    def test_the_page_lists_only_shops_with_the_same_id_in_any_case_or_none(
        self, client, assigner
    ):
        installation = installed("Shop-A")
        same = make_connection(makeshop_shop_id="Shop-A")
        other_case = make_connection(makeshop_shop_id="shop-a")
        unnamed = without_shop_id()
        make_connection(makeshop_shop_id="shop-b")
        taken = without_shop_id()
        installed("taken-elsewhere", connection=taken)

        response = client.get(assign_url(installation))

        assert response.status_code == 200
        assert [c.pk for c in response.context["candidates"]] == [
            same.pk, other_case.pk, unnamed.pk
        ]

    def test_staff_assign_an_installation_and_it_is_recorded(self, client, assigner):
        installation = installed("assign-me")
        connection = make_connection(makeshop_shop_id="assign-me")

        response = client.post(assign_url(installation), {"connection": connection.pk})

        assert response.status_code == 302
        installation.refresh_from_db()
        assert installation.connection_id == connection.pk
        assert installation.linked_by == assigner
        event = installation.events.get(action="makeshop_app.linked")
        assert (event.actor, event.source) == (assigner, AppInstallationEvent.Source.ADMIN)
        record = ChangeRecord.objects.get(shop=connection.shop, action="makeshop_app.linked")
        assert (record.actor, record.source) == (assigner, ChangeRecord.Source.ADMIN)
        history = client.get(reverse("admin:malls_makeshopconnection_change",
                                     args=[connection.pk])).text
        assert "MakeShopアプリをこのショップに紐付け" in history and "assigner-ito" in history

    def test_a_shop_without_an_id_takes_the_installations(self, client, assigner):
        installation = installed("fresh-id")
        connection = without_shop_id()

        client.post(assign_url(installation), {"connection": connection.pk})

        connection.refresh_from_db()
        assert connection.makeshop_shop_id == "fresh-id"
        assert MakeShopAppInstallation.objects.get().connection_id == connection.pk

    def test_a_shop_not_offered_is_refused_and_nothing_changes(self, client, assigner):
        installation = installed("mine")
        elsewhere = make_connection(makeshop_shop_id="someone-elses")

        response = client.post(assign_url(installation), {"connection": elsewhere.pk},
                               follow=True)

        assert messages_of(response, "error") == ["一覧のショップから選んでください。"]
        assert MakeShopAppInstallation.objects.get().connection_id is None
        assert not ChangeRecord.objects.filter(action="makeshop_app.linked").exists()

    def test_a_shop_id_that_differs_in_case_is_listed_but_refused_by_the_service(
        self, client, assigner
    ):
        installation = installed("CaseShop")
        near = make_connection(makeshop_shop_id="caseshop")

        response = client.post(assign_url(installation), {"connection": near.pk}, follow=True)

        assert messages_of(response, "error") == [
            "このショップのMakeShopショップIDが異なります。"
        ]
        assert MakeShopAppInstallation.objects.get().connection_id is None

    def test_staff_take_an_installation_back_after_confirming(self, client, assigner):
        connection = make_connection(makeshop_shop_id="take-back")
        installation = installed("take-back", connection=connection)

        confirmation = client.get(unassign_url(installation))
        assert confirmation.status_code == 200
        assert MakeShopAppInstallation.objects.get().connection_id == connection.pk
        client.post(unassign_url(installation))

        assert MakeShopAppInstallation.objects.get().connection_id is None
        assert ChangeRecord.objects.filter(
            shop=connection.shop, action="makeshop_app.unlinked", actor=assigner
        ).exists()

    def test_the_list_actions_assign_one_and_take_back_after_confirming(self, client, assigner):
        waiting = installed("by-action")
        connection = make_connection(makeshop_shop_id="served-by-action")
        served = installed("served-by-action", connection=connection)

        assign = client.post(INSTALLATIONS, {"action": "assign",
                                             "_selected_action": [waiting.pk]})
        confirm = client.post(INSTALLATIONS, {"action": "unassign",
                                              "_selected_action": [served.pk]})
        assert MakeShopAppInstallation.objects.get(pk=served.pk).connection_id == connection.pk
        client.post(INSTALLATIONS, {"action": "unassign", "_selected_action": [served.pk],
                                    "confirm": "yes"})

        assert assign.status_code == 302 and assign.url == assign_url(waiting)
        assert confirm.status_code == 200 and "served-by-action" in confirm.text
        assert MakeShopAppInstallation.objects.get(pk=served.pk).connection_id is None


class TestPermissions:
    def test_staff_without_the_assign_permission_are_refused_everywhere(self, client):
        staff = make_staff(permissions=VIEWER)
        client.force_login(staff)
        waiting = installed("not-yours")
        connection = make_connection(makeshop_shop_id="not-yours")
        served = installed("served", connection=make_connection(makeshop_shop_id="served"))

        page = client.get(change_url(waiting))
        listing = client.get(INSTALLATIONS)
        offered = {name for name, _ in listing.context["action_form"].fields["action"].choices}
        responses = [
            client.get(assign_url(waiting)),
            client.post(assign_url(waiting), {"connection": connection.pk}),
            client.get(unassign_url(served)),
            client.post(unassign_url(served)),
        ]
        client.post(INSTALLATIONS, {"action": "unassign", "_selected_action": [served.pk],
                                    "confirm": "yes"})

        assert page.status_code == 200
        assert assign_url(waiting) not in page.text
        assert not offered & {"assign", "unassign"}
        assert [r.status_code for r in responses] == [403] * 4
        assert MakeShopAppInstallation.objects.get(pk=waiting.pk).connection_id is None
        assert MakeShopAppInstallation.objects.get(pk=served.pk).connection_id is not None
        assert not ChangeRecord.objects.filter(action__startswith="makeshop_app.").exclude(
            action="makeshop_app.installed"
        ).exists()

    def test_staff_who_may_not_see_installations_get_no_page(self, client):
        client.force_login(make_staff(permissions=("malls.assign_makeshopappinstallation",)))
        installation = installed("hidden")

        assert client.get(INSTALLATIONS).status_code == 403
        assert client.get(change_url(installation)).status_code == 403
        assert client.get(assign_url(installation)).status_code == 403
        assert MakeShopAppInstallation.objects.get().connection_id is None


class TestReverification:
    def test_reverifying_connections_queues_their_app_tokens_too(self, client, settings):
        use_database_tasks(settings)
        client.force_login(make_staff())
        with_app = make_connection(makeshop_shop_id="with-app")
        installation = installed("with-app", state=State.VERIFIED, connection=with_app)
        gone = make_connection(makeshop_shop_id="gone-app")
        installed("gone-app", state=State.UNINSTALLED, connection=gone)
        plain = make_connection(makeshop_shop_id="plain")

        client.post(CONNECTIONS, {"action": "reverify",
                                  "_selected_action": [with_app.pk, gone.pk, plain.pk]})

        tokens = DBTaskResult.objects.filter(task_path=VERIFY_TASK)
        assert [job.args_kwargs["args"] for job in tokens] == [[str(installation.pk)]]
        assert DBTaskResult.objects.exclude(task_path=VERIFY_TASK).count() == 1  # the batch

    def test_the_installations_list_reverifies_tokens_with_the_verify_permission(
        self, client, settings
    ):
        use_database_tasks(settings)
        waiting = installed("re-verify-me")
        gone = installed("uninstalled", state=State.UNINSTALLED)
        data = {"action": "reverify", "_selected_action": [waiting.pk, gone.pk]}
        client.force_login(make_staff(permissions=("malls.view_makeshopappinstallation",)))
        client.post(INSTALLATIONS, data)
        assert not DBTaskResult.objects.exists()

        client.force_login(make_staff(permissions=VIEWER))
        client.post(INSTALLATIONS, data)

        assert [job.args_kwargs["args"] for job in DBTaskResult.objects.all()] == [
            [str(waiting.pk)]
        ]


class TestNoTokenInAnyPage:
    def test_the_token_appears_on_no_admin_page(self, client, settings):
        use_database_tasks(settings)
        client.force_login(make_staff(permissions=(), is_superuser=True))
        connection = make_connection(makeshop_shop_id="canary-shop")
        linked = installed("canary-shop", state=State.VERIFIED, connection=connection)
        waiting = installed("canary-waiting", token=TOKEN + "-2")
        unnamed = without_shop_id()
        client.post(assign_url(waiting), {"connection": unnamed.pk})
        client.post(INSTALLATIONS, {"action": "reverify",
                                    "_selected_action": [linked.pk, waiting.pk]})
        job = DBTaskResult.objects.first()
        receipt = receipts.record(kind=receipts.Kind.INSTALL, installation=linked,
                                  shop_id="canary-shop", shape={"token": "str:26"})
        pending = installed("canary-shop", token=TOKEN + "-pending")  # beside the verified one
        assert pending.pending_since is not None
        pages = [
            INSTALLATIONS,
            INSTALLATIONS + "?q=canary",
            change_url(linked),
            change_url(waiting),
            assign_url(installed("canary-third", token=TOKEN + "-3")),
            unassign_url(linked),
            reverse("admin:malls_makeshopappinstallation_history", args=[linked.pk]),
            CONNECTIONS,
            CONNECTIONS + "?api=app",
            reverse("admin:malls_makeshopconnection_change", args=[connection.pk]),
            reverse("admin:malls_makeshopconnection_change", args=[unnamed.pk]),
            reverse("admin:malls_changerecord_changelist"),
            reverse("admin:malls_appwebhookreceipt_changelist"),
            reverse("admin:malls_appwebhookreceipt_change", args=[receipt.pk]),
            reverse("admin:django_tasks_database_dbtaskresult_changelist"),
            reverse("admin:django_tasks_database_dbtaskresult_change", args=[job.pk]),
            reverse("admin:index"),
        ]

        responses = [client.get(url) for url in pages]

        assert [r.status_code for r in responses] == [200] * len(responses)
        for response in responses:
            assert TOKEN not in response.text, response.request["PATH_INFO"]


class TestWebhookReceipts:
    def test_receipts_need_the_installation_view_permission(self, client):
        receipt = receipts.record(kind=receipts.Kind.ORDERS, recognised=False,
                                  shape={"mystery": "str:3"})
        listing = reverse("admin:malls_appwebhookreceipt_changelist")
        page = reverse("admin:malls_appwebhookreceipt_change", args=[receipt.pk])

        client.force_login(make_staff())
        assert [client.get(url).status_code for url in (listing, page)] == [403, 403]

        client.force_login(make_staff(permissions=VIEWER))
        assert [client.get(url).status_code for url in (listing, page)] == [200, 200]
        assert "mystery" in client.get(page).text

    def test_the_assign_page_shows_when_makeshop_accepted_each_candidates_codes(self, client):
        waiting = installed("demo-shop")
        squatter = make_connection(makeshop_shop_id="demo-shop")
        owner = make_connection(makeshop_shop_id="DEMO-SHOP",
                                order_auth_code_verified_at=timezone.now())
        client.force_login(make_staff(permissions=ASSIGNER))

        html = client.get(assign_url(waiting)).text

        assert html.index(str(owner.pk)) < html.index(str(squatter.pk))
        assert "受付なし" in html
