"""出店中のモール一覧: what the list tells a merchant about each shop, and at what cost."""

from datetime import UTC, datetime

import pytest
from django.urls import reverse

from malls.makeshop.models import MakeShopConnection
from malls.makeshop.verdicts import check_label
from malls.models import MallShop

from ..factories import make_connection, make_shop, make_store
from ..screens_factories import make_member

Status = MakeShopConnection.Status
LIST_URL = reverse("malls:mall_list")


@pytest.fixture
def store(client):
    user, (store,) = make_member()
    client.force_login(user)
    return store


@pytest.mark.django_db
def test_each_shop_shows_mall_name_shop_id_status_application_and_notification(client, store):
    make_connection(
        shop=make_shop(
            store=store, name="本店", application_status=MallShop.ApplicationStatus.APPLIED
        ),
        makeshop_shop_id="honten",
        status=Status.VERIFIED,
        verified_at=datetime(2026, 11, 28, 3, 4, tzinfo=UTC),
    )

    html = client.get(LIST_URL).text

    assert "本店" in html and "honten" in html and "MakeShop" in html
    assert "出店中のモール一覧" in html  # Japanese by default
    assert "接続確認済み" in html
    assert "2026-11-28 12:04" in html  # shown in Asia/Tokyo
    assert "MakeShopへ申請済み" in html
    assert "未受信" in html
    assert reverse("malls:makeshop_settings", args=[store.shops.get().pk]) in html


@pytest.mark.django_db
def test_the_list_is_complete_in_english(client, store):
    make_connection(
        shop=make_shop(store=store, name="Main shop"),
        status=Status.VERIFIED,
        verified_at=datetime(2026, 11, 28, 3, 4, tzinfo=UTC),
    )
    make_shop(store=store, name="Yahoo shop", mall_code="yahoo")  # no provider (yet)

    html = client.get(LIST_URL, headers={"accept-language": "en"}).text

    for text in [
        "Mall settings", "Connected malls", "Verified", "Not applied",
        "Not received yet", "Add a MakeShop shop", "2026-11-28 12:04",
        "Not set up on this screen",
    ]:
        assert text in html, text


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("status", "check", "reason", "advice"),
    [
        (Status.REJECTED, "order_auth_code", "token_rejected", "変更 was pressed"),
        (Status.REJECTED, "order_auth_code", "not_enabled", "about a week"),
        (Status.REJECTED, "password", "login_refused", "sub-administrator"),
        (Status.UNVERIFIED, "order_auth_code", "timeout", "could not be reached"),
        (Status.UNVERIFIED, "order_auth_code", "maintenance", "under maintenance"),
    ],
)
def test_a_failing_shop_says_which_code_and_what_to_do(
    client, store, status, check, reason, advice
):
    make_connection(
        shop=make_shop(store=store),
        status=status,
        failed_check=check,
        failure_reason=reason,
        failing_since=datetime(2026, 11, 27, 15, 0, tzinfo=UTC),
        last_checked_at=datetime(2026, 11, 27, 15, 0, tzinfo=UTC),
    )

    html = client.get(LIST_URL, headers={"accept-language": "en"}).text

    assert advice in html
    assert check_label(check) in html
    assert "2026-11-28 00:00" in html


@pytest.mark.django_db
def test_a_shop_without_settings_is_shown_as_not_configured(client, store):
    make_shop(store=store, name="これから")

    html = client.get(LIST_URL, headers={"accept-language": "en"}).text

    assert "これから" in html and "Not configured" in html


@pytest.mark.django_db
def test_the_last_notification_is_shown_when_one_was_received(client, store):
    make_connection(
        shop=make_shop(store=store),
        last_notification_at=datetime(2026, 11, 28, 1, 30, tzinfo=UTC),
        last_notification_kind="new_order",
    )

    html = client.get(LIST_URL, headers={"accept-language": "en"}).text

    assert "2026-11-28 10:30" in html and "New order" in html


@pytest.mark.django_db
def test_the_list_runs_the_same_queries_for_one_shop_as_for_thirty(
    client, store, django_assert_num_queries
):
    def add_shops(count):
        for _ in range(count):
            make_connection(shop=make_shop(store=store), status=Status.VERIFIED)
        make_shop(store=store, mall_code="rakuten")

    add_shops(1)
    client.get(LIST_URL)  # the session and the user are loaded the same way every time
    # session, user, stores, shops, then one query per mall with shops (MakeShop's and
    # Rakuten's here)
    with django_assert_num_queries(6):
        client.get(LIST_URL)

    add_shops(29)
    with django_assert_num_queries(6) as captured:
        response = client.get(LIST_URL)
    assert response.text.count('class="status status--ok"') == 30, captured


@pytest.mark.django_db
def test_a_member_of_two_stores_switches_between_them(client):
    user, (first, second) = make_member(stores=2)
    make_shop(store=first, name="一号店")
    make_shop(store=second, name="二号店")
    client.force_login(user)

    assert "一号店" in client.get(LIST_URL).text  # the first store until another is chosen

    response = client.post(
        reverse("malls:switch_store"), {"store": second.pk, "next": LIST_URL}
    )

    assert response["Location"] == LIST_URL
    html = client.get(LIST_URL).text
    assert "二号店" in html and "一号店" not in html


@pytest.mark.django_db
def test_switching_store_never_redirects_off_site(client):
    user, (_, second) = make_member(stores=2)
    client.force_login(user)

    response = client.post(
        reverse("malls:switch_store"), {"store": second.pk, "next": "https://evil.example/"}
    )

    assert response["Location"] == LIST_URL


@pytest.mark.django_db
def test_a_shop_of_the_users_other_store_opens_and_the_switch_is_offered_not_made(client):
    """A GET changes nothing: the shop's page opens in its own store, the session's
    current store stays, and the page offers the switch as a POST."""
    user, (first, second) = make_member(stores=2)
    make_shop(store=first, name="一号店")
    shop = make_shop(store=second, name="二号店")
    client.force_login(user)
    url = reverse("malls:makeshop_settings", args=[shop.pk])

    response = client.get(url)

    assert response.status_code == 200
    assert f'name="store" value="{second.pk}"' in response.text
    html = client.get(LIST_URL).text
    assert "一号店" in html and "二号店" not in html

    client.post(reverse("malls:switch_store"), {"store": second.pk, "next": url})

    assert "二号店" in client.get(LIST_URL).text
    assert f'name="store" value="{second.pk}"' not in client.get(url).text.split("<main")[1]


@pytest.mark.django_db
def test_a_single_store_user_sees_no_switcher(client, store):
    html = client.get(LIST_URL).text

    assert 'id="store-switcher"' not in html and store.name in html


@pytest.mark.django_db
def test_only_the_users_stores_are_offered_in_the_switcher(client):
    user, (first, second) = make_member(stores=2)
    stranger = make_store(name="よその店")
    client.force_login(user)

    html = client.get(LIST_URL).text

    assert first.name in html and second.name in html and stranger.name not in html


@pytest.mark.django_db
def test_what_merchants_and_makeshop_wrote_is_escaped(client, store):
    make_connection(
        shop=make_shop(store=store, name='<script>alert("name")</script>'),
        status=Status.REJECTED,
        failed_check="order_auth_code",
        failure_reason='<img src=x onerror="reason">',
    )

    html = client.get(LIST_URL).text

    assert "<script>alert" not in html and "<img src=x" not in html
    assert "&lt;script&gt;alert(&quot;name&quot;)&lt;/script&gt;" in html
