"""Staff's Rakuten pages: state, expiry, filters; no key anywhere in them."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from malls.rakuten.connections import Status, japan_today
from malls.rakuten.models import RakutenConnection
from tests.admin_factories import make_staff
from tests.factories import make_shop

pytestmark = pytest.mark.django_db

SECRET = "SP424242_AdminCanarySecret"
KEY = "SL424242_AdminCanaryLicense"


def connection(shop_url, expires_in_days, status=Status.VERIFIED):
    today = japan_today(timezone.now())
    return RakutenConnection.objects.create(
        shop=make_shop(mall_code="rakuten"), shop_url=shop_url, service_secret=SECRET,
        license_key=KEY, status=status,
        expires_on=None if expires_in_days is None else today + timedelta(days=expires_in_days),
    )


@pytest.fixture
def staff_client(client):
    client.force_login(make_staff(
        permissions=("rakuten.view_rakutenconnection",), is_superuser=False
    ))
    return client


def test_the_list_filters_by_expiry_and_shows_no_key(staff_client):
    connection("shop-far", 60)
    connection("shop-soon", 3)
    connection("shop-gone", -2, Status.REJECTED)
    connection("shop-new", None, Status.PENDING_ACTIVATION)
    url = reverse("admin:rakuten_rakutenconnection_changelist")

    def listed(**query):
        page = staff_client.get(url, query)
        assert page.status_code == 200
        text = page.content.decode()
        assert SECRET not in text and KEY not in text
        return {name for name in ("shop-far", "shop-soon", "shop-gone", "shop-new") if name in text}

    assert listed() == {"shop-far", "shop-soon", "shop-gone", "shop-new"}
    assert listed(expiry="expiring") == {"shop-soon"}
    assert listed(expiry="expired") == {"shop-gone"}
    assert listed(expiry="unknown") == {"shop-new"}
    assert listed(status__exact="pending_activation") == {"shop-new"}


def test_the_detail_shows_the_keys_as_saved_with_their_last_4_only(staff_client):
    row = connection("shop-soon", 3)
    page = staff_client.get(reverse("admin:rakuten_rakutenconnection_change", args=[row.pk]))
    text = page.content.decode()
    assert page.status_code == 200
    assert "cret" in text and "ense" in text  # the last 4 of each
    assert SECRET not in text and KEY not in text
