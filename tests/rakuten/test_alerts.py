"""Rakuten's shops in the alert system: its own words classify its shops, and a key RMS
stops accepting e-mails the store through the real path (sandbox over HTTP, real
database, a real SMTP server) with the texts of Rakuten's screens."""

import dataclasses
from datetime import UTC, date, datetime, timedelta

import pytest
from django.utils import translation

from malls.alerts import digest, outbox, states
from malls.alerts.models import AlertMessage, AlertPreference, ShopAlert
from malls.alerts.states import ConnectionState, Health
from malls.rakuten import alerts, overview, services, verdicts
from malls.rakuten.api import Reason
from malls.rakuten.connections import Status
from malls.rakuten.models import RakutenConnection
from tests.alerts.conftest import smtp  # noqa: F401  (a real SMTP server)
from tests.alerts.helpers import digest_staff, member
from tests.factories import make_shop, make_store

from .conftest import keys_of

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 12, 5, 3, 0, tzinfo=UTC)
Kind = AlertMessage.Kind


@pytest.mark.parametrize(
    ("status", "reason", "health"),
    [
        ("verified", "", Health.WORKING),
        ("rejected", "unauthorised", Health.NEEDS_MERCHANT),
        ("rejected", "expired", Health.NEEDS_MERCHANT),
        ("rejected", "orders_not_enabled", Health.NEEDS_MERCHANT),
        ("rejected", "unreadable", Health.NEEDS_MERCHANT),
        ("expired", "", Health.NEEDS_MERCHANT),
        ("pending_activation", "pending_activation", Health.NEITHER),
        ("unverified", "bad_json", Health.NEITHER),
        ("unreachable", "timeout", Health.NEITHER),
        ("unset", "", Health.NEITHER),
    ],
)
def test_rakutens_states_fall_in_three_kinds(status, reason, health):
    assert states.classify(status, reason, mall="rakuten") == health


def test_rakutens_words_do_not_decide_makeshops_shops():
    assert states.classify("expired", mall="makeshop") == Health.NEITHER
    assert states.classify("uninstalled", mall="rakuten") == Health.NEITHER


def test_a_rakuten_rows_state_names_its_mall():
    connection = RakutenConnection(shop=make_shop(mall_code="rakuten"), status=Status.REJECTED,
                                   failure_reason=Reason.EXPIRED, failed_check="expiry")
    assert states.state_of(connection) == ConnectionState("rejected", "expired", "expiry")
    assert states.state_of(connection).mall == "rakuten"


@pytest.mark.parametrize("language", ["ja", "en"])
def test_the_e_mails_say_what_the_screens_say(language):
    with translation.override(language):
        refused = alerts.describe(ConnectionState("rejected", "orders_not_enabled", "orders"))
        assert refused.label == str(RakutenConnection.Status.REJECTED.label)
        assert refused.advice == (
            f"{verdicts.check_label('orders')}: "
            f"{verdicts.advice('orders_not_enabled', rejected=True)}"
        )
        expired = alerts.describe(ConnectionState("expired"))
        assert expired == alerts.describe(ConnectionState("rejected", "expired", "expiry"))
        assert expired.label == verdicts.reason_label(Reason.EXPIRED)
        assert expired.advice == verdicts.advice(Reason.EXPIRED, rejected=True)
        pending = alerts.describe(ConnectionState("pending_activation", "pending_activation"))
        assert pending.advice == verdicts.advice("pending_activation", rejected=False)
        other = alerts.describe(ConnectionState("rejected", "other_shop", "shop"))
        assert "?" not in other.advice  # the screens' shop name is not in a state


@pytest.fixture
def shop():
    return make_shop(store=make_store(name="楽天の店舗"), mall_code="rakuten", name="楽天本店")


@pytest.fixture
def dated_sandbox(make_sandbox):
    return make_sandbox(min_interval=0, today=lambda: date(2026, 12, 5))


@pytest.fixture
def rms(dated_sandbox, make_client):
    return make_client(dated_sandbox.url)


