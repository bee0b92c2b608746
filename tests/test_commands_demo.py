"""``seed_demo``: the demo data ``make run`` seeds on every start, and its production guard."""

import io

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management import CommandError, call_command

from malls.demo import MAKESHOP_SHOPS, OTHER_MALL_SHOPS, STAFF_GROUP
from malls.models import MakeShopConnection, MallShop, Store
from tests.fuzz.support import database_state

pytestmark = pytest.mark.django_db


def seed(**options) -> str:
    out = io.StringIO()
    call_command("seed_demo", stdout=out, **options)
    return out.getvalue()


def staff_permissions() -> set[str]:
    return set(Group.objects.get(name=STAFF_GROUP).permissions.values_list("codename", flat=True))


def test_seeding_twice_leaves_the_same_rows(settings):
    settings.DEBUG = True
    seed()
    first, permissions = database_state(), staff_permissions()

    seed()

    # Every row as stored, secrets as their ciphertext, versions and timestamps included.
    assert database_state() == first
    assert staff_permissions() == permissions


def test_seeding_makes_the_demo_logins_stores_and_shops(settings):
    settings.DEBUG = True

    out = seed()

    users = get_user_model().objects
    assert set(users.values_list("username", flat=True)) == {
        "staff", "demo-merchant", "other-merchant"
    }
    assert users.get(username="staff").groups.filter(name=STAFF_GROUP).exists()
    assert set(Store.objects.values_list("name", flat=True)) == {"デモ店舗", "別の店舗"}
    assert MallShop.objects.count() == len(MAKESHOP_SHOPS) + len(OTHER_MALL_SHOPS)
    assert MakeShopConnection.objects.count() == len(MAKESHOP_SHOPS)
    assert "demo-merchant" in out


def test_seeding_a_shop_someone_removed_brings_it_back_alone(settings):
    settings.DEBUG = True
    seed()
    MallShop.objects.get(name="デモショップ本店").delete()
    others = {
        pk: version for pk, version in MakeShopConnection.objects.values_list("pk", "version")
    }

    seed()

    assert MallShop.objects.filter(name="デモショップ本店").count() == 1
    assert MakeShopConnection.objects.get(shop__name="デモショップ本店").makeshop_shop_id == (
        "demo-shop"
    )
    assert {
        pk: version for pk, version in MakeShopConnection.objects.values_list("pk", "version")
        if pk in others
    } == others


def test_with_debug_off_it_refuses_and_creates_nothing(settings):
    settings.DEBUG = False

    with pytest.raises(CommandError, match="--force"):
        seed()

    assert not get_user_model().objects.exists()
    assert not Store.objects.exists()


def test_with_debug_off_force_seeds_anyway(settings):
    settings.DEBUG = False

    seed(force=True)

    assert get_user_model().objects.filter(username="demo-merchant").exists()
    assert MakeShopConnection.objects.count() == len(MAKESHOP_SHOPS)
