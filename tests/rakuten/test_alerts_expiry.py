"""The licenseKey expiry warnings, day by day (time-machine), through ``manage.py
send_alerts``, the RMS sandbox over HTTP and a real SMTP server: 14, 7, 3 and 1 days
before and on the day, once each; a renewed key cancels the rest; a key saved inside
the window is warned at the next run."""

import dataclasses
from datetime import UTC, date, datetime, time, timedelta
from io import StringIO

import pytest
import time_machine
from django.core.management import call_command

from malls.alerts.models import AlertMessage, AlertPreference
from malls.rakuten import alerts, services
from malls.rakuten.connections import RMS_TZ
from malls.rakuten.models import RakutenConnection
from tests.alerts.conftest import smtp  # noqa: F401  (a real SMTP server)
from tests.alerts.helpers import member
from tests.factories import make_shop, make_store

from .conftest import keys_of

pytestmark = pytest.mark.django_db

SANDBOX_TODAY = date(2026, 12, 5)
SAVED_AT = datetime(2026, 12, 5, 3, 0, tzinfo=UTC)  # 12:00 in Japan
EXPIRES_ON = date(2027, 2, 23)  # demo-rakuten's key: 80 days after the sandbox's today


@pytest.fixture
def dated_sandbox(make_sandbox):
    return make_sandbox(min_interval=0, today=lambda: SANDBOX_TODAY)


@pytest.fixture
def rms(dated_sandbox, make_client):
    return make_client(dated_sandbox.url)


@pytest.fixture
def shop():
    return make_shop(store=make_store(name="楽天の店舗"), mall_code="rakuten", name="楽天本店")


def save(shop, rms, shop_url, *, keys=None, now=SAVED_AT):
    result = services.save_settings(
        shop=shop, shop_url=shop_url, client=rms, now=now, **(keys or keys_of(shop_url))
    )
    assert result.saved
    return RakutenConnection.objects.get(shop=shop)


def warned(days_left: int, expires_on: str) -> list[str]:
    """The subject of the Japanese warning ``days_left`` before ``expires_on``."""
    prefix = "[GoQSystem] 楽天本店: 楽天のlicenseKeyの有効期限"
    if days_left == 0:
        return [f"{prefix}は本日（{expires_on}）までです"]
    return [f"{prefix}まであと{days_left}日です（{expires_on}）"]


def run_send_alerts(day: date, hour: int = 9) -> None:
    """``manage.py send_alerts`` as cron runs it, at ``hour`` in Japan on ``day``."""
    moment = datetime.combine(day, time(hour), tzinfo=RMS_TZ)
    with time_machine.travel(moment, tick=False):
        call_command("send_alerts", stdout=StringIO())


def days(start: date, end: date):
    while start <= end:
        yield start
        start += timedelta(days=1)


def warnings_by_day(smtp, address, first: date, last: date, *, runs_a_day=2) -> dict:  # noqa: F811
    """The subjects e-mailed to ``address`` on each day from ``first`` to ``last``."""
    sent = {}
    for day in days(first, last):
        before = len(smtp.to(address))
        for hour in range(9, 9 + runs_a_day):
            run_send_alerts(day, hour)
        new = [mail.subject for mail in smtp.to(address)[before:]]
        if new:
            sent[day] = new
    return sent


def test_the_store_is_warned_14_7_3_1_days_before_and_on_the_day_once_each(
    shop, rms, smtp  # noqa: F811
):
    japanese = member(shop.store)
    english = member(shop.store)
    AlertPreference.objects.create(user=english, language="en")
    connection = save(shop, rms, "demo-rakuten")
    assert connection.expires_on == EXPIRES_ON

    sent = warnings_by_day(smtp, japanese.email, date(2027, 2, 1), date(2027, 2, 26))

    assert sent == {
        date(2027, 2, 9): warned(14, "2027-02-23"),
        date(2027, 2, 16): warned(7, "2027-02-23"),
        date(2027, 2, 20): warned(3, "2027-02-23"),
        date(2027, 2, 22): warned(1, "2027-02-23"),
        date(2027, 2, 23): warned(0, "2027-02-23"),
    }
    assert [mail.subject for mail in smtp.to(english.email)][-2:] == [
        "[GoQSystem] 楽天本店: The Rakuten licenseKey expires in 1 day (2027-02-23)",
        "[GoQSystem] 楽天本店: The Rakuten licenseKey expires today (2027-02-23)",
    ]
    first = smtp.to(japanese.email)[0]
    # How to renew, as the shop's page says, and the link to it; never a key.
    assert "新しいライセンスキーを発行" in first.text
    assert "serviceSecretは変わりません" in first.text
    assert "https://goq.example" + alerts.shop_path(shop) in first.text
    for mail in smtp.received:
        assert "SL900001" not in mail.everything() and "SP900001" not in mail.everything()
    assert set(AlertMessage.objects.values_list("kind", flat=True)) == {"notice"}


