"""The Rakuten screens over the test client, against the RMS sandbox over real HTTP."""

import dataclasses
from datetime import UTC, date, datetime, timedelta

import pytest
import time_machine
from django.urls import reverse
from django.utils import translation
from django.utils.html import escape

from malls.admin.history import action_label, describe_changes
from malls.models import ChangeRecord, MallShop
from malls.rakuten import presenters, tasks, verdicts
from malls.rakuten.api import Reason
from malls.rakuten.client import get_client
from malls.rakuten.connections import Status
from malls.rakuten.models import RakutenConnection
from malls.rakuten.sandbox import DEMO_SHOPS, SANDBOX_SERVICE_SECRET, Behaviour, DemoShop
from tests.factories import make_shop
from tests.screens_factories import make_member

from .conftest import keys_of, no_spacing

pytestmark = pytest.mark.django_db

MALL_LIST = reverse("malls:mall_list")


@pytest.fixture
def member(client):
    user, (store,) = make_member()
    client.force_login(user)
    return store


@pytest.fixture
def shop(member):
    return make_shop(store=member, mall_code="rakuten", name="楽天市場店")


@pytest.fixture
def rms(rakuten_sandbox, settings, monkeypatch):
    """The app's shared client pointed at the sandbox, without the one-second spacing
    (the database call slots have their own test); the sandbox, for its records."""
    settings.RAKUTEN_SERVICE_SECRET = ""
    monkeypatch.setattr(get_client(), "pace", no_spacing)
    return rakuten_sandbox


def page_url(shop) -> str:
    return reverse("malls:rakuten_settings", args=[shop.pk])


def post_keys(client, shop, shop_url, *, as_shop=None, **fields):
    data = {"shop_url": as_shop or shop_url, **keys_of(shop_url), **fields}
    return client.post(page_url(shop), data)


def japanese(text) -> str:
    with translation.override("ja"):
        return escape(str(text))


def test_pasting_the_sandboxs_keys_shows_verified_and_the_expiry_date(
    client, shop, rakuten_sandbox, settings
):
    settings.RAKUTEN_SERVICE_SECRET = ""
    response = post_keys(client, shop, "demo-rakuten")  # the real call slots: 1 s apart

    assert response.status_code == 302 and response["Location"] == page_url(shop)
    html = client.get(page_url(shop)).text
    expires_on = RakutenConnection.objects.get(shop=shop).expires_on
    assert expires_on is not None
    assert "接続確認済み" in html
    assert f"{expires_on:%Y-%m-%d}まで有効" in html
    assert "キーを保存しました。楽天で確認できました。" in html
    assert rakuten_sandbox.emulator.violations == 0
    for secret in keys_of("demo-rakuten").values():
        assert secret not in html
        assert secret[-4:] in html  # the last 4 at most


def test_an_expiring_key_shows_the_days_left_on_the_page_and_in_the_list(client, shop, rms):
    post_keys(client, shop, "demo-expiring")

    html = client.get(page_url(shop)).text
    assert "あと3日で期限切れ" in html
    listed = client.get(MALL_LIST).text
    assert "接続確認済み（残り3日）" in listed
    assert "demo-expiring" in listed and page_url(shop) in listed


@pytest.mark.parametrize(
    ("sandbox_shop", "typed_shop", "reason", "field"),
    [
        ("demo-no-orders", None, Reason.ORDERS_NOT_ENABLED, None),
        ("demo-no-expiry", None, Reason.EXPIRY_NOT_ENABLED, None),
        ("demo-no-shop", None, Reason.SHOP_NOT_ENABLED, None),
        ("demo-neighbour", "demo-rakuten", Reason.OTHER_SHOP, "shop_url"),
    ],
)
def test_each_refusal_saves_nothing_and_shows_its_advice(
    client, shop, rms, sandbox_shop, typed_shop, reason, field
):
    response = post_keys(client, shop, sandbox_shop, as_shop=typed_shop)

    assert response.status_code == 200
    assert not RakutenConnection.objects.filter(shop=shop).exists()
    with translation.override("ja"):
        advice = verdicts.advice(reason, rejected=True, reported_shop=sandbox_shop)
    assert escape(advice) in response.text
    errors = response.context["form"].errors
    assert reason.value in [error.code for error in errors.as_data()[field or "__all__"]]
    for secret in keys_of(sandbox_shop).values():
        assert secret not in response.text


