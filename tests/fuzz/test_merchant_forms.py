"""Fuzzing the small merchant forms: sign-in, adding a MakeShop shop, the store switcher."""

import pytest
from axes.models import AccessAttempt
from django.test import Client
from django.urls import reverse
from hypothesis import strategies as st

from malls.models import ChangeRecord, MallShop
from tests.factories import get_mall, make_store
from tests.screens_factories import make_member

from .support import (
    EXAMPLE_COUNTS,
    assert_local_redirect,
    assert_no_server_error,
    assert_unchanged,
    database_state,
    form_posts,
    fuzz,
    send_form,
)

pytestmark = pytest.mark.django_db

PASSWORD = "pass-for-tests-2026"


@pytest.mark.parametrize("examples", EXAMPLE_COUNTS)
def test_sign_in_form(examples):
    """Any sign-in POST is answered without a server error; only a real sign-in
    changes stored data, and it never redirects off the site."""
    user, _stores = make_member(username="merchant", password=PASSWORD)
    posts = form_posts(
        {
            "username": st.sampled_from(["merchant", "MERCHANT", " merchant"]),
            "password": st.just(PASSWORD),
            "next": st.sampled_from(["/settings/malls/", "//evil.example/", "x"]),
        }
    )

    def check(post):
        data, encoding = post
        AccessAttempt.objects.all().delete()  # so lockout does not hide the other paths
        before = database_state()
        response = send_form(Client(), reverse("login"), data, encoding)
        assert_no_server_error(response)
        if response.status_code == 302:
            assert_local_redirect(response)
            assert response.wsgi_request.user == user
        else:
            assert_unchanged(before, database_state(), "a sign-in was refused")

    fuzz(posts, check, examples=examples)


@pytest.mark.parametrize("examples", EXAMPLE_COUNTS)
def test_add_shop_form(client, examples):
    """Adding a shop either creates exactly that one shop or changes nothing."""
    user, (store,) = make_member()
    get_mall()
    client.force_login(user)
    posts = form_posts({"name": st.just("MakeShop 本店")})

    def check(post):
        data, encoding = post
        before = database_state()
        response = send_form(client, reverse("malls:makeshop_add"), data, encoding)
        assert_no_server_error(response)
        if response.status_code == 302:
            shop = MallShop.objects.get(store=store)
            assert response["Location"] == reverse("malls:makeshop_settings", args=[shop.pk])
            # Exactly one history entry, which outlives the shop: removed by hand here.
            ChangeRecord.objects.get(shop=shop, action="shop.created").delete()
            shop.delete()  # back to the state before, for the next example
            assert_unchanged(before, database_state(), "one shop was added")
        else:
            assert_unchanged(before, database_state(), "adding a shop was refused")

    fuzz(posts, check, examples=examples)


@pytest.mark.parametrize("examples", EXAMPLE_COUNTS)
def test_store_switcher(client, examples):
    """Switching store only ever touches the session, and never redirects off the site."""
    user, stores = make_member(stores=2)
    foreign = make_store()
    client.force_login(user)
    store_ids = st.sampled_from([str(store.pk) for store in (*stores, foreign)])
    posts = form_posts(
        {
            "store": store_ids,
            "next": st.sampled_from(
                ["/settings/malls/", "/settings/", "//evil.example/", "https://evil.example/"]
            ),
        }
    )

    def check(post):
        data, encoding = post
        before = database_state()
        response = send_form(client, reverse("malls:switch_store"), data, encoding)
        assert_no_server_error(response)
        if response.status_code == 302:
            assert_local_redirect(response)
        assert_unchanged(before, database_state(), "the switcher only redirects")

    fuzz(posts, check, examples=examples)
