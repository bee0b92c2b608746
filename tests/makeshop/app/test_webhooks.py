"""The install, uninstall and order-update webhooks over real HTTP (a live server), with
the verification job run against the GraphQL sandbox."""

from datetime import timedelta

import pytest
from django.db import connection as db
from django.utils import timezone

from malls.makeshop.app import installations
from malls.makeshop.app.models import AppInstallationEvent, MakeShopAppInstallation
from malls.makeshop.app.sandbox import (
    DEMO_APP_SHOPS,
    SANDBOX_APP_ID,
    send_install,
    send_order_update,
    send_uninstall,
    webhook_url,
)
from malls.makeshop.models import MakeShopConnection, NotificationEvent
from malls.makeshop.sandbox import DEMO_SHOPS
from malls.models import ChangeRecord
from tests.factories import make_connection

from .conftest import post_json, proven


def proven_code(shop_id="demo-shop"):
    return DEMO_SHOPS[shop_id].order_token

pytestmark = pytest.mark.django_db(transaction=True)
State = MakeShopAppInstallation.State
TOKEN = DEMO_APP_SHOPS["demo-shop"].token


@pytest.fixture
def app(app_settings, live_server, legacy_sandbox):
    """Where MakeShop's app store posts: the live server and the configured secret (and
    the legacy sandbox, which the linking proof asks)."""
    return {"app_url": live_server.url, "secret": app_settings.MAKESHOP_APP_WEBHOOK_SECRET}


def url(app, name):
    return webhook_url(app["app_url"], app["secret"], name)


def raw_token_column():
    with db.cursor() as cursor:
        cursor.execute("SELECT token FROM malls_makeshopappinstallation")
        return [row[0] for row in cursor.fetchall()]


def nothing_stored():
    return not (
        MakeShopAppInstallation.objects.exists() or AppInstallationEvent.objects.exists()
    )


# --- Install -------------------------------------------------------------------------------


def test_install_stores_the_token_encrypted_and_the_job_verifies_it(app, app_settings):
    assert send_install("demo-shop", **app) == 200

    installation = MakeShopAppInstallation.objects.get()
    assert installation.state == State.VERIFIED
    assert installation.verified_at is not None and installation.installed_at is not None
    assert installation.token.reveal() == TOKEN
    (stored,) = raw_token_column()
    assert stored.startswith("gqc1.") and TOKEN not in stored
    actions = list(installation.events.order_by("pk").values_list("action", flat=True))
    assert actions == ["makeshop_app.installed", "makeshop_app.verified"]
    assert app_settings.graphql_server.graphql.calls[-1].outcome == "answered"


def test_a_repeat_install_never_replaces_a_working_token_until_the_new_one_works(
    app, app_settings
):
    send_install("demo-shop", **app)

    assert send_install("demo-shop", token="a-re-issued-token-the-sandbox-refuses", **app) == 200

    installation = MakeShopAppInstallation.objects.get()
    assert installation.token.reveal() == TOKEN  # the working token still serves
    assert installation.state == State.VERIFIED and installation.pending_token is None
    actions = list(installation.events.order_by("pk").values_list("action", flat=True))
    assert actions == ["makeshop_app.installed", "makeshop_app.verified",
                       "makeshop_app.reinstall_pending", "makeshop_app.reinstall_rejected"]

    # MakeShop re-issues the shop's token (a plan change): the new one works, and swaps in.
    shops = {"demo-shop": DEMO_APP_SHOPS["demo-shop"]}
    app_settings.graphql_server.graphql._by_token["renewed-token-0003"] = shops["demo-shop"]
    assert send_install("demo-shop", token="renewed-token-0003", **app) == 200

    installation.refresh_from_db()
    assert installation.token.reveal() == "renewed-token-0003"
    assert installation.pending_token is None and installation.state == State.VERIFIED
    assert installation.events.order_by("-pk").first().action == "makeshop_app.token_replaced"


