"""Saving a shop's settings against the RMS sandbox, and the background jobs, on the real
database: what is written for each of RMS's verdicts."""

import dataclasses
from datetime import UTC, date, datetime, timedelta

import pytest
from django.core.exceptions import ValidationError

from malls.models import ChangeRecord, Mall
from malls.rakuten import services, tasks
from malls.rakuten.api import Reason
from malls.rakuten.connections import Status
from malls.rakuten.models import RakutenConnection
from malls.rakuten.sandbox import SANDBOX_SERVICE_SECRET, Behaviour
from tests.factories import make_shop

from .conftest import keys_of

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 12, 5, 3, 0, tzinfo=UTC)  # 12:00 in Japan


@pytest.fixture
def shop():
    return make_shop(mall_code="rakuten")


@pytest.fixture
def dated_sandbox(make_sandbox):
    return make_sandbox(min_interval=0, today=lambda: date(2026, 12, 5))


@pytest.fixture
def rms(dated_sandbox, make_client):
    return make_client(dated_sandbox.url)


def save(shop, rms, shop_url, *, keys=None, now=NOW, **options):
    return services.save_settings(
        shop=shop, shop_url=shop_url, client=rms, now=now, **(keys or keys_of(shop_url)),
        **options,
    )


def test_accepted_keys_are_saved_encrypted_with_rmss_facts_and_history(shop, rms):
    result = save(shop, rms, "https://www.rakuten.co.jp/demo-rakuten/",
                  keys=keys_of("demo-rakuten"))

    assert result.saved
    connection = RakutenConnection.objects.get(shop=shop)
    assert connection.status == Status.VERIFIED
    assert connection.shop_url == "demo-rakuten"
    assert connection.license_key.reveal() == keys_of("demo-rakuten")["license_key"]
    assert connection.expires_on == date(2027, 2, 23)
    assert connection.reported_shop == "demo-rakuten"
    assert connection.verified_at == NOW == connection.key_changed_at
    raw = RakutenConnection.objects.filter(pk=connection.pk).values_list(
        "license_key", "service_secret").get()
    assert all(value.startswith("gqc1.") for value in raw)
    record = ChangeRecord.objects.get(shop=shop)
    assert record.changes["license_key"] == "changed"  # a secret: never a value, by type
    assert "SL900001" not in str(record.changes)


def test_a_new_key_rms_refuses_at_once_waits_as_pending_not_rejected(shop, rms):
    """RMS cannot tell a key it does not know yet from a mistyped one: within the window
    a refused new key is pending, and the window's end decides."""
    save(shop, rms, "demo-rakuten")
    typo = {"service_secret": "SP900001_sandboxsecret001", "license_key": "SL900001_typo"}

    result = save(shop, rms, "demo-rakuten", keys=typo, now=NOW + timedelta(days=1))

    assert result.saved
    assert result.classification.status is Status.PENDING_ACTIVATION


def test_a_new_key_refused_within_the_window_is_saved_as_pending(shop, rms, dated_sandbox):
    result = save(shop, rms, "demo-pending")

    assert result.saved
    connection = RakutenConnection.objects.get(shop=shop)
    assert connection.status == Status.PENDING_ACTIVATION
    assert connection.failure_reason == Reason.PENDING_ACTIVATION
    assert connection.verified_at is None

    # Ten minutes later the job asks again; RMS has activated the key meanwhile.
    dated_sandbox.emulator.activate("demo-pending")
    assert tasks.recheck_pending(now=NOW + timedelta(minutes=5), client=rms) == 0
    assert tasks.recheck_pending(now=NOW + timedelta(minutes=10), client=rms) == 1
    connection.refresh_from_db()
    assert connection.status == Status.VERIFIED
    assert connection.expires_on is not None


def test_a_pending_key_still_refused_when_the_window_ends_is_rejected(shop, rms):
    save(shop, rms, "demo-pending")
    for minutes in range(10, 100, 10):
        tasks.recheck_pending(now=NOW + timedelta(minutes=minutes), client=rms)
    connection = RakutenConnection.objects.get(shop=shop)
    assert connection.status == Status.REJECTED
    assert connection.failure_reason == Reason.UNAUTHORISED
    assert ChangeRecord.objects.filter(shop=shop, action="rakuten_verified").exists()


def test_keys_refused_outside_any_window_are_not_saved(shop, rms):
    save(shop, rms, "demo-rakuten")
    # The saved key is no longer new; only the shop URL changes, to one the keys do not fit.
    result = save(shop, rms, "demo-expiring", keys=keys_of("demo-rakuten"),
                  now=NOW + timedelta(days=1))
    assert not result.saved
    assert result.classification.reason is Reason.OTHER_SHOP
    assert RakutenConnection.objects.get(shop=shop).shop_url == "demo-rakuten"


