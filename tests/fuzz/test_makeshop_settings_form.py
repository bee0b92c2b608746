"""Fuzzing the MakeShop settings form (POST /settings/malls/makeshop/<pk>/).

Saving asks MakeShop first, which the service refuses to do inside a transaction,
so these tests use a transactional database. MakeShop is an address where nothing
listens: a check that gets that far is answered "unreachable" at once, and the page
then asks whether to keep the settings as 接続未確認. An example may answer (a second
POST with ``action=keep_unverified``, fuzzed too), so both ways of saving are
exercised: without a MakeShop call when nothing changed, and kept unverified.
"""

import pytest
from django.urls import reverse
from django.utils import timezone
from hypothesis import event
from hypothesis import strategies as st

from malls import pending
from malls.makeshop.models import MakeShopConnection
from malls.models import CallSlot, ChangeRecord
from tests.factories import make_connection, make_shop
from tests.screens_factories import make_member

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

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("offline_makeshop")]

Status = MakeShopConnection.Status
SAVED_SHOP_ID = "fuzz-saved"
TAKEN_SHOP_ID = "fuzz-taken"
# Stands for the connection's version at the time of the request.
CURRENT_VERSION = "<current version>"

# The pages a merchant may post to, and some they may not (repeats weight the draw).
TARGETS = (
    "saved", "saved", "saved", "new", "new", "new", "other_store_of_member", "foreign",
    "missing", "huge_pk",
)


def shop_ids():
    return st.one_of(
        st.sampled_from([SAVED_SHOP_ID, TAKEN_SHOP_ID, "demo-shop"]),
        st.from_regex(r"[A-Za-z0-9][A-Za-z0-9_-]{1,63}", fullmatch=True),
    )


def secrets():
    return weighted((1, st.just("")), (3, st.from_regex(r"[0-9a-f]{32}", fullmatch=True)))


def settings_posts():
    """(target, (data, encoding), decision) for a POST of the settings form.

    ``decision`` is the merchant's answer, POSTed next, when the page asks whether to
    keep settings MakeShop gave no verdict on (None: they leave the page).
    """
    fields = {
        "shop_id": shop_ids(),
        "password": secrets(),
        "order_auth_code": secrets(),
        "product_auth_code": secrets(),
        "version": weighted((3, st.just(CURRENT_VERSION)), (1, st.integers().map(str))),
        "action": weighted((4, st.just("")), (1, st.just("keep_unverified"))),
    }
    decisions = st.one_of(
        st.none(), form_posts({"action": st.just("keep_unverified")})
    )
    return st.tuples(st.sampled_from(TARGETS), form_posts(fields), decisions)


@pytest.mark.parametrize("examples", EXAMPLE_COUNTS)
def test_makeshop_settings_form(client, examples):
    """Any POST is answered without a server error; unless it is saved (redirect to
    the next steps), nothing stored changes: not the settings, their ciphertext or
    version, the shop, its history, nor its notifications."""
    user, (store, second_store) = make_member(stores=2)
    client.force_login(user)
    now = timezone.now()
    saved = make_connection(
        shop=make_shop(store=store),
        makeshop_shop_id=SAVED_SHOP_ID,
        status=Status.VERIFIED,
        verified_at=now,
        # Accepted recently: a save that changes no credential needs no MakeShop call.
        password_verified_at=now,
        order_auth_code_verified_at=now,
        product_auth_code_verified_at=now,
    )
    fresh_shops = [make_shop(store=store), make_shop(store=second_store)]
    foreign = make_connection(makeshop_shop_id=TAKEN_SHOP_ID)
    shop_pks = {
        "saved": saved.shop_id,
        "new": fresh_shops[0].pk,
        "other_store_of_member": fresh_shops[1].pk,
        "foreign": foreign.shop_id,
        "missing": 10**9,
        "huge_pk": 10**30,
    }

    def post_and_check(shop_pk, data, encoding):
        """POST once; check the properties; return the response."""
        if data.get("version") == CURRENT_VERSION:
            data["version"] = str(MakeShopConnection.objects.get(pk=saved.pk).version)
        # No call waits on MakeShop's one-call-per-second spacing from an earlier one.
        CallSlot.objects.all().delete()
        before = database_state()
        records = ChangeRecord.objects.count()

        url = reverse("malls:makeshop_settings", args=[shop_pk])
        response = send_form(client, url, data, encoding)

        assert_no_server_error(response)
        guide = reverse("malls:makeshop_guide", args=[shop_pk])
        if response.status_code == 302 and response["Location"] == guide:
            event("saved")
            assert MakeShopConnection.objects.filter(shop_id=shop_pk).exists()
            assert ChangeRecord.objects.count() > records
        else:
            event(f"not saved: {response.status_code}")
            assert_unchanged(before, database_state(), "the settings were not saved")
        return response

    def check(example):
        target, (data, encoding), decision = example
        MakeShopConnection.objects.filter(shop__in=fresh_shops).delete()  # unconfigured again
        shop_pk = shop_pks[target]
        post_and_check(shop_pk, data, encoding)
        asked = pending.PENDING_SESSION_KEY.format(shop_pk=shop_pk) in client.session
        if asked and decision is not None:
            event("decided after an undecided save")
            post_and_check(shop_pk, *decision)

    fuzz(settings_posts(), check, examples=examples)