def test_a_token_that_does_not_work_is_replaced_at_once(app):
    send_install("demo-shop", token="first-token-the-sandbox-refuses", **app)
    assert MakeShopAppInstallation.objects.get().state == State.REJECTED

    assert send_install("demo-shop", **app) == 200

    installation = MakeShopAppInstallation.objects.get()
    assert installation.token.reveal() == TOKEN and installation.state == State.VERIFIED
    assert installation.token_version == 2


def test_uninstall_deletes_the_token_and_records_it(app, app_settings):
    proven()
    send_install("demo-shop", **app)

    # MakeShop revokes the token, then posts the uninstall; GoQ asks before deleting.
    assert send_uninstall("demo-shop", graphql=app_settings.graphql_server.graphql, **app) == 200

    installation = MakeShopAppInstallation.objects.get()
    assert installation.state == State.UNINSTALLED and installation.uninstalled_at
    assert installation.token is None and raw_token_column() == [None]
    assert installation.connection is not None  # the merchant sees "uninstalled" on the shop
    shop_actions = set(ChangeRecord.objects.values_list("action", flat=True))
    assert "makeshop_app.uninstalled" in shop_actions


def test_uninstall_of_an_unknown_shop_answers_200_and_stores_nothing(app):
    assert send_uninstall("demo-app", **app) == 200
    assert nothing_stored()


def test_a_trailing_slash_is_accepted(app):
    payload = {"app_id": SANDBOX_APP_ID, "shop_id": "demo-shop", "token": TOKEN}
    assert post_json(url(app, "install") + "/", payload).status_code == 200


# --- Refusals: nothing stored ---------------------------------------------------------------

GOOD = {"app_id": SANDBOX_APP_ID, "plan_id": "p", "app_name": "GoQ", "shop_id": "demo-shop",
        "token": TOKEN}


@pytest.mark.parametrize("name, payload, status", [
    ("forged app_id", GOOD | {"app_id": "someone-elses-app"}, 403),
    ("missing app_id", {k: v for k, v in GOOD.items() if k != "app_id"}, 403),
    ("no token", GOOD | {"token": ""}, 400),
    ("token with a newline", GOOD | {"token": "abc\r\nx-evil: 1"}, 400),
    ("shop id with a slash", GOOD | {"shop_id": "../demo"}, 400),
    ("not an object", ["demo-shop"], 400),
])
def test_bad_installs_are_refused(app, name, payload, status):
    assert post_json(url(app, "install"), payload).status_code == status
    assert nothing_stored()


def test_an_oversized_body_is_refused(app):
    payload = GOOD | {"app_name": "x" * 70_000}
    assert post_json(url(app, "install"), payload).status_code == 413
    assert nothing_stored()


def test_anything_but_json_is_refused(app):
    import requests

    response = requests.post(url(app, "install"), data=GOOD, timeout=30)
    assert response.status_code == 415
    malformed = requests.post(url(app, "install"), data=b"{not json",
                              headers={"Content-Type": "application/json"}, timeout=30)
    assert malformed.status_code == 400
    assert requests.get(url(app, "install"), timeout=30).status_code == 405
    assert nothing_stored()


def test_a_wrong_secret_is_a_404(app):
    wrong = {**app, "secret": "x" * 43}
    assert send_install("demo-shop", **wrong) == 404
    assert send_uninstall("demo-shop", **wrong) == 404
    assert nothing_stored()


def test_with_the_new_api_off_the_webhooks_are_404(app, settings):
    settings.MAKESHOP_APP_API_KEY = ""
    assert send_install("demo-shop", **app) == 404
    assert nothing_stored()


# --- Linking ----------------------------------------------------------------------------------


