"""Who may open the merchant screens: signed-in members, and only their own store's shops."""

import pytest
from django.test import Client
from django.urls import reverse

from malls.makeshop.models import MakeShopConnection
from malls.models import Mall

from ..factories import make_connection, make_shop, make_store, make_user
from ..screens_factories import make_member

SHOP_URLS = [
    "malls:makeshop_settings", "malls:makeshop_guide", "malls:makeshop_new_notification_url",
]
STORE_URLS = ["malls:settings", "malls:mall_list", "malls:makeshop_add"]


@pytest.fixture
def member(client):
    user, (store,) = make_member()
    client.force_login(user)
    return user, store


@pytest.fixture
def other_shop():
    """A MakeShop shop, with saved settings, of a store the signed-in user is not in."""
    return make_connection(shop=make_shop(store=make_store())).shop


@pytest.mark.django_db
@pytest.mark.parametrize("name", STORE_URLS)
def test_every_page_asks_an_anonymous_visitor_to_sign_in(client, name):
    url = reverse(name)

    response = client.get(url)

    assert response.status_code == 302
    assert response["Location"] == f"{reverse('login')}?next={url}"


@pytest.mark.django_db
@pytest.mark.parametrize("name", SHOP_URLS)
def test_shop_pages_ask_an_anonymous_visitor_to_sign_in(client, name):
    shop = make_connection().shop

    response = client.get(reverse(name, args=[shop.pk]))

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


@pytest.mark.django_db
@pytest.mark.parametrize("name", SHOP_URLS)
@pytest.mark.parametrize("method", ["get", "post"])
def test_another_stores_shop_is_not_found(client, member, other_shop, name, method):
    url = reverse(name, args=[other_shop.pk])

    response = getattr(client, method)(url, {"shop_id": "stolen", "password": "x"})

    assert response.status_code == 404
    connection = MakeShopConnection.objects.get(shop=other_shop)
    assert connection.makeshop_shop_id != "stolen" and connection.version == 1


@pytest.mark.django_db
@pytest.mark.parametrize("name", SHOP_URLS)
def test_a_shop_that_does_not_exist_is_not_found(client, member, name):
    assert client.get(reverse(name, args=[999_999])).status_code == 404


@pytest.mark.django_db
def test_switching_to_another_users_store_is_not_found(client, member, other_shop):
    response = client.post(reverse("malls:switch_store"), {"store": other_shop.store.pk})

    assert response.status_code == 404
    assert other_shop.name not in client.get(reverse("malls:mall_list")).text


@pytest.mark.django_db
def test_the_list_never_shows_another_stores_shops(client, member, other_shop):
    response = client.get(reverse("malls:mall_list"))

    assert other_shop.name not in response.text
    assert other_shop.makeshop.makeshop_shop_id not in response.text


@pytest.mark.django_db
def test_only_makeshop_shops_have_a_makeshop_settings_page(client, member):
    _, store = member
    rakuten = make_shop(store=store, mall_code="rakuten")

    response = client.get(reverse("malls:makeshop_settings", args=[rakuten.pk]))

    assert response.status_code == 404


@pytest.mark.django_db
def test_adding_a_shop_adds_it_to_the_current_store_only(client, member):
    _, store = member

    response = client.post(reverse("malls:makeshop_add"), {"name": "新しいショップ"})

    shop = store.shops.get()
    assert shop.name == "新しいショップ" and shop.mall.code == Mall.MAKESHOP
    assert response["Location"] == reverse("malls:makeshop_settings", args=[shop.pk])


@pytest.mark.django_db
def test_a_user_without_a_store_is_told_so(client):
    client.force_login(make_user())

    response = client.get(reverse("malls:mall_list"))

    assert response.status_code == 403
    assert "店舗" in response.text


@pytest.mark.django_db
@pytest.mark.parametrize("name", ["malls:settings", "malls:mall_list", "malls:makeshop_add"])
def test_store_pages_are_never_cached(client, member, name):
    response = client.get(reverse(name))

    assert "no-store" in response["Cache-Control"]


@pytest.mark.django_db
@pytest.mark.parametrize("name", ["malls:makeshop_settings", "malls:makeshop_guide"])
def test_shop_pages_are_never_cached(client, member, name):
    _, store = member
    shop = make_connection(shop=make_shop(store=store)).shop

    response = client.get(reverse(name, args=[shop.pk]))

    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]


@pytest.mark.django_db
def test_forms_refuse_a_post_without_the_csrf_token(member):
    user, store = member
    shop = make_connection(shop=make_shop(store=store)).shop
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(user)

    for url, data in [
        (reverse("malls:makeshop_settings", args=[shop.pk]), {"shop_id": "x"}),
        (reverse("malls:makeshop_add"), {"name": "x"}),
        (reverse("malls:switch_store"), {"store": store.pk}),
        (reverse("logout"), {}),
    ]:
        assert browser.post(url, data).status_code == 403, url


@pytest.mark.django_db
def test_every_form_on_the_pages_carries_a_csrf_token(client, member):
    _, store = member
    shop = make_connection(shop=make_shop(store=store)).shop

    for url in [
        reverse("malls:mall_list"),
        reverse("malls:makeshop_add"),
        reverse("malls:makeshop_settings", args=[shop.pk]),
    ]:
        html = client.get(url).text
        assert html.count("<form") == html.count('name="csrfmiddlewaretoken"'), url


@pytest.mark.django_db
def test_the_settings_view_hides_the_secrets_from_error_reports(client, member):
    _, store = member
    shop = make_shop(store=store)

    response = client.post(
        reverse("malls:makeshop_settings", args=[shop.pk]), {"shop_id": "bad id!"}
    )

    assert set(response.wsgi_request.sensitive_post_parameters) == {
        "password", "order_auth_code", "product_auth_code"
    }


@pytest.mark.django_db
def test_sign_in_and_sign_out(client):
    user = make_user(password="pass-for-tests-2026")
    make_store(members=[user])

    response = client.post(
        reverse("login"), {"username": user.username, "password": "pass-for-tests-2026"}
    )
    assert response["Location"] == reverse("malls:settings")
    assert client.get(reverse("malls:settings")).status_code == 200

    response = client.post(reverse("logout"))
    assert response["Location"] == reverse("login")
    assert client.get(reverse("malls:settings")).status_code == 302


@pytest.mark.django_db
def test_the_sign_in_page_explains_a_refused_sign_in(client):
    response = client.post(reverse("login"), {"username": "nobody", "password": "wrong"})

    assert response.status_code == 200
    assert 'class="error-summary"' in response.text