@pytest.mark.parametrize(
    ("shop_url", "reason"),
    [("demo-no-orders", Reason.ORDERS_NOT_ENABLED), ("demo-no-expiry", Reason.EXPIRY_NOT_ENABLED),
     ("demo-no-shop", Reason.SHOP_NOT_ENABLED)],
)
def test_functions_not_enabled_are_refused_with_their_reason(shop, rms, shop_url, reason):
    result = save(shop, rms, shop_url)
    assert not result.saved
    assert result.classification.reason is reason
    assert not RakutenConnection.objects.filter(shop=shop).exists()


def test_rms_unreachable_on_a_first_save_keeps_what_was_typed(shop, rms):
    result = save(shop, rms, "demo-down")
    assert result.saved
    connection = RakutenConnection.objects.get(shop=shop)
    assert connection.status == Status.UNREACHABLE
    assert connection.failure_reason == Reason.HTTP_5XX
    assert connection.license_key.reveal() == keys_of("demo-down")["license_key"]


def test_rms_unreachable_never_replaces_verified_keys_without_asking(shop, rms):
    save(shop, rms, "demo-rakuten")
    busy = {"service_secret": keys_of("demo-busy")["service_secret"],
            "license_key": keys_of("demo-busy")["license_key"]}

    result = save(shop, rms, "demo-busy", keys=busy, now=NOW + timedelta(days=1))
    assert not result.saved and result.needs_decision
    connection = RakutenConnection.objects.get(shop=shop)
    assert (connection.shop_url, connection.status) == ("demo-rakuten", Status.VERIFIED)

    kept = save(shop, rms, "demo-busy", keys=busy, now=NOW + timedelta(days=1),
                keep_unverified=True)
    assert kept.saved
    connection.refresh_from_db()
    assert (connection.shop_url, connection.status) == ("demo-busy", Status.UNREACHABLE)


def test_no_verdict_on_unchanged_verified_settings_keeps_them_verified(shop, rms):
    connection = save(shop, rms, "demo-rakuten").connection

    class Down:
        def verify(self, **kwargs):
            from malls.rakuten.api import Check, CheckResult, Outcome, Verification
            return Verification((CheckResult(Check.EXPIRY, Outcome.UNREACHABLE, Reason.TIMEOUT),))

    services.recheck(connection, client=Down(), now=NOW + timedelta(hours=1))
    connection.refresh_from_db()
    assert connection.status == Status.VERIFIED
    assert connection.last_checked_at == NOW + timedelta(hours=1)


def test_goqs_product_model_needs_only_the_license_key(shop, rms, settings):
    settings.RAKUTEN_SERVICE_SECRET = SANDBOX_SERVICE_SECRET
    result = services.save_settings(
        shop=shop, shop_url="demo-rakuten", license_key=keys_of("demo-rakuten")["license_key"],
        client=rms, now=NOW,
    )
    assert result.saved
    connection = RakutenConnection.objects.get(shop=shop)
    assert connection.status == Status.VERIFIED
    assert not connection.service_secret  # GoQ's secret is never copied onto a shop


def test_an_empty_key_keeps_the_saved_one(shop, rms):
    save(shop, rms, "demo-rakuten")
    connection = RakutenConnection.objects.get(shop=shop)
    result = services.save_settings(
        shop=shop, shop_url="demo-rakuten", client=rms, now=NOW + timedelta(days=1),
        expected_version=connection.version,
    )
    assert result.saved
    connection.refresh_from_db()
    assert connection.key_changed_at == NOW  # not a new key
    assert connection.license_key.reveal() == keys_of("demo-rakuten")["license_key"]


def test_a_stale_form_is_refused(shop, rms):
    connection = save(shop, rms, "demo-rakuten").connection
    with pytest.raises(services.ConcurrentEditError):
        services.save_settings(
            shop=shop, shop_url="demo-rakuten", client=rms,
            expected_version=connection.version - 1,
        )


@pytest.mark.parametrize(
    ("shop_url", "keys"),
    [("not a url", keys_of("demo-rakuten")),
     ("demo-rakuten", {"service_secret": "SP 1", "license_key": "SL1"}),
     ("demo-rakuten", {"service_secret": "", "license_key": ""})],
)
def test_input_that_cannot_work_is_refused_before_rms_is_asked(shop, rms, dated_sandbox,
                                                               shop_url, keys):
    with pytest.raises(ValidationError):
        services.save_settings(shop=shop, shop_url=shop_url, client=rms, **keys)
    assert dated_sandbox.calls == []


