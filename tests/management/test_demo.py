"""``seed_demo``: the demo data ``make run`` seeds on every start, and its production guard."""

import importlib
import io

import pytest
from django.apps import apps as django_apps
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management import CommandError, call_command
from django.db import connection

from malls.demo import OTHER_MALL_SHOPS, STAFF_GROUP
from malls.makeshop.app.models import AppInstallationEvent, MakeShopAppInstallation
from malls.makeshop.app.sandbox import DEMO_APP_SHOPS
from malls.makeshop.demo import APP_SHOPS, MAKESHOP_SHOPS
from malls.makeshop.models import MakeShopConnection
from malls.models import ChangeRecord, MallShop, Store
from malls.rakuten.demo import DEMO as RAKUTEN_SHOPS
from malls.rakuten.models import RakutenConnection
from tests.fuzz.support import database_state

pytestmark = pytest.mark.django_db


def seed(**options) -> str:
    out = io.StringIO()
    call_command("seed_demo", stdout=out, **options)
    return out.getvalue()


def app_rows():
    """The app installations and their history as stored (the token as its ciphertext)."""
    quote = connection.ops.quote_name
    rows = {}
    with connection.cursor() as cursor:
        for model in (MakeShopAppInstallation, AppInstallationEvent):
            table, pk = quote(model._meta.db_table), quote(model._meta.pk.column)
            cursor.execute(f"SELECT * FROM {table} ORDER BY {pk}")  # noqa: S608 - model names
            rows[model._meta.label] = [
                tuple(bytes(v) if isinstance(v, memoryview) else v for v in row)
                for row in cursor.fetchall()
            ]
    return rows


def staff_permissions() -> set[str]:
    return set(Group.objects.get(name=STAFF_GROUP).permissions.values_list("codename", flat=True))


def test_seeding_twice_leaves_the_same_rows(settings):
    settings.DEBUG = True
    seed()
    first, permissions, app = database_state(), staff_permissions(), app_rows()

    seed()

    # Every row as stored, secrets as their ciphertext, versions and timestamps included.
    assert database_state() == first
    assert staff_permissions() == permissions
    assert app_rows() == app and app["malls.MakeShopAppInstallation"]


def test_seeding_makes_the_demo_logins_stores_and_shops(settings):
    settings.DEBUG = True

    out = seed()

    users = get_user_model().objects
    assert set(users.values_list("username", flat=True)) == {
        "staff", "demo-merchant", "other-merchant"
    }
    assert users.get(username="staff").groups.filter(name=STAFF_GROUP).exists()
    assert set(Store.objects.values_list("name", flat=True)) == {"デモ店舗", "別の店舗"}
    # 楽天市場店 is one of OTHER_MALL_SHOPS and Rakuten's working demo shop.
    assert MallShop.objects.count() == len(MAKESHOP_SHOPS) + len(APP_SHOPS) + len(
        OTHER_MALL_SHOPS
    ) + len(RAKUTEN_SHOPS) - 1
    assert MakeShopConnection.objects.count() == len(MAKESHOP_SHOPS) + len(APP_SHOPS)
    assert RakutenConnection.objects.count() == len(RAKUTEN_SHOPS)
    assert "demo-merchant" in out
    assert "install-app --shop demo-app" in out
    assert "db_worker" in out


def test_seeding_connects_one_shop_through_the_app_with_the_sandboxs_token(settings):
    settings.DEBUG = True

    seed()

    installation = MakeShopAppInstallation.objects.get()
    assert installation.shop_id == "demo-app"
    assert installation.connection.shop.name == "アプリ連携ショップ"
    assert installation.connection.makeshop_shop_id == "demo-app"
    assert installation.state == MakeShopAppInstallation.State.VERIFIED
    assert installation.is_usable and installation.verified_at is not None
    assert installation.token.reveal() == DEMO_APP_SHOPS["demo-app"].token
    # Through the installation services: its history and the shop's say where it came from.
    assert list(installation.events.order_by("at", "pk").values_list("action", flat=True)) == [
        "makeshop_app.installed", "makeshop_app.linked",
    ]
    assert ChangeRecord.objects.filter(
        shop=installation.connection.shop, action="makeshop_app.linked"
    ).exists()


def test_seeding_again_leaves_an_uninstalled_app_uninstalled(settings):
    from malls.makeshop.app import installations

    settings.DEBUG = True
    seed()
    installations.uninstall(shop_id="demo-app")

    seed()

    assert MakeShopAppInstallation.objects.get().state == "uninstalled"


def test_verified_demo_shops_prove_control_so_the_app_links_by_itself(settings):
    from malls.makeshop.app import installations

    settings.DEBUG = True
    seed()

    installation = installations.store_installation(
        shop_id="demo-shop", token=DEMO_APP_SHOPS["demo-shop"].token
    )

    # The candidate; the verification job links it once MakeShop accepts its code again.
    assert installations.proven_connection_for(installation).shop.name == "デモショップ本店"


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
    assert MakeShopConnection.objects.count() == len(MAKESHOP_SHOPS) + len(APP_SHOPS)



def test_demo_users_have_addresses_on_a_domain_reserved_for_examples(settings):
    settings.DEBUG = True
    seed()
    users = get_user_model().objects
    # A database seeded before demo users had addresses gets them on the next run.
    users.filter(username="other-merchant").update(email="")

    seed()

    assert dict(users.values_list("username", "email")) == {
        "staff": "staff@example.jp",
        "demo-merchant": "demo-merchant@example.jp",
        "other-merchant": "other-merchant@example.jp",
    }


def run_worker() -> None:
    """``manage.py db_worker`` as ``make run`` starts it, until the queue is empty."""
    call_command("db_worker", "--batch", "--no-reload", "--no-startup-delay", "--interval", "0",
                 verbosity=0)


@pytest.mark.django_db(transaction=True)
def test_under_make_run_the_worker_prints_the_broken_shops_e_mail_to_its_merchant(
    settings, capsys
):
    # A transactional test starts from an empty database: the malls the migrations add.
    from malls.migrations import __name__ as migrations

    seed_malls = importlib.import_module(f"{migrations}.0002_seed_malls")
    seed_malls.add_malls(django_apps, None)
    # make run: DEBUG on and no EMAIL_URL (the readable console backend); jobs wait in the
    # database for db_worker.
    settings.DEBUG = True
    settings.MAILERS = {"default": {"BACKEND": "malls.alerts.console.EmailBackend"}}
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
    seed()
    assert "example.jp" not in capsys.readouterr().out  # queued, not sent

    run_worker()

    printed = capsys.readouterr().out
    # コード再発行ショップ worked until MakeShop refused its code, and a Rakuten shop's
    # licenseKey expires in three days: two e-mails, to the store's member only.
    assert printed.count("\nTo: ") == 2
    assert printed.count("\nTo: demo-merchant@example.jp\n") == 2
    assert "楽天" in printed
    assert "Subject: [GoQSystem] コード再発行ショップ: MakeShopとの接続が切れました" in printed

    # make run seeds on every start: the store is told once.
    seed()
    run_worker()

    assert "To: " not in capsys.readouterr().out
