"""The demo Rakuten shops: one per state, agreeing with the sandbox, created once."""

import io
from datetime import UTC, datetime

import pytest

from malls.alerts.states import Health
from malls.demo import _shop as add_shop
from malls.rakuten import demo, services
from malls.rakuten.models import RakutenConnection
from malls.rakuten.provider import RAKUTEN
from tests.factories import get_mall, make_store

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 12, 5, 3, 0, tzinfo=UTC)


def test_one_shop_per_state_created_once():
    get_mall("rakuten")
    store = make_store(name="デモ店舗")
    demo.seed({"デモ店舗": store}, add_shop=add_shop, now=NOW)
    created = set(RakutenConnection.objects.values_list("pk", flat=True))
    demo.seed({"デモ店舗": store}, add_shop=add_shop, now=NOW)
    assert set(RakutenConnection.objects.values_list("pk", flat=True)) == created
    assert len(created) == 4

    states = {
        c.shop_url: (RAKUTEN.state(c, now=NOW), RAKUTEN.health(c, now=NOW))
        for c in RakutenConnection.objects.filter(shop__store=store)
    }
    assert states == {
        "demo-rakuten": ("verified", Health.WORKING),
        "demo-expiring": ("verified", Health.NEEDS_MERCHANT),
        "demo-expired": ("expired", Health.NEEDS_MERCHANT),
        "demo-pending": ("pending_activation", Health.NEITHER),
    }


def test_the_working_demo_shop_is_verified_by_the_sandbox_too(rms):
    get_mall("rakuten")
    demo.seed({"デモ店舗": make_store()}, add_shop=add_shop, now=NOW)
    connection = RakutenConnection.objects.get(shop_url="demo-rakuten")
    assert services.recheck(connection, client=rms).status == "verified"


def test_the_demo_merchant_sees_each_rakuten_state_in_the_list(client, settings):
    from django.contrib.auth import get_user_model
    from django.core.management import call_command
    from django.urls import reverse

    settings.DEBUG = True  # seed_demo refuses to run otherwise
    out = io.StringIO()
    call_command("seed_demo", stdout=out)
    assert "楽天市場 期限間近店 expires in 3 days" in out.getvalue()

    client.force_login(get_user_model().objects.get(username="demo-merchant"))
    html = client.get(reverse("malls:mall_list")).text
    assert "接続確認済み（残り3日）" in html  # 楽天市場 期限間近店
    assert "licenseKey期限切れ" in html  # 楽天市場 期限切れ店
    assert "有効化待ち" in html  # 楽天市場 有効化待ち店
    shop = RakutenConnection.objects.get(shop_url="demo-rakuten").shop
    assert shop.name == "楽天市場店" and shop.store.name == "デモ店舗"
    assert reverse("malls:rakuten_settings", args=[shop.pk]) in html
