"""Small factories: each builds one thing with sensible defaults and returns it."""

import itertools

from django.contrib.auth import get_user_model

from malls.makeshop.models import MakeShopConnection
from malls.models import Mall, MallShop, Membership, Store

_sequence = itertools.count(1)


def make_user(*, username=None, password="pass-for-tests-2026", **extra):
    username = username or f"user{next(_sequence)}"
    return get_user_model().objects.create_user(username=username, password=password, **extra)


def get_mall(code=Mall.MAKESHOP):
    """The mall row (made by a data migration, but flushed by transactional tests)."""
    mall, _ = Mall.objects.get_or_create(code=code, defaults={"name": code, "name_en": code})
    return mall


def make_store(*, name=None, members=()):
    store = Store.objects.create(name=name or f"店舗{next(_sequence)}")
    for user in members:
        Membership.objects.create(user=user, store=store)
    return store


def make_shop(*, store=None, mall_code=Mall.MAKESHOP, name=None, **extra):
    return MallShop.objects.create(
        store=store or make_store(),
        mall=get_mall(mall_code),
        name=name or f"ショップ{next(_sequence)}",
        **extra,
    )


def make_connection(
    *,
    shop=None,
    makeshop_shop_id=None,
    password="main-admin-pass",
    order_auth_code="0123456789abcdef0123456789abcdef",
    product_auth_code="prod-code-0123456789",
    **extra,
):
    return MakeShopConnection.objects.create(
        shop=shop or make_shop(),
        makeshop_shop_id=makeshop_shop_id or f"shop{next(_sequence)}",
        password=password,
        order_auth_code=order_auth_code,
        product_auth_code=product_auth_code,
        **extra,
    )