def test_an_install_links_itself_to_the_one_shop_that_proved_control(app):
    connection = proven()

    send_install("demo-shop", **app)

    installation = MakeShopAppInstallation.objects.get()
    assert installation.connection == connection and installation.linked_by is None
    assert installation.link_proved_at is not None
    assert installations.usable_token(connection) == TOKEN
    history = ChangeRecord.objects.filter(shop=connection.shop).values_list("action", flat=True)
    assert "makeshop_app.linked" in set(history)


def test_a_stale_proof_does_not_link_until_makeshop_accepts_the_code_now(
    app, legacy_sandbox, settings
):
    # Accepted a day ago; since then the shop changed hands and its codes (MakeShop refuses).
    connection = proven(order_auth_code_verified_at=timezone.now() - timedelta(days=1))
    connection.order_auth_code = "a-code-makeshop-no-longer-accepts"
    connection.save()
    calls_before = len(legacy_sandbox.calls)

    send_install("demo-shop", **app)

    installation = MakeShopAppInstallation.objects.get()
    assert installation.state == State.VERIFIED and installation.is_unclaimed
    assert installations.usable_token(connection) is None
    assert len(legacy_sandbox.calls) == calls_before + 1  # asked MakeShop now, once

    # The merchant fixes the code: the next verification run proves it and links.
    connection.order_auth_code = proven_code()
    connection.save()
    installations.verify_installation(installation=installation)
    installation.refresh_from_db()
    assert installation.connection_id == connection.pk


def test_without_proof_the_install_waits_for_staff(app):
    connection = make_connection(makeshop_shop_id="demo-shop")  # codes never accepted

    send_install("demo-shop", **app)

    installation = MakeShopAppInstallation.objects.get()
    assert installation.is_unclaimed and installation.state == State.VERIFIED
    assert installations.usable_token(connection) is None
    assert list(installations.unclaimed_installations()) == [installation]
    assert not ChangeRecord.objects.filter(shop=connection.shop).exists()


def test_verified_at_alone_is_no_proof(app):
    # Set before the shop ID changed to this one: it says nothing about this shop ID.
    make_connection(makeshop_shop_id="demo-shop", verified_at=timezone.now())
    send_install("demo-shop", **app)
    assert MakeShopAppInstallation.objects.get().is_unclaimed


def test_an_install_for_a_shop_id_claimed_by_two_stores_waits_for_staff(app, django_user_model):
    rightful = proven("demo-shop")
    proven("DEMO-SHOP")  # another store typed the same ID in other case

    send_install("demo-shop", **app)

    installation = MakeShopAppInstallation.objects.get()
    assert installation.is_unclaimed
    assert installations.usable_token(rightful) is None

    staff = django_user_model.objects.create_user("staff-1", is_staff=True)
    installations.assign_installation(installation=installation, connection=rightful, actor=staff)

    installation.refresh_from_db()
    assert (installation.connection, installation.linked_by) == (rightful, staff)
    assert installations.usable_token(rightful) == TOKEN
    record = ChangeRecord.objects.get(shop=rightful.shop, action="makeshop_app.linked")
    assert record.actor == staff and record.source == ChangeRecord.Source.ADMIN


def test_staff_cannot_assign_an_installation_to_a_shop_with_another_shop_id(app, django_user_model):
    send_install("demo-shop", **app)
    other = proven("another-shop")
    staff = django_user_model.objects.create_user("staff-2", is_staff=True)

    with pytest.raises(installations.AssignmentError):
        installations.assign_installation(
            installation=MakeShopAppInstallation.objects.get(), connection=other, actor=staff
        )
    assert MakeShopAppInstallation.objects.get().is_unclaimed


def test_assigning_to_a_shop_without_a_shop_id_gives_it_the_installations(app, django_user_model):
    send_install("demo-app", **app)
    bare = make_connection()
    MakeShopConnection.objects.filter(pk=bare.pk).update(makeshop_shop_id=None)
    bare.refresh_from_db()
    staff = django_user_model.objects.create_user("staff-3", is_staff=True)

    installations.assign_installation(
        installation=MakeShopAppInstallation.objects.get(), connection=bare, actor=staff
    )

    bare.refresh_from_db()
    assert bare.makeshop_shop_id == "demo-app" and bare.version == 2