def test_a_key_that_has_expired_says_so_and_the_renewal_steps(client, shop, rms):
    keys = keys_of("demo-expired")
    RakutenConnection.objects.create(
        shop=shop, shop_url="demo-expired", status=Status.VERIFIED, verified_at=datetime.now(UTC),
        expires_on=date.today() - timedelta(days=5), **keys,
    )

    html = client.get(page_url(shop)).text
    assert "licenseKey期限切れ" in html
    with translation.override("ja"):
        assert escape(presenters.expired_advice(date.today() - timedelta(days=5))) in html
    assert "新しいライセンスキーを発行" in html  # the renewal guide
    assert "serviceSecretは変わりません" in html

    response = client.post(page_url(shop), {"shop_url": "demo-expired", "version": 1})
    assert response.status_code == 200  # the saved keys, asked again: refused as expired
    connection = RakutenConnection.objects.get(shop=shop)
    assert connection.failure_reason == Reason.EXPIRED
    assert japanese(verdicts.ADVICE[Reason.EXPIRED]) in response.text


def test_a_fresh_key_refused_is_pending_then_rejected_once_the_window_ends(client, shop, rms):
    start = datetime(2026, 12, 5, 3, 0, tzinfo=UTC)
    with time_machine.travel(start, tick=False):
        response = post_keys(client, shop, "demo-pending")
        assert response.status_code == 302
        html = client.get(page_url(shop)).text
    assert "有効化待ち" in html
    assert japanese(verdicts.ADVICE[Reason.PENDING_ACTIVATION]) in html
    connection = RakutenConnection.objects.get(shop=shop)
    assert connection.status == Status.PENDING_ACTIVATION

    with time_machine.travel(start + timedelta(minutes=40), tick=False):
        assert tasks.recheck_pending() == 1
    assert RakutenConnection.objects.get(shop=shop).status == Status.PENDING_ACTIVATION

    with time_machine.travel(start + timedelta(minutes=95), tick=False):
        assert tasks.recheck_pending() == 1  # still refused after the window: rejected
        html = client.get(page_url(shop)).text
    assert RakutenConnection.objects.get(shop=shop).status == Status.REJECTED
    assert "楽天が拒否" in html
    assert japanese(verdicts.ADVICE[Reason.UNAUTHORISED]) in html  # ES01-01: the keys


@pytest.mark.parametrize(
    ("sandbox_shop", "reason", "saved_message"),
    [
        ("demo-busy", Reason.RATE_LIMITED, "楽天に接続できなかったため"),
        ("demo-down", Reason.HTTP_5XX, "楽天に接続できなかったため"),
    ],
)
def test_rms_unreachable_on_a_first_save_keeps_the_keys_to_check_later(
    client, shop, rms, sandbox_shop, reason, saved_message
):
    response = post_keys(client, shop, sandbox_shop)

    assert response.status_code == 302
    connection = RakutenConnection.objects.get(shop=shop)
    assert (connection.status, connection.failure_reason) == (Status.UNREACHABLE, reason)
    html = client.get(page_url(shop)).text
    assert saved_message in html
    assert "楽天に接続できません" in html  # the state
    assert japanese(verdicts.advice(reason, rejected=False)) in html


def test_rms_unreachable_on_new_keys_asks_before_replacing_verified_ones(client, shop, rms):
    post_keys(client, shop, "demo-rakuten")
    verified = RakutenConnection.objects.get(shop=shop)

    response = post_keys(client, shop, "demo-down", version=verified.version)
    assert response.status_code == 200
    assert "楽天でこの設定を確認できませんでした" in response.text
    for secret in keys_of("demo-down").values():
        assert secret not in response.text
    assert RakutenConnection.objects.get(shop=shop).version == verified.version  # unchanged

    response = client.post(page_url(shop), {"action": "keep_unverified"})
    assert response.status_code == 302
    kept = RakutenConnection.objects.get(shop=shop)
    assert kept.shop_url == "demo-down"
    assert kept.license_key.reveal() == DEMO_SHOPS["demo-down"].license_key
    assert kept.status in (Status.UNREACHABLE, Status.UNVERIFIED)


def test_keeping_unverified_after_the_stash_expired_asks_again(client, shop, rms):
    response = client.post(page_url(shop), {"action": "keep_unverified"})
    assert response.status_code == 302
    assert not RakutenConnection.objects.filter(shop=shop).exists()


def test_goqs_product_asks_only_for_the_license_key(client, shop, rms, settings):
    settings.RAKUTEN_SERVICE_SECRET = SANDBOX_SERVICE_SECRET
    html = client.get(page_url(shop)).text
    assert 'name="service_secret"' not in html
    assert "システム開発企業からのAPIアクセス許可設定" in html

    response = client.post(page_url(shop), {
        "shop_url": "demo-rakuten", "license_key": DEMO_SHOPS["demo-rakuten"].license_key,
    })
    assert response.status_code == 302
    connection = RakutenConnection.objects.get(shop=shop)
    assert connection.status == Status.VERIFIED
    assert not connection.secret_state("service_secret").is_set  # GoQ holds it


