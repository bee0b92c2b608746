"""MakeShop's other app event (ショップ利用情報への再同意通知) and the sandbox's fidelity: numeric
app and plan IDs as MakeShop documents them, over real HTTP."""

import pytest
from django.urls import reverse

from malls.makeshop.app import sandbox
from malls.makeshop.app.models import AppWebhookReceipt, MakeShopAppInstallation
from malls.makeshop.app.sandbox import SANDBOX_APP_ID, send_install, webhook_url
from tests.admin_factories import REVIEWER_PERMISSIONS, make_staff
from tests.factories import make_connection, make_shop
from tests.screens_factories import make_member

from .conftest import post_json

pytestmark = pytest.mark.django_db(transaction=True)
VIEWER = (*REVIEWER_PERMISSIONS, "malls.view_makeshopappinstallation")


@pytest.fixture
def app(app_settings, live_server):
    return {"app_url": live_server.url, "secret": app_settings.MAKESHOP_APP_WEBHOOK_SECRET}


def reconsent(app, body):
    return post_json(webhook_url(app["app_url"], app["secret"], "reconsent"), body).status_code


def test_a_reconsent_is_200_recorded_shown_to_staff_and_re_verified(app, graphql, client):
    send_install("demo-shop", **app)
    calls = len(graphql.graphql.calls)

    assert reconsent(app, {"app_id": int(SANDBOX_APP_ID), "shop_id": "demo-shop"}) == 200

    installation = MakeShopAppInstallation.objects.get()
    assert installation.events.filter(action="makeshop_app.reconsented").exists()
    assert len(graphql.graphql.calls) > calls  # the job used the token again
    receipt = AppWebhookReceipt.objects.get(kind="reconsent")
    assert (receipt.installation, receipt.recognised) == (installation, True)
    client.force_login(make_staff(permissions=VIEWER))
    page = client.get(reverse("admin:malls_makeshopappinstallation_change",
                              args=[installation.pk])).content.decode()
    assert "ショップ利用情報への再同意" in page


def test_a_reconsent_for_an_unknown_shop_or_of_unknown_shape_is_still_200(app):
    assert reconsent(app, {"app_id": SANDBOX_APP_ID, "shop_id": "nobody"}) == 200
    assert reconsent(app, {"app_id": SANDBOX_APP_ID, "consent": {"apis": ["searchOrder"]}}) == 200
    assert reconsent(app, {"shop_id": "nobody", "app_id": "not-goq"}) == 403

    assert [r.recognised for r in AppWebhookReceipt.objects.order_by("pk")] == [False, False]


def test_install_bodies_carry_numbers_as_makeshop_documents(app):
    assert sandbox.SANDBOX_APP_ID.isdigit()

    assert send_install("demo-shop", **app) == 200

    receipt = AppWebhookReceipt.objects.get(kind="install")
    assert (receipt.shape["app_id"], receipt.shape["plan_id"]) == ("int", "int")
    assert MakeShopAppInstallation.objects.get().plan_id == "1"


def test_text_app_ids_are_accepted_too(app, app_settings):
    app_settings.MAKESHOP_APP_ID = "goq-text-app"

    assert send_install("demo-shop", app_id="goq-text-app", **app) == 200
    assert send_install("demo-shop", app_id="90002", **app) == 403


def test_the_merchant_page_names_makeshops_menus(app, client):
    user, (store,) = make_member()
    client.force_login(user)
    connection = make_connection(shop=make_shop(store=store), makeshop_shop_id="demo-shop")

    page = client.get(reverse("malls:makeshop_app", args=[connection.shop.pk])).text

    assert "「アプリ一覧」→「アプリを探す」" in page
    assert "メイン管理者" not in page  # not sourced for app installs (review I8)