# --- Order updates ------------------------------------------------------------------------------


def test_order_updates_are_recorded_deduplicated_and_shown_as_last_update(app):
    connection = proven()
    send_install("demo-shop", **app)

    assert send_order_update("demo-shop", **app) == 200
    assert send_order_update("demo-shop", **app) == 200  # MakeShop's next 2-minute cycle

    event = NotificationEvent.objects.get()
    assert (event.connection_id, event.order_number, event.repeats) == (
        connection.pk, "D000000101", 1
    )
    connection.refresh_from_db()
    assert connection.last_notification_at is not None
    assert MakeShopAppInstallation.objects.get().last_update_at is not None


def test_an_order_update_for_an_unclaimed_installation_only_moves_its_last_update(app):
    send_install("demo-app", **app)

    assert send_order_update("demo-app", **app) == 200

    assert MakeShopAppInstallation.objects.get().last_update_at is not None
    assert not NotificationEvent.objects.exists()


def test_order_updates_are_lenient_and_may_name_the_shop_in_the_path(app):
    proven()
    send_install("demo-shop", **app)

    odd = post_json(url(app, "orders") + "/demo-shop", {"whatever": [1, 2], "event": 7})
    bare = post_json(url(app, "orders") + "/demo-shop", None)

    assert (odd.status_code, bare.status_code) == (200, 200)
    assert NotificationEvent.objects.get().order_number == ""


def test_order_updates_for_unknown_or_uninstalled_shops_are_refused(app, settings):
    assert send_order_update("demo-shop", **app) == 404
    send_install("demo-shop", **app)
    send_uninstall("demo-shop", graphql=settings.graphql_server.graphql, **app)
    assert send_order_update("demo-shop", **app) == 404
    assert MakeShopAppInstallation.objects.get().last_update_at is None


def test_order_updates_are_limited_per_installation(app, monkeypatch):
    from malls.makeshop.app import webhooks

    monkeypatch.setattr(webhooks, "UPDATE_LIMIT", 3)
    connection = proven()
    send_install("demo-shop", **app)
    send_install("demo-app", **app)
    orders = [f"D00000020{n}" for n in range(5)]

    statuses = [send_order_update("demo-shop", order_number=n, **app) for n in orders[:4]]
    over = post_json(url(app, "orders"), {"shop_id": "demo-shop",
                                          "orders": [{"displayOrderNumber": orders[4]}]})

    assert statuses == [200, 200, 200, 429]
    assert (over.status_code, over.headers["Retry-After"]) == (429, "60")
    assert sorted(NotificationEvent.objects.filter(connection=connection).values_list(
        "order_number", flat=True)) == orders[:3]  # nothing recorded over the limit
    assert send_order_update("demo-app", **app) == 200  # another shop is not held back
    assert send_order_update("nobody", **app) == 404  # unknown shops are not counted


def test_an_order_update_with_a_foreign_app_id_is_refused(app):
    send_install("demo-shop", **app)
    assert send_order_update("demo-shop", app_id="someone-else", **app) == 403


def test_concurrent_installs_of_one_shop_leave_one_row_and_every_token_version(app, settings):
    from concurrent.futures import ThreadPoolExecutor

    settings.TASKS = {"default": {"BACKEND": "django.tasks.backends.dummy.DummyBackend"}}
    tokens = [f"concurrent-token-{n}" for n in range(8)]

    with ThreadPoolExecutor(max_workers=8) as pool:
        statuses = list(pool.map(lambda t: send_install("demo-shop", token=t, **app), tokens))

    assert statuses == [200] * 8
    installation = MakeShopAppInstallation.objects.get()
    assert installation.token_version == 8 and installation.token.reveal() in tokens
    assert installation.events.count() == 8
