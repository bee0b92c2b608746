"""The admin index shows every mall's overview the staff user may see, in the malls'
order; Rakuten's counts shops by state and keys expiring within 14 days, each number
linking to the Rakuten list filtered to exactly the shops it counts."""

from datetime import UTC, date, datetime, timedelta

import pytest
import time_machine
from django.urls import reverse

from malls.rakuten import overview
from malls.rakuten.models import RakutenConnection
from tests.admin_factories import make_staff
from tests.factories import make_connection, make_shop

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 12, 5, 3, 0, tzinfo=UTC)  # 12:00 in Japan
TODAY = date(2026, 12, 5)
INDEX = reverse("admin:index")
BOTH = ["malls.view_makeshopconnection", "rakuten.view_rakutenconnection"]


def rakuten(status="verified", expires_in=None, **extra):
    return RakutenConnection.objects.create(
        shop=make_shop(mall_code="rakuten"), status=status,
        expires_on=None if expires_in is None else TODAY + timedelta(days=expires_in),
        **extra,
    )


@pytest.fixture
def shops():
    make_connection()  # a MakeShop shop
    rakuten(expires_in=80)
    rakuten(expires_in=14)  # the last day inside the window
    rakuten(expires_in=0)  # expires today
    rakuten(expires_in=15)
    rakuten("rejected", expires_in=-3, failure_reason="expired")
    rakuten("pending_activation")


@pytest.fixture(autouse=True)
def frozen():
    with time_machine.travel(NOW, tick=False):
        yield


def test_staff_see_every_malls_overview_in_the_malls_order(client, shops):
    client.force_login(make_staff(permissions=BOTH))

    html = client.get(INDEX).text

    makeshop_at = html.index('id="goq-overview-title"')
    rakuten_at = html.index('id="goq-rakuten-overview-title"')
    assert makeshop_at < rakuten_at
    section = html[rakuten_at:]
    assert "楽天API連携" in section and "全6ショップ" in section
    assert "14日以内に期限切れ" in section
    expiring = overview.changelist_url({"expiry": "expiring"}).replace("&", "&amp;")
    assert f'href="{expiring}">2</a>' in section


def test_each_rakuten_figure_links_to_exactly_its_shops(client, shops):
    client.force_login(make_staff(permissions=BOTH))
    summary = overview.build_overview()

    figures = {f.key: f.count for f in [*summary.by_status, *summary.expiry]}
    assert figures == {
        "unset": 0, "pending_activation": 1, "verified": 4, "rejected": 1, "unreachable": 0,
        "unverified": 0, "expiring": 2, "expired": 1,
    }
    for figure in [*summary.by_status, *summary.expiry]:
        response = client.get(figure.url)
        assert response.status_code == 200, figure
        assert response.context["cl"].result_count == figure.count, figure


def test_the_rakuten_overview_costs_one_query_however_many_shops(
    shops, django_assert_num_queries
):
    with django_assert_num_queries(overview.QUERIES):
        overview.build_overview()
    for days in range(20):
        rakuten(expires_in=days)
    with django_assert_num_queries(overview.QUERIES):
        assert overview.build_overview().total == 26


def test_staff_see_only_the_overviews_of_the_shops_they_may_view(client, shops):
    client.force_login(make_staff(permissions=["rakuten.view_rakutenconnection"]))
    html = client.get(INDEX).text
    assert 'id="goq-rakuten-overview-title"' in html
    assert 'id="goq-overview-title"' not in html

    client.force_login(make_staff(permissions=["malls.view_changerecord"]))
    html = client.get(INDEX).text
    assert "goq-rakuten-overview-title" not in html and "goq-overview-title" not in html
