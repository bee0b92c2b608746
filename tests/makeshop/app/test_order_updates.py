"""Every order of an order update, the shop ID wherever the body puts it, and bodies of a
shape GoQ does not know: answered 200 and shown to staff (key names and sizes only),
over real HTTP (a live server) and the admin."""

import json

import pytest
import requests
from django.urls import reverse

from malls.makeshop.app import receipts
from malls.makeshop.app.models import AppWebhookReceipt, MakeShopAppInstallation
from malls.makeshop.app.sandbox import SANDBOX_APP_ID, send_install, webhook_url
from malls.makeshop.models import NotificationEvent
from tests.admin_factories import REVIEWER_PERMISSIONS, make_staff

from .conftest import post_json, proven

pytestmark = pytest.mark.django_db(transaction=True)
VIEWER = (*REVIEWER_PERMISSIONS, "malls.view_makeshopappinstallation")
# A value that must never reach a receipt or an admin page.
CANARY = "secret-value-CANARY-83d1"


@pytest.fixture
def app(app_settings, live_server):
    return {"app_url": live_server.url, "secret": app_settings.MAKESHOP_APP_WEBHOOK_SECRET}


@pytest.fixture
def linked(app, legacy_sandbox):
    """demo-shop installed and linked to its GoQ shop (the job proved control)."""
    connection = proven()
    send_install("demo-shop", **app)
    assert MakeShopAppInstallation.objects.get().connection_id == connection.pk
    return connection


def orders(app, body, path="orders"):
    return post_json(webhook_url(app["app_url"], app["secret"], path), body).status_code


def recorded_orders(connection):
    return sorted(NotificationEvent.objects.filter(connection=connection).values_list(
        "order_number", flat=True))


def test_a_three_order_update_records_three_orders(app, linked):
    body = {"app_id": SANDBOX_APP_ID, "shop_id": "demo-shop", "event": "order_updated",
            "orders": [{"displayOrderNumber": f"D00000030{n}"} for n in range(3)]}

    assert orders(app, body) == 200

    assert recorded_orders(linked) == ["D000000300", "D000000301", "D000000302"]
    # On record as the shop's notifications; no receipt for an ordinary update.
    assert not AppWebhookReceipt.objects.filter(kind="orders").exists()


def test_staff_see_an_installations_last_order_updates(app, linked, client):
    body = {"app_id": SANDBOX_APP_ID, "shop_id": "demo-shop",
            "orders": [{"displayOrderNumber": "S1"}, {"displayOrderNumber": "S2"}]}
    assert orders(app, body) == 200

    client.force_login(make_staff(permissions=VIEWER))
    page = client.get(reverse("admin:malls_makeshopappinstallation_change",
                              args=[MakeShopAppInstallation.objects.get().pk])).text
    assert "最近の注文更新" in page and "S1" in page and "S2" in page


def test_orders_in_every_list_at_any_depth_are_recorded_once(app, linked):
    body = {
        "app_id": SANDBOX_APP_ID,
        "data": {"shop": {"shopId": "demo-shop"},
                 "updates": [{"order": {"displayOrderNumber": "A1", "systemOrderNumber": "S1"}},
                             {"order": {"displayOrderNumber": "A2"}}],
                 "more": [[{"orderNumber": "A3"}], {"order_numbers": ["A4", "A1"]}]},
    }

    assert orders(app, body) == 200

    # One number per order object (the first key found), no repeats.
    assert recorded_orders(linked) == ["A1", "A2", "A3", "A4"]


@pytest.mark.parametrize("body", [
    {"data": {"shop": {"shop_id": "demo-shop"}, "orders": [{"displayOrderNumber": "N1"}]}},
    {"payload": {"data": {"shopId": "demo-shop"}}, "orders": [{"orderNumber": "N1"}]},
    {"shop": [{"SHOP_ID": "demo-shop"}], "order": {"order_number": "N1"}},
])
def test_a_nested_shop_id_in_snake_or_camel_case_is_found(app, linked, body):
    assert orders(app, {"app_id": SANDBOX_APP_ID, **body}) == 200
    assert recorded_orders(linked) == ["N1"]


