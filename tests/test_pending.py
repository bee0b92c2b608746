"""An undecided save waits in the session, encrypted, for a limited time, for one shop."""

import time

import pytest
import time_machine
from django.contrib.sessions.backends.db import SessionStore
from django.test import RequestFactory

from malls import pending

from .factories import make_shop

SECRETS = {"password": "pw-canary-7788", "order_auth_code": "order-canary-99887766",
           "product_auth_code": ""}
DATA = {"shop_id": "demo-shop", "version": 3, **SECRETS}
pytestmark = pytest.mark.django_db


def request_with_session(session=None):
    request = RequestFactory().post("/")
    request.session = session or SessionStore()
    return request


def test_a_stashed_save_comes_back_once_as_form_data():
    shop = make_shop()
    request = request_with_session()

    pending.stash(request, shop, DATA)

    assert "pw-canary-7788" not in repr(dict(request.session))
    assert pending.pop(request, shop) == {
        "shop_id": "demo-shop", "version": 3, "password": "pw-canary-7788",
        "order_auth_code": "order-canary-99887766",
    }
    assert pending.pop(request, shop) is None


def test_it_expires_after_the_ttl():
    shop = make_shop()
    request = request_with_session()
    pending.stash(request, shop, DATA)

    with time_machine.travel(time.time() + pending.PENDING_TTL_SECONDS + 1, tick=False):
        assert pending.pop(request, shop) is None


def test_it_belongs_to_its_shop_and_its_session():
    shop, other = make_shop(), make_shop()
    request = request_with_session()
    pending.stash(request, shop, DATA)

    assert pending.pop(request, other) is None
    copied = request_with_session()
    copied.session[pending.PENDING_SESSION_KEY.format(shop_pk=shop.pk)] = request.session[
        pending.PENDING_SESSION_KEY.format(shop_pk=shop.pk)
    ]
    copied.session.save()
    assert pending.pop(copied, shop) is None  # encrypted for the first session only


def test_drop_forgets_it():
    shop = make_shop()
    request = request_with_session()
    pending.stash(request, shop, DATA)

    pending.drop(request, shop)

    assert pending.pop(request, shop) is None