def test_the_shops_own_keys_model_asks_for_both(client, shop, rms):
    html = client.get(page_url(shop)).text
    assert 'name="service_secret"' in html and 'name="license_key"' in html
    assert "rpay.order.searchOrder" in html  # the functions to tick


def test_another_stores_shop_is_a_404(client, member, rms):
    elsewhere = make_shop(mall_code="rakuten")
    assert client.get(page_url(elsewhere)).status_code == 404
    assert post_keys(client, elsewhere, "demo-rakuten").status_code == 404
    assert not RakutenConnection.objects.exists()
    makeshop = make_shop(store=member)  # a MakeShop shop is not a Rakuten shop
    assert client.get(page_url(makeshop)).status_code == 404


def test_the_page_is_never_cached_and_hides_the_keys_from_error_reports(client, shop, rms):
    response = client.get(page_url(shop))
    assert "no-store" in response["Cache-Control"]
    response = post_keys(client, shop, "demo-rakuten")
    request = response.wsgi_request
    assert set(request.sensitive_post_parameters) == {"service_secret", "license_key"}


def test_adding_a_shop_opens_its_settings(client, member):
    response = client.post(reverse("malls:rakuten_add"), {"name": "楽天 二号店"})

    shop = MallShop.objects.get(store=member, name="楽天 二号店")
    assert shop.mall.code == "rakuten"
    assert response["Location"] == page_url(shop)
    assert ChangeRecord.objects.filter(shop=shop, action="shop.created").exists()


def test_a_shop_needs_a_one_line_name(client, member):
    for name in ("", "楽天\n二号店"):
        response = client.post(reverse("malls:rakuten_add"), {"name": name})
        assert response.status_code == 200 and response.context["form"].errors["name"]
    assert not MallShop.objects.filter(store=member).exists()


def test_the_list_offers_to_add_a_shop_of_every_mall_with_screens(client, member):
    html = client.get(MALL_LIST).text
    assert reverse("malls:makeshop_add") in html and "MakeShopのショップを追加" in html
    assert reverse("malls:rakuten_add") in html and "楽天市場のショップを追加" in html


def test_staff_read_rakutens_history_in_their_words(client, shop, rms):
    post_keys(client, shop, "demo-rakuten")

    record = ChangeRecord.objects.get(shop=shop, action="rakuten_settings_saved")
    with translation.override("ja"):
        assert action_label(record.action) == "楽天の設定を変更"
        lines = describe_changes(record.changes)
    assert "楽天の接続状態: 未設定 → 接続確認済み" in lines
    assert "licenseKey：変更あり" in lines  # a key: only that it changed
    assert DEMO_SHOPS["demo-rakuten"].license_key not in str(lines)


def test_canary_keys_never_leave_through_the_screens(client, shop, make_sandbox, settings,
                                                     monkeypatch, logs):
    """Pasted keys reach no page, log line, history entry or session in clear, whether
    RMS accepts them or cannot be reached (the undecided save's stash)."""
    secret, key = "SP777777_ScreenCanaryS3", "SL777777_ScreenCanaryK8"
    shops = {"canary": DemoShop("canary", secret, key, shop_name="canary")}
    sandbox = make_sandbox(min_interval=0, shops=shops)
    settings.RAKUTEN_API_BASE_URL = sandbox.url
    settings.RAKUTEN_SERVICE_SECRET = ""
    monkeypatch.setattr(get_client(), "pace", no_spacing)
    pages = []

    fields = {"shop_url": "canary", "service_secret": secret, "license_key": key}
    response = client.post(page_url(shop), fields, follow=True)
    pages.append(response.text)
    assert "接続確認済み" in response.text

    sandbox.emulator.shops["canary"] = dataclasses.replace(shops["canary"],
                                                          behaviour=Behaviour.DOWN)
    version = RakutenConnection.objects.get(shop=shop).version
    changed = {**fields, "shop_url": "canary-two", "version": version}
    response = client.post(page_url(shop), changed)
    pages.append(response.text)
    assert "楽天でこの設定を確認できませんでした" in response.text
    session = str(dict(client.session))
    assert f"malls.pending.{shop.pk}" in session  # the new settings wait, keys encrypted
    pages.append(client.post(page_url(shop), {"action": "keep_unverified"}, follow=True).text)
    assert RakutenConnection.objects.get(shop=shop).shop_url == "canary-two"

    history = str(list(ChangeRecord.objects.values_list("changes", flat=True)))
    for text in (*pages, logs.text, history, session):
        assert secret not in text and key not in text
