"""Staff see how many shops MakeShop's answers point at: a retired API, another [SHOPID]."""

import pytest
from django.urls import reverse
from django.utils import timezone, translation

from malls.makeshop import Reason
from malls.makeshop.models import MakeShopConnection, NotificationEvent
from tests.admin_factories import make_staff
from tests.factories import make_connection

pytestmark = pytest.mark.django_db

CHANGELIST = reverse("admin:malls_makeshopconnection_changelist")
Status = MakeShopConnection.Status


def notification(connection, received_shop_id=""):
    NotificationEvent.objects.create(
        connection=connection, kind="new_order", order_number="1", received_at=timezone.now(),
        dedup_window=0, received_shop_id=received_shop_id,
    )


@pytest.fixture
def shops():
    retired = [
        make_connection(makeshop_shop_id=f"gone-{n}", status=Status.UNVERIFIED,
                        failed_check="order_auth_code", failure_reason=Reason.LEGACY_API_RETIRED)
        for n in range(2)
    ]
    other = make_connection(makeshop_shop_id="renamed", status=Status.VERIFIED)
    notification(other, received_shop_id="12345")
    fine = make_connection(makeshop_shop_id="fine", status=Status.VERIFIED)
    notification(fine)
    return retired, other, fine


def test_the_filter_counts_and_lists_the_shops(client, shops):
    retired, other, fine = shops
    client.force_login(make_staff())

    with translation.override("en"):
        page = client.get(CHANGELIST, HTTP_ACCEPT_LANGUAGE="en").content.decode()
        listed = client.get(CHANGELIST, {"evidence": "legacy_api_retired"}).context["cl"]
        flagged = client.get(CHANGELIST, {"evidence": "other_shop_id"}).context["cl"]

    assert "Legacy API did not answer as an API (2 shops)" in page
    assert "Notifications name another shop ID (1 shops)" in page
    assert {row.pk for row in listed.result_list} == {c.pk for c in retired}
    assert [row.pk for row in flagged.result_list] == [other.pk]


def test_the_filter_speaks_japanese(client, shops):
    client.force_login(make_staff())

    page = client.get(CHANGELIST, HTTP_ACCEPT_LANGUAGE="ja").content.decode()

    assert "従来APIがAPIとして応答しない（2ショップ）" in page
