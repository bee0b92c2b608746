"""Stores, their members and shops in the admin (malls/admin/shops.py)."""

import pytest
from django.urls import reverse

from malls.models import MallShop

from ..admin_factories import make_staff
from ..factories import make_shop, make_store, make_user

Application = MallShop.ApplicationStatus
pytestmark = pytest.mark.django_db


@pytest.fixture
def staff_client(client):
    client.force_login(make_staff())
    return client


def test_the_application_of_a_shop_cannot_be_edited_on_the_shop_form(staff_client):
    shop = make_shop()
    url = reverse("admin:malls_mallshop_change", args=[shop.pk])

    staff_client.post(url, {
        "store": shop.store_id, "mall": shop.mall_id, "name": shop.name,
        "application_status": "approved", "order_retrieval": "api",
    })

    shop.refresh_from_db()
    assert shop.application_status == Application.NOT_APPLIED
    assert shop.order_retrieval == MallShop.OrderRetrieval.CSV



def test_the_store_page_names_its_members_column_in_japanese(client):
    client.force_login(make_staff(permissions=(), is_superuser=True))
    member = make_user(username="member-sato")
    store = make_store(members=[member])

    html = client.get(reverse("admin:malls_store_change", args=[store.pk])).text

    assert "member-sato" in html
    assert '<th class="column-user required">ユーザー' in html
