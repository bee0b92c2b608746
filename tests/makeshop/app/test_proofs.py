"""A token bound to its shop, links only on fresh proof (security review N3, N4, N5), over
real HTTP against both sandboxes: another shop's token is refused, an unsigned uninstall of
a working token is checked with MakeShop, a squatted claim neither blocks nor comes first,
and a link whose proof fails later is held for staff."""

import json
import time

import pytest
import requests
from django.urls import reverse
from django.utils import timezone

from malls.makeshop.app import authenticity, installations
from malls.makeshop.app.models import MakeShopAppInstallation
from malls.makeshop.app.sandbox import (
    DEMO_APP_SHOPS,
    SANDBOX_APP_ID,
    send_install,
    send_uninstall,
    webhook_url,
)
from malls.makeshop.models import MakeShopConnection
from tests.admin_factories import REVIEWER_PERMISSIONS, make_staff
from tests.factories import make_connection, make_shop, make_store

from .conftest import proven

pytestmark = pytest.mark.django_db(transaction=True)
State = MakeShopAppInstallation.State
ASSIGNER = (*REVIEWER_PERMISSIONS, "malls.view_makeshopappinstallation",
            "malls.assign_makeshopappinstallation")


@pytest.fixture
def app(app_settings, live_server, legacy_sandbox):
    return {"app_url": live_server.url, "secret": app_settings.MAKESHOP_APP_WEBHOOK_SECRET}


def installation():
    return MakeShopAppInstallation.objects.get()


# --- The token is the shop's -------------------------------------------------------------------


def test_another_shops_token_is_refused_and_never_linked(app):
    owner = proven("demo-app")  # demo-app's GoQ shop, proven with MakeShop
    stolen = DEMO_APP_SHOPS["demo-shop"].token  # works, but for demo-shop

    assert send_install("demo-app", token=stolen, **app) == 200

    found = installation()
    assert (found.state, found.failure_reason) == (State.REJECTED, "token_rejected")
    assert found.makeshop_message == "MakeShop names another shop for this token"
    assert found.is_unclaimed and installations.usable_token(owner) is None


def test_a_replayed_old_install_never_replaces_a_working_token(app):
    send_install("demo-shop", **app)

    send_install("demo-shop", token="old-revoked-token-captured-earlier", **app)

    found = installation()
    assert found.state == State.VERIFIED
    assert found.token.reveal() == DEMO_APP_SHOPS["demo-shop"].token


# --- Uninstalls ---------------------------------------------------------------------------


def test_an_unsigned_uninstall_of_a_working_token_is_checked_with_makeshop(app):
    connection = proven()
    send_install("demo-shop", **app)

    assert send_uninstall("demo-shop", **app) == 200  # MakeShop still accepts the token

    found = installation()
    assert found.state == State.VERIFIED and found.uninstall_reported_at is None
    assert installations.usable_token(connection) == DEMO_APP_SHOPS["demo-shop"].token
    actions = list(found.events.order_by("pk").values_list("action", flat=True))
    assert actions[-2:] == ["makeshop_app.uninstall_reported",
                            "makeshop_app.uninstall_not_confirmed"]


def test_a_signed_uninstall_is_believed_at_once(app, app_settings):
    app_settings.MAKESHOP_APP_API_SECRET = "makeshop-api-secret-for-tests"
    send = signed_sender(app, app_settings.MAKESHOP_APP_API_SECRET)
    token = DEMO_APP_SHOPS["demo-shop"].token
    assert send("install", {"app_id": SANDBOX_APP_ID, "shop_id": "demo-shop",
                            "token": token}) == 200

    assert send("uninstall", {"app_id": SANDBOX_APP_ID, "shop_id": "demo-shop"}) == 200

    found = installation()
    assert found.state == State.UNINSTALLED and found.token is None


def signed_sender(app, api_secret):
    def send(name, payload):
        body = json.dumps(payload).encode()
        headers = authenticity.sign(api_secret=api_secret, body=body, timestamp=int(time.time()))
        return requests.post(webhook_url(app["app_url"], app["secret"], name), data=body,
                             headers={"Content-Type": "application/json", **headers},
                             timeout=30).status_code
    return send


# --- Squatting and the assign page ---------------------------------------------------------


def test_a_squatted_claim_neither_blocks_nor_is_offered_first(app, client):
    squatter = make_connection(shop=make_shop(store=make_store(name="Squatter")),
                               makeshop_shop_id="demo-shop")  # never accepted by MakeShop
    owner = proven(store_name="Owner")

    send_install("demo-shop", **app)

    assert installation().connection_id == owner.pk  # the squatter did not block the owner
    installations.unassign_installation(installation=installation(), actor=None)
    client.force_login(make_staff(permissions=ASSIGNER))
    page = client.get(reverse("admin:malls_makeshopappinstallation_assign",
                              args=[installation().pk])).content.decode()
    assert page.index(str(owner.pk)) < page.index(str(squatter.pk))
    assert "受付なし" in page  # the squatter's row says MakeShop never accepted its codes
    assert squatter.pk != owner.pk


# --- A link whose proof fails later --------------------------------------------------------


def test_a_link_whose_proof_fails_later_is_held_then_released(app):
    connection = proven()
    send_install("demo-shop", **app)
    assert installation().connection_id == connection.pk

    # The legacy check finds the codes refused (the shop changed hands, say).
    MakeShopConnection.objects.filter(pk=connection.pk).update(
        status=MakeShopConnection.Status.REJECTED, failed_check="order_auth_code",
        order_auth_code_verified_at=None,
    )
    installations.verify_installation(installation=installation())

    held = installation()
    assert held.link_held_at is not None and held.connection_id == connection.pk
    assert installations.usable_token(connection) is None
    assert held.events.order_by("-pk").first().action == "makeshop_app.link_held"

    MakeShopConnection.objects.filter(pk=connection.pk).update(
        status=MakeShopConnection.Status.VERIFIED, failed_check="",
        order_auth_code_verified_at=timezone.now(),
    )
    installations.verify_installation(installation=installation())

    assert installation().link_held_at is None
    assert installations.usable_token(connection) == DEMO_APP_SHOPS["demo-shop"].token


def test_staff_confirm_a_held_link_by_assigning_it_again(app, django_user_model):
    connection = proven()
    send_install("demo-shop", **app)
    refused = {"status": MakeShopConnection.Status.REJECTED, "failed_check": "order_auth_code",
               "order_auth_code_verified_at": None}
    MakeShopConnection.objects.filter(pk=connection.pk).update(**refused)
    installations.verify_installation(installation=installation())
    assert installation().link_held_at is not None
    staff = django_user_model.objects.create_user("staff-held", is_staff=True)

    installations.unassign_installation(installation=installation(), actor=staff)
    installations.assign_installation(installation=installation(), connection=connection,
                                      actor=staff)
    installations.verify_installation(installation=installation())

    confirmed = installation()
    assert confirmed.link_held_at is None and confirmed.linked_by == staff  # staff's word
    assert installations.usable_token(connection) == DEMO_APP_SHOPS["demo-shop"].token


def test_a_legacy_api_that_stops_answering_holds_no_link(app):
    connection = proven()
    send_install("demo-shop", **app)
    MakeShopConnection.objects.filter(pk=connection.pk).update(  # retired, not refused
        status=MakeShopConnection.Status.UNVERIFIED, failed_check="order_auth_code",
        failure_reason="legacy_api_retired", order_auth_code_verified_at=None,
    )

    installations.verify_installation(installation=installation())

    assert installation().link_held_at is None
    assert installations.usable_token(connection) == DEMO_APP_SHOPS["demo-shop"].token