def test_the_daily_job_rereads_the_expiry_date_and_finds_an_expired_key(shop, rms,
                                                                        dated_sandbox):
    save(shop, rms, "demo-expiring")  # expires 2026-12-08
    connection = RakutenConnection.objects.get(shop=shop)
    assert connection.expires_on == date(2026, 12, 8)

    assert tasks.refresh_expiry_dates(now=NOW + timedelta(hours=1), client=rms) == 0
    assert tasks.refresh_expiry_dates(now=NOW + timedelta(days=1), client=rms) == 1
    assert [call.endpoint for call in dated_sandbox.calls][-1] == "expiry"
    connection.refresh_from_db()
    assert connection.status == Status.VERIFIED

    # The key runs out: RMS now refuses it everywhere (401 GA0001).
    emulator = dated_sandbox.emulator
    emulator.shops["demo-expiring"] = dataclasses.replace(
        emulator.shops["demo-expiring"], behaviour=Behaviour.EXPIRED
    )
    tasks.refresh_expiry_dates(now=NOW + timedelta(days=4), client=rms)
    connection.refresh_from_db()
    assert connection.status == Status.REJECTED
    assert connection.failure_reason == Reason.EXPIRED


def test_warnings_due_come_once_and_stop_after_renewal(shop, rms):
    save(shop, rms, "demo-expiring")  # expires 2026-12-08, 3 days after NOW
    (connection, warning), = tasks.due_warnings(now=NOW)
    assert (warning.days_before, warning.days_left) == (3, 3)
    services.mark_warning_sent(connection, warning)
    assert list(tasks.due_warnings(now=NOW)) == []
    (_, tomorrow), = tasks.due_warnings(now=NOW + timedelta(days=2))
    assert tomorrow.days_before == 1

    # Renewed: a new key with a new date, far away: nothing is due.
    RakutenConnection.objects.filter(shop=shop).update(expires_on=date(2027, 3, 1))
    assert list(tasks.due_warnings(now=NOW + timedelta(days=2))) == []


def test_the_mall_row_for_rakuten_exists():
    assert Mall.objects.filter(code="rakuten").exists()


def test_a_key_goq_cannot_decrypt_is_refused_without_asking_rms(shop, rms, dated_sandbox):
    from malls.crypto import Ciphertext

    mine = save(shop, rms, "demo-rakuten").connection
    other = save(make_shop(mall_code="rakuten"), rms, "demo-expiring").connection
    stolen = RakutenConnection.objects.values_list("license_key", flat=True).get(pk=other.pk)
    RakutenConnection.objects.filter(pk=mine.pk).update(license_key=Ciphertext(str(stolen)))
    calls = len(dated_sandbox.calls)

    mine = RakutenConnection.objects.get(pk=mine.pk)
    assert services.recheck(mine, client=rms, now=NOW).reason is Reason.UNREADABLE
    mine = RakutenConnection.objects.get(pk=mine.pk)
    assert (mine.status, mine.failure_reason) == (Status.REJECTED, Reason.UNREADABLE)
    assert len(dated_sandbox.calls) == calls

    # On the form, the unreadable key counts as none: the merchant enters it again.
    with pytest.raises(ValidationError):
        services.save_settings(shop=shop, shop_url="demo-rakuten", client=rms,
                               service_secret="", license_key="", now=NOW)
    assert save(shop, rms, "demo-rakuten", now=NOW + timedelta(days=1)).saved


def test_saving_unchanged_settings_rms_now_refuses_records_the_refusal(shop, rms,
                                                                        dated_sandbox):
    save(shop, rms, "demo-rakuten")
    emulator = dated_sandbox.emulator
    emulator.shops["demo-rakuten"] = dataclasses.replace(
        emulator.shops["demo-rakuten"], missing=frozenset({"orders"})
    )
    result = services.save_settings(shop=shop, shop_url="demo-rakuten", client=rms,
                                    now=NOW + timedelta(days=1))
    assert not result.saved
    assert result.connection.status == Status.REJECTED
    assert result.connection.failure_reason == Reason.ORDERS_NOT_ENABLED
    assert result.connection.is_broken


def test_settings_rms_gave_no_verdict_on_are_asked_again_after_10_minutes(shop, rms,
                                                                          dated_sandbox):
    save(shop, rms, "demo-down")
    emulator = dated_sandbox.emulator
    emulator.shops["demo-down"] = dataclasses.replace(
        emulator.shops["demo-down"], behaviour=Behaviour.NORMAL
    )
    assert tasks.recheck_pending(now=NOW + timedelta(minutes=9), client=rms) == 0
    assert tasks.recheck_pending(now=NOW + timedelta(minutes=10), client=rms) == 1
    connection = RakutenConnection.objects.get(shop=shop)
    assert connection.status == Status.VERIFIED
    assert connection.failing_since is None
