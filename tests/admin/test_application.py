"""The API-use application workflow in the admin: confirmation first, only valid steps,
every step recorded, and crafted requests refused shop by shop."""

import pytest
from django.contrib.messages import get_messages
from django.urls import reverse

from malls.models import ChangeRecord, MallShop

from ..admin_factories import make_staff
from ..factories import make_connection, make_shop

Application = MallShop.ApplicationStatus
Retrieval = MallShop.OrderRetrieval
pytestmark = pytest.mark.django_db

CHANGELIST = reverse("admin:malls_makeshopconnection_changelist")

# Every (state, step) pair and where it leads; None: the step does not apply.
MOVES = {
    (Application.NOT_APPLIED, "mark_applied"): Application.APPLIED,
    (Application.NOT_APPLIED, "mark_approved"): None,
    (Application.NOT_APPLIED, "withdraw"): None,
    (Application.APPLIED, "mark_applied"): None,
    (Application.APPLIED, "mark_approved"): Application.APPROVED,
    (Application.APPLIED, "withdraw"): Application.WITHDRAWN,
    (Application.APPROVED, "mark_applied"): None,
    (Application.APPROVED, "mark_approved"): None,
    (Application.APPROVED, "withdraw"): Application.WITHDRAWN,
    (Application.WITHDRAWN, "mark_applied"): Application.APPLIED,
    (Application.WITHDRAWN, "mark_approved"): None,
    (Application.WITHDRAWN, "withdraw"): None,
}


def connection_in(state, **extra):
    retrieval = Retrieval.API if state == Application.APPROVED else Retrieval.CSV
    shop = make_shop(application_status=state, order_retrieval=retrieval)
    return make_connection(shop=shop, **extra)


def errors_of(response):
    return [
        str(message) for message in get_messages(response.wsgi_request)
        if message.level_tag == "error"
    ]


@pytest.fixture
def staff(client):
    user = make_staff()
    client.force_login(user)
    return user


@pytest.mark.parametrize(("state", "step"), list(MOVES))
def test_each_step_from_each_state_through_the_list_actions(client, staff, state, step):
    connection = connection_in(state)
    data = {"action": step, "_selected_action": [connection.pk]}

    first = client.post(CHANGELIST, data)
    confirmed = client.post(CHANGELIST, {**data, "confirm": "yes"})

    shop = MallShop.objects.get(pk=connection.shop_id)
    target = MOVES[state, step]
    if target is None:
        # Not offered: no confirmation page, a warning instead; a forced confirm is refused.
        assert first.status_code == 302
        assert shop.application_status == state
        assert not ChangeRecord.objects.exists()
        assert [connection.makeshop_shop_id in error for error in errors_of(confirmed)] == [True]
    else:
        assert first.status_code == 200
        assert "admin/malls/application_confirmation.html" in [t.name for t in first.templates]
        assert shop.application_status == target
        record = ChangeRecord.objects.get()
        assert (record.actor, record.source, record.action) == (
            staff, ChangeRecord.Source.ADMIN, f"application.{step}"
        )
        assert record.changes["application_status"] == [state, target]


def test_the_confirmation_page_changes_nothing_by_itself(client, staff):
    connection = connection_in(Application.APPLIED)

    response = client.post(CHANGELIST, {"action": "mark_approved",
                                        "_selected_action": [connection.pk]})

    assert response.status_code == 200
    assert MallShop.objects.get(pk=connection.shop_id).application_status == Application.APPLIED
    assert not ChangeRecord.objects.exists()


def test_approval_switches_order_retrieval_to_api_and_withdrawal_back_to_csv(client, staff):
    connection = connection_in(Application.APPLIED)
    for step, retrieval in (("mark_approved", Retrieval.API), ("withdraw", Retrieval.CSV)):
        client.post(CHANGELIST, {"action": step, "_selected_action": [connection.pk],
                                 "confirm": "yes"})
        assert MallShop.objects.get(pk=connection.shop_id).order_retrieval == retrieval