def test_a_key_rms_stops_accepting_e_mails_the_store_once_then_once_when_fixed(
    shop, rms, dated_sandbox, smtp, django_capture_on_commit_callbacks  # noqa: F811
):
    japanese = member(shop.store)
    with django_capture_on_commit_callbacks(execute=True):
        services.save_settings(shop=shop, shop_url="demo-rakuten", client=rms, now=NOW,
                               **keys_of("demo-rakuten"))
    connection = RakutenConnection.objects.get(shop=shop)
    assert connection.status == Status.VERIFIED
    assert smtp.received == []  # a first success is no news

    # The merchant issued a new key in RMS: the saved one is refused from now on.
    demo = dated_sandbox.emulator.shops["demo-rakuten"]
    dated_sandbox.emulator.shops["demo-rakuten"] = dataclasses.replace(
        demo, license_key="SL900001_reissued"
    )
    for days in (1, 2, 3):
        with django_capture_on_commit_callbacks(execute=True):
            services.recheck(RakutenConnection.objects.get(pk=connection.pk), client=rms,
                             now=NOW + timedelta(days=days))
    assert RakutenConnection.objects.get(pk=connection.pk).status == Status.REJECTED

    mail, = smtp.to(japanese.email)
    assert mail.subject == "[GoQSystem] 楽天本店: 楽天市場との接続が切れました"
    with translation.override("ja"):
        expected = alerts.describe(ConnectionState("rejected", "unauthorised", "expiry"))
    assert expected.label in mail.text and expected.advice in mail.text
    assert "https://goq.example" + alerts.shop_path(shop) in mail.text
    assert ShopAlert.objects.filter(shop=shop, closed_at=None).count() == 1

    with django_capture_on_commit_callbacks(execute=True):
        services.save_settings(
            shop=shop, shop_url="demo-rakuten", license_key="SL900001_reissued",
            client=rms, now=NOW + timedelta(days=4),
        )
    assert RakutenConnection.objects.get(pk=connection.pk).status == Status.VERIFIED
    assert [m.subject for m in smtp.to(japanese.email)][1:] == [
        "[GoQSystem] 楽天本店: 楽天市場との接続が復旧しました"
    ]
    assert list(AlertMessage.objects.values_list("kind", flat=True).order_by("pk")) == [
        Kind.BROKEN, Kind.FIXED
    ]
    for received in smtp.received:
        text = received.everything()
        assert "SL900001" not in text and "SP900001" not in text


def test_the_staff_digest_lists_shops_whose_key_expires_within_14_days(smtp):  # noqa: F811
    staff = digest_staff(email="staff@goq.example")
    english = digest_staff(email="staff-en@goq.example")
    AlertPreference.objects.create(user=english, language="en")
    today = date(2026, 12, 5)
    for days, name in [(20, "まだ先"), (9, "九日後"), (2, "二日後"), (-1, "昨日切れた")]:
        RakutenConnection.objects.create(
            shop=make_shop(store=make_store(name="楽天の店舗"), mall_code="rakuten", name=name),
            status=Status.VERIFIED, expires_on=today + timedelta(days=days),
        )

    assert digest.queue_staff_digest(now=NOW) == 2  # nothing broke: the expiring keys alone
    outbox.send_due(now=NOW)

    ja, = smtp.to(staff.email)
    upcoming = ja.text.split("まもなく店舗様の対応が必要なショップ")[1]
    assert "楽天市場: licenseKeyの有効期限が14日以内: 2" in upcoming
    assert upcoming.index("楽天の店舗 / 二日後 (有効期限 2026-12-07)") < upcoming.index(
        "楽天の店舗 / 九日後 (有効期限 2026-12-14)"
    )
    assert "まだ先" not in upcoming and "昨日切れた" not in upcoming
    assert "https://goq.example" + overview.changelist_url({"expiry": "expiring"}) in upcoming
    en, = smtp.to(english.email)
    assert "Rakuten Ichiba: licenseKey expires within 14 days: 2" in en.text
