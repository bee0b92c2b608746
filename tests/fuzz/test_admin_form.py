"""Fuzzing the staff admin's add and change forms for MakeShop connections.

The admin saves without calling MakeShop (a check is queued on commit, which a
test's transaction never reaches), so an ordinary test database will do.
"""

import pytest
from django.urls import reverse
from hypothesis import event
from hypothesis import strategies as st

from malls.makeshop.models import MakeShopConnection
from tests.factories import make_connection, make_shop, make_user

from .support import (
    EXAMPLE_COUNTS,
    assert_no_server_error,
    assert_unchanged,
    database_state,
    form_posts,
    fuzz,
    send_form,
    weighted,
)

pytestmark = pytest.mark.django_db

CURRENT_VERSION = "<current version>"


def secrets():
    return weighted((1, st.just("")), (3, st.from_regex(r"[0-9a-f]{32}", fullmatch=True)))


def admin_posts(shop_choices: list[str]):
    """(page, (data, encoding)): the add page or the change page of a saved connection."""
    fields = {
        "makeshop_shop_id": st.one_of(
            st.sampled_from(["fuzz-saved", "fuzz-other"]),
            st.from_regex(r"[A-Za-z0-9][A-Za-z0-9_-]{1,63}", fullmatch=True),
        ),
        "new_password": secrets(),
        "new_order_auth_code": secrets(),
        "new_product_auth_code": secrets(),
        "expected_version": weighted((3, st.just(CURRENT_VERSION)), (1, st.integers().map(str))),
        "shop": st.sampled_from(shop_choices),
        "_save": st.just("Save"),
    }
    return st.tuples(st.sampled_from(["add", "change"]), form_posts(fields))


@pytest.mark.parametrize("examples", EXAMPLE_COUNTS)
def test_makeshop_connection_admin_form(client, examples):
    """Any POST is answered without a server error; unless the admin saved (redirect
    to the list), the connection, its ciphertext, version and history are unchanged."""
    client.force_login(make_user(is_staff=True, is_superuser=True))
    saved = make_connection(makeshop_shop_id="fuzz-saved")
    make_connection(makeshop_shop_id="fuzz-other")
    free_shop = make_shop()
    elsewhere = make_shop(mall_code="rakuten")
    shop_choices = [
        *(str(shop.pk) for shop in (free_shop, free_shop, saved.shop, elsewhere)),
        # Ids no row has, up to past the id column's range.
        "0", "-1", str(2**63), "9" * 30,
    ]
    pages = {
        "add": reverse("admin:malls_makeshopconnection_add"),
        "change": reverse("admin:malls_makeshopconnection_change", args=[saved.pk]),
    }
    saved_list = reverse("admin:malls_makeshopconnection_changelist")

    def check(example):
        page, (data, encoding) = example
        MakeShopConnection.objects.filter(shop=free_shop).delete()  # addable again
        if data.get("expected_version") == CURRENT_VERSION:
            data["expected_version"] = str(MakeShopConnection.objects.get(pk=saved.pk).version)
        before = database_state()

        response = send_form(client, pages[page], data, encoding)

        assert_no_server_error(response)
        if response.status_code == 302 and response["Location"] == saved_list:
            event(f"{page}: saved")
        else:
            event(f"{page}: not saved ({response.status_code})")
            assert_unchanged(before, database_state(), "the admin did not save")

    fuzz(admin_posts(shop_choices), check, examples=examples)