def test_a_renewed_key_cancels_the_rest_of_the_old_dates_warnings(
    shop, rms, dated_sandbox, smtp  # noqa: F811
):
    user = member(shop.store)
    save(shop, rms, "demo-rakuten")
    assert warnings_by_day(smtp, user.email, date(2027, 2, 9), date(2027, 2, 16)).keys() == {
        date(2027, 2, 9), date(2027, 2, 16)
    }

    # The merchant issues a new key in RMS (90 more days) and pastes it here.
    demo = dated_sandbox.emulator.shops["demo-rakuten"]
    dated_sandbox.emulator.shops["demo-rakuten"] = dataclasses.replace(
        demo, license_key="SL900001_renewed", expires_in_days=170
    )
    renewed = save(shop, rms, "demo-rakuten",
                   keys={"license_key": "SL900001_renewed", "service_secret": demo.service_secret},
                   now=datetime(2027, 2, 16, 5, 0, tzinfo=UTC))
    assert renewed.expires_on == date(2027, 5, 24)

    assert warnings_by_day(smtp, user.email, date(2027, 2, 17), date(2027, 2, 28)) == {}
    assert warnings_by_day(smtp, user.email, date(2027, 5, 9), date(2027, 5, 10)) == {
        date(2027, 5, 10): warned(14, "2027-05-24")
    }


def test_a_warning_the_mail_server_held_back_is_not_sent_once_the_key_is_renewed(
    shop, rms, dated_sandbox, smtp  # noqa: F811
):
    user = member(shop.store)
    save(shop, rms, "demo-rakuten")
    warnings_by_day(smtp, user.email, date(2027, 2, 9), date(2027, 2, 9))
    smtp.mode = "tempfail_rcpt"  # the 7-day warning waits for a retry
    run_send_alerts(date(2027, 2, 16))
    held = AlertMessage.objects.get(status="pending")
    assert held.attempts == 1

    demo = dated_sandbox.emulator.shops["demo-rakuten"]
    dated_sandbox.emulator.shops["demo-rakuten"] = dataclasses.replace(
        demo, license_key="SL900001_renewed", expires_in_days=170
    )
    save(shop, rms, "demo-rakuten",
         keys={"license_key": "SL900001_renewed", "service_secret": demo.service_secret},
         now=datetime(2027, 2, 16, 5, 0, tzinfo=UTC))
    smtp.mode = "ok"
    run_send_alerts(date(2027, 2, 16), hour=15)

    assert [mail.subject for mail in smtp.to(user.email)] == warned(14, "2027-02-23")
    held.refresh_from_db()
    assert (held.status, held.last_error) == (
        "cancelled", "withdrawn: the licenseKey was renewed"
    )


def test_a_key_saved_inside_the_window_is_warned_at_the_next_run_then_on_schedule(
    shop, rms, smtp  # noqa: F811
):
    user = member(shop.store)
    connection = save(shop, rms, "demo-expiring")  # 3 days left when saved
    assert connection.expires_on == date(2026, 12, 8)

    run_send_alerts(SANDBOX_TODAY, hour=13)  # the next run after the save at 12:00
    run_send_alerts(SANDBOX_TODAY, hour=14)

    assert [mail.subject for mail in smtp.to(user.email)] == warned(3, "2026-12-08")
    assert warnings_by_day(smtp, user.email, date(2026, 12, 6), date(2026, 12, 10)) == {
        date(2026, 12, 7): warned(1, "2026-12-08"),
        date(2026, 12, 8): warned(0, "2026-12-08"),
    }


def test_a_member_who_turned_alerts_off_is_not_warned(shop, rms, smtp):  # noqa: F811
    quiet = member(shop.store)
    AlertPreference.objects.create(user=quiet, alerts_enabled=False)
    told = member(shop.store)
    save(shop, rms, "demo-expiring")

    run_send_alerts(SANDBOX_TODAY, hour=13)

    assert [rcpt for mail in smtp.received for rcpt in mail.rcpt_tos] == [told.email]


def test_a_key_already_past_its_date_gets_no_warning(shop, smtp):  # noqa: F811
    """RMS refuses it: the store hears of it through the "broken" e-mail instead."""
    member(shop.store)
    RakutenConnection.objects.create(
        shop=shop, shop_url="demo-rakuten", status="verified",
        expires_on=SANDBOX_TODAY - timedelta(days=1),
    )

    run_send_alerts(SANDBOX_TODAY)

    assert smtp.received == []