def test_an_unknown_shape_with_goqs_app_id_is_200_and_kept_for_staff(app, linked, client):
    body = {"app_id": SANDBOX_APP_ID, "payload": {"mystery": CANARY, "list": [1, 2, 3]}}

    assert orders(app, body) == 200
    assert orders(app, {"app_id": SANDBOX_APP_ID, "shop_id": "demo-shop",
                        "changed": {"what": CANARY}}) == 200

    unattached, known = AppWebhookReceipt.objects.filter(kind="orders").order_by("pk")
    assert (unattached.installation, unattached.recognised) == (None, False)
    assert unattached.shape == {"app_id": f"str:{len(SANDBOX_APP_ID)}",
                                "payload": {"mystery": "str:24", "list": [3, "int"]}}
    assert (known.installation.shop_id, known.recognised) == ("demo-shop", False)
    assert CANARY not in json.dumps([unattached.shape, known.shape])
    assert recorded_orders(linked) == [""]  # the shop's update, without an order number

    client.force_login(make_staff(permissions=VIEWER))
    page = client.get(reverse("admin:malls_makeshopappinstallation_change",
                              args=[known.installation_id])).content.decode()
    listing = client.get(reverse("admin:malls_appwebhookreceipt_changelist")
                         + "?recognised__exact=0").content.decode()
    assert "&quot;changed&quot;:{&quot;what&quot;:&quot;str:24&quot;}" in page
    assert "インストールなし" in listing and "demo-shop" in listing  # the admin is in Japanese
    per_installation = client.get(reverse("admin:malls_appwebhookreceipt_changelist")
                                  + f"?installation__id__exact={known.installation_id}")
    assert per_installation.status_code == 200
    assert "インストールなし" not in per_installation.content.decode()
    assert CANARY not in page + listing


def test_a_body_naming_no_shop_and_no_app_is_refused(app, linked):
    assert orders(app, {"payload": {"x": 1}}) == 400
    assert orders(app, {"app_id": "someone-else", "shop_id": "demo-shop"}) == 403
    assert not AppWebhookReceipt.objects.filter(kind="orders").exists()


def test_installs_leave_a_receipt_with_their_shape_and_no_token(app, linked):
    receipt = AppWebhookReceipt.objects.get(kind="install")
    assert receipt.installation == MakeShopAppInstallation.objects.get()
    assert receipt.shape["token"].startswith("str:")
    assert receipt.signature_headers == []


def test_signature_headers_are_recorded_by_name_only(app, linked):
    headers = {"x-makeshop-signature": CANARY, "x-makeshop-request-timestamp": "1700000000"}
    body = {"app_id": SANDBOX_APP_ID, "shop_id": "demo-shop",
            "orders": [{"displayOrderNumber": "H1"}]}

    answer = requests.post(webhook_url(app["app_url"], app["secret"], "orders"), json=body,
                           headers=headers, timeout=30)

    assert answer.status_code == 200
    receipt = AppWebhookReceipt.objects.get(kind="orders")
    assert receipt.signature_headers == list(receipts.SIGNATURE_HEADERS)
    assert CANARY not in json.dumps(list(AppWebhookReceipt.objects.values()), default=str)


def test_receipts_are_pruned_per_installation(app, linked, monkeypatch):
    monkeypatch.setattr(receipts, "KEPT_PER_INSTALLATION", 3)
    monkeypatch.setattr(receipts, "PRUNE_EVERY", 1)
    for n in range(5):  # bodies GoQ cannot read: each leaves a receipt
        assert orders(app, {"app_id": SANDBOX_APP_ID, "shop_id": "demo-shop",
                            f"unknown{n}": {}}) == 200

    kept = AppWebhookReceipt.objects.filter(kind="orders").order_by("pk")
    assert [list(r.shape)[-1] for r in kept] == ["unknown2", "unknown3", "unknown4"]


def test_hostile_bodies_cost_little_and_answer_200(app, linked):
    deep = {"app_id": SANDBOX_APP_ID, "shop_id": "demo-shop"}
    node = deep
    for _ in range(200):
        node["x"] = {}
        node = node["x"]
    wide = {"app_id": SANDBOX_APP_ID, "shop_id": "demo-shop",
            "orders": [{"displayOrderNumber": f"W{n}"} for n in range(2000)]}

    assert orders(app, deep) == 200
    assert orders(app, wide) == 200
    assert len(recorded_orders(linked)) == 1 + 500  # the deep one (no order), the wide one capped