def test_a_mixed_selection_confirms_only_the_shops_that_can_move(client, staff):
    movable = connection_in(Application.APPLIED, makeshop_shop_id="can-move")
    stuck = connection_in(Application.NOT_APPLIED, makeshop_shop_id="cannot-move")

    response = client.post(CHANGELIST, {"action": "mark_approved",
                                        "_selected_action": [movable.pk, stuck.pk]})

    assert [c.pk for c in response.context["movable"]] == [movable.pk]
    assert [c.pk for c in response.context["blocked"]] == [stuck.pk]
    # Only the movable shop is posted back on confirmation.
    assert response.text.count('name="_selected_action"') == 1
    assert f'value="{movable.pk}"' in response.text


def test_a_crafted_confirmation_is_refused_shop_by_shop(client, staff):
    good = connection_in(Application.APPLIED, makeshop_shop_id="good")
    skipped_1 = connection_in(Application.NOT_APPLIED, makeshop_shop_id="skip-one")
    skipped_2 = connection_in(Application.WITHDRAWN, makeshop_shop_id="skip-two")

    response = client.post(CHANGELIST, {
        "action": "mark_approved", "confirm": "yes",
        "_selected_action": [good.pk, skipped_1.pk, skipped_2.pk],
    })

    statuses = dict(MallShop.objects.values_list("pk", "application_status"))
    assert statuses == {
        good.shop_id: Application.APPROVED,
        skipped_1.shop_id: Application.NOT_APPLIED,
        skipped_2.shop_id: Application.WITHDRAWN,
    }
    assert ChangeRecord.objects.count() == 1
    errors = errors_of(response)
    assert len(errors) == 2
    assert "skip-one" in errors[0] and "skip-two" in errors[1]


def test_a_step_made_stale_by_someone_else_is_refused_at_confirmation(client, staff):
    connection = connection_in(Application.APPLIED)
    data = {"action": "mark_approved", "_selected_action": [connection.pk]}
    client.post(CHANGELIST, data)  # the page is shown...
    MallShop.objects.filter(pk=connection.shop_id).update(
        application_status=Application.WITHDRAWN  # ...and meanwhile someone withdrew it
    )

    client.post(CHANGELIST, {**data, "confirm": "yes"})

    assert MallShop.objects.get(pk=connection.shop_id).application_status == Application.WITHDRAWN


class TestOneShopPage:
    def url(self, connection, step):
        return reverse(
            "admin:malls_makeshopconnection_application", args=[connection.pk, step]
        )

    def test_the_change_page_offers_only_the_steps_the_state_allows(self, client, staff):
        connection = connection_in(Application.APPLIED)

        html = client.get(reverse("admin:malls_makeshopconnection_change",
                                  args=[connection.pk])).text

        assert self.url(connection, "mark_approved") in html
        assert self.url(connection, "withdraw") in html
        assert self.url(connection, "mark_applied") not in html

    def test_get_confirms_and_post_moves(self, client, staff):
        connection = connection_in(Application.NOT_APPLIED)

        page = client.get(self.url(connection, "mark_applied"))
        moved = client.post(self.url(connection, "mark_applied"))

        assert page.status_code == 200
        assert moved.status_code == 302
        assert MallShop.objects.get(pk=connection.shop_id).application_status == (
            Application.APPLIED
        )

    def test_a_step_the_state_does_not_allow_is_refused(self, client, staff):
        connection = connection_in(Application.NOT_APPLIED)

        shown = client.get(self.url(connection, "mark_approved"))
        forced = client.post(self.url(connection, "mark_approved"))

        assert shown.status_code == forced.status_code == 302
        assert MallShop.objects.get(pk=connection.shop_id).application_status == (
            Application.NOT_APPLIED
        )
        assert not ChangeRecord.objects.exists()

    def test_an_unknown_step_is_refused(self, client, staff):
        connection = connection_in(Application.NOT_APPLIED)
        assert client.post(self.url(connection, "approve_everything")).status_code == 403
