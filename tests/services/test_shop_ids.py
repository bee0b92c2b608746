"""No shop-ID squatting: a claim MakeShop never verified keeps a shop ID from no one, and
the owner whose settings MakeShop verifies gets it (security M2)."""

import pytest
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone

from malls.makeshop import Outcome
from malls.makeshop import services as makeshop_services
from malls.makeshop.models import MakeShopConnection
from malls.makeshop.sandbox import DEMO_SHOPS
from malls.makeshop.services.shop_ids import SHOP_ID_RELEASED, SHOP_ID_TAKEN
from malls.models import ChangeRecord
from tests.factories import make_connection, make_shop, make_store, make_user
from tests.screens_factories import ScriptedMakeShop

Status = MakeShopConnection.Status
pytestmark = pytest.mark.django_db(transaction=True)
NOBODY_LISTENS = "http://127.0.0.1:9"


def secrets_of(shop_id):
    demo = DEMO_SHOPS[shop_id]
    return {"password": demo.password, "order_auth_code": demo.order_token}


def save_now(shop, shop_id, secrets, **options):
    connection = getattr(shop, "makeshop", None) or MakeShopConnection(shop=shop)
    return makeshop_services.apply_makeshop_settings(
        connection=connection, shop_id=shop_id, new_secrets=secrets,
        expected_version=None if connection._state.adding else connection.version, **options,
    )


def keep_unverified(shop, shop_id, secrets):
    """What a merchant's "keep as 接続未確認" does after MakeShop gave no verdict."""
    return save_now(shop, shop_id, secrets, verify=makeshop_services.Verify.LATER, no_verdict=True)


def squat(settings, shop_id, *, busy=False):
    """Another store claims ``shop_id`` with made-up secrets while MakeShop gives no verdict."""
    squatter = make_shop(store=make_store(members=[make_user()]))
    made_up = {"password": "guess", "order_auth_code": "e" * 32}
    if busy:  # a burst of calls the squatter made to MakeShop itself keeps the shop "busy"
        result = save_now(squatter, shop_id, made_up,
                          client=ScriptedMakeShop(order_auth_code=(Outcome.UNREACHABLE, "busy")))
        assert result.needs_decision
    url = settings.MAKESHOP_API_BASE_URL
    settings.MAKESHOP_API_BASE_URL = NOBODY_LISTENS  # the queued re-check gets no verdict either
    kept = keep_unverified(squatter, shop_id, made_up)
    settings.MAKESHOP_API_BASE_URL = url
    assert kept.saved
    squatter.refresh_from_db()
    assert squatter.makeshop.makeshop_shop_id == shop_id
    assert squatter.makeshop.status == Status.UNVERIFIED
    return squatter


@pytest.mark.parametrize("busy", [False, True], ids=["outage", "busy burst"])
def test_an_unverified_claim_cannot_keep_an_id_from_its_verified_owner(
    settings, makeshop_sandbox, busy
):
    squatter = squat(settings, "demo-shop", busy=busy)
    owner = make_shop()

    result = save_now(owner, "demo-shop", secrets_of("demo-shop"))

    assert result.saved and result.connection.status == Status.VERIFIED
    lost = MakeShopConnection.objects.get(shop=squatter)
    assert lost.makeshop_shop_id is None
    assert (lost.status, lost.failure_reason) == (Status.REJECTED, SHOP_ID_RELEASED)
    record = ChangeRecord.objects.get(shop=squatter, action="makeshop.shop_id_released")
    assert record.changes["makeshop_shop_id"] == ["demo-shop", None]
    assert record.actor is None  # the claim's store never learns who took it


def test_the_store_that_lost_an_id_is_told_on_its_pages(client, settings, makeshop_sandbox):
    squatter = squat(settings, "demo-shop")
    save_now(make_shop(), "demo-shop", secrets_of("demo-shop"))
    client.force_login(squatter.store.memberships.get().user)

    page = client.get(reverse("malls:makeshop_settings", args=[squatter.pk])).text
    listed = client.get(reverse("malls:mall_list")).text

    notice = "GoQで設定から外しました"
    assert notice in page and notice in listed
    assert "demo-shop" not in listed


def test_an_owner_who_only_got_no_verdict_either_wins_when_the_job_verifies(
    settings, makeshop_sandbox
):
    squatter = squat(settings, "demo-shop", busy=True)
    owner = make_shop()

    keep_unverified(owner, "demo-shop", secrets_of("demo-shop"))  # its job runs at once here

    assert MakeShopConnection.objects.get(shop=owner).status == Status.VERIFIED
    assert MakeShopConnection.objects.get(shop=squatter).makeshop_shop_id is None


def test_unverified_claims_block_no_one_and_a_guesser_learns_nothing(settings, makeshop_sandbox):
    squat(settings, "demo-shop")
    squat(settings, "demo-shop")
    guesser = make_shop()

    refused = save_now(guesser, "demo-shop", {"password": "x", "order_auth_code": "f" * 32})

    assert not refused.saved and refused.verification.outcome == Outcome.REJECTED
    assert MakeShopConnection.objects.filter(makeshop_shop_id="demo-shop").count() == 2


def test_a_verified_owner_keeps_its_id_and_only_a_prover_hears_it_is_taken(
    settings, makeshop_sandbox
):
    owner = make_shop()
    save_now(owner, "demo-shop", secrets_of("demo-shop"))
    calls = len(makeshop_sandbox.calls)

    with pytest.raises(makeshop_services.ShopIdTakenError):
        save_now(make_shop(), "demo-shop", secrets_of("demo-shop"))

    assert len(makeshop_sandbox.calls) > calls  # MakeShop accepted before anything was said
    assert MakeShopConnection.objects.get(makeshop_shop_id="demo-shop").shop == owner


def test_a_background_check_of_a_second_claim_never_takes_a_verified_owners_id(
    settings, makeshop_sandbox
):
    owner = make_shop()
    save_now(owner, "demo-shop", secrets_of("demo-shop"))
    second = make_shop()

    save_now(second, "demo-shop", secrets_of("demo-shop"), verify=makeshop_services.Verify.LATER,
             source=ChangeRecord.Source.ADMIN)

    claim = MakeShopConnection.objects.get(shop=second)
    assert (claim.status, claim.failure_reason) == (Status.REJECTED, SHOP_ID_TAKEN)
    assert claim.verified_at is None
    assert MakeShopConnection.objects.get(shop=owner).status == Status.VERIFIED


def test_a_new_shop_id_does_not_inherit_the_old_ones_verification(settings, makeshop_sandbox):
    """Verify your own shop, then switch to someone else's ID unverified: it holds nothing."""
    switcher = make_shop()
    save_now(switcher, "demo-shop", secrets_of("demo-shop"))
    switcher.refresh_from_db()
    settings.MAKESHOP_API_BASE_URL = NOBODY_LISTENS
    keep_unverified(switcher, "demo-eucjp", {})
    settings.MAKESHOP_API_BASE_URL = makeshop_sandbox.url
    assert MakeShopConnection.objects.get(shop=switcher).verified_at is None

    result = save_now(make_shop(), "demo-eucjp", secrets_of("demo-eucjp"))

    assert result.saved and result.connection.status == Status.VERIFIED
    assert MakeShopConnection.objects.get(shop=switcher).makeshop_shop_id is None


def test_the_database_refuses_two_verified_holders_of_one_id():
    make_connection(makeshop_shop_id="held", verified_at=timezone.now())
    make_connection(makeshop_shop_id="held")  # unverified: allowed

    with pytest.raises(IntegrityError), transaction.atomic():
        make_connection(makeshop_shop_id="held", verified_at=timezone.now())
