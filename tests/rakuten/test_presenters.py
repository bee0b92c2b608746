"""The state every list shows of a Rakuten shop: the word, the days left, in one query."""

import io
from datetime import UTC, date, datetime, timedelta

import pytest
from django.core.management import call_command
from django.utils import translation

from malls import crypto, providers
from malls import presenters as generic_presenters
from malls.rakuten import presenters
from malls.rakuten.connections import Status
from malls.rakuten.models import RakutenConnection
from tests.factories import make_shop, make_store

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 12, 5, 3, 0, tzinfo=UTC)  # 12:00 on 2026-12-05 in Japan
TODAY = date(2026, 12, 5)


def connect(store, **fields):
    return RakutenConnection.objects.create(
        shop=make_shop(store=store, mall_code="rakuten"), shop_url=f"s{make_store().pk}",
        service_secret="SP1_secret", license_key="SL1_license", **fields,
    )


@pytest.mark.parametrize(
    ("fields", "label", "tone"),
    [
        ({"status": Status.VERIFIED, "verified_at": NOW, "expires_on": TODAY + timedelta(days=80)},
         "Verified", "ok"),
        ({"status": Status.VERIFIED, "verified_at": NOW, "expires_on": TODAY + timedelta(days=15)},
         "Verified", "ok"),  # the days left are shown from 14 days before
        ({"status": Status.VERIFIED, "verified_at": NOW, "expires_on": TODAY + timedelta(days=14)},
         "Verified (14 days left)", "warning"),
        ({"status": Status.VERIFIED, "verified_at": NOW, "expires_on": TODAY + timedelta(days=1)},
         "Verified (1 day left)", "warning"),
        ({"status": Status.VERIFIED, "verified_at": NOW, "expires_on": TODAY},
         "Verified (expires today)", "warning"),
        ({"status": Status.VERIFIED, "verified_at": NOW, "expires_on": TODAY - timedelta(days=1)},
         "licenseKey expired", "error"),
        ({"status": Status.PENDING_ACTIVATION, "failure_reason": "pending_activation",
          "key_changed_at": NOW}, "Waiting for the new key to become active", "neutral"),
        ({"status": Status.REJECTED, "failure_reason": "unauthorised", "failing_since": NOW},
         "Rejected by Rakuten", "error"),
        ({"status": Status.UNREACHABLE, "failure_reason": "http_5xx", "last_checked_at": NOW},
         "Rakuten could not be reached", "warning"),
    ],
)
def test_the_list_and_staff_read_the_same_state(fields, label, tone):
    store = make_store()
    connection = connect(store, **fields)

    with translation.override("en"):
        (row,) = presenters.list_rows([connection.shop_id], now=NOW).values()
        status = presenters.shop_status(connection, now=NOW)
    assert (row.status.label, row.status.tone) == (label, tone)
    assert (status.label, status.tone) == (label, tone)
    assert row.shop_id == connection.shop_url
    if fields.get("failure_reason"):
        assert row.status.advice  # every refusal or wait says what to do


def test_an_expiring_key_says_when_and_how_to_renew():
    connection = connect(make_store(), status=Status.VERIFIED, verified_at=NOW,
                         expires_on=TODAY + timedelta(days=3))
    with translation.override("ja"):
        status = presenters.shop_status(connection, now=NOW)
    assert status.label == "接続確認済み（残り3日）"
    assert "2026-12-08" in status.advice


def test_a_key_that_cannot_be_decrypted_must_be_entered_again(settings):
    connection = connect(make_store(), status=Status.VERIFIED, verified_at=NOW)
    settings.CREDENTIALS_KEYS = crypto.generate_key_spec("newkey")  # the old key is gone
    connection = RakutenConnection.objects.get(pk=connection.pk)

    with translation.override("en"):
        (row,) = presenters.list_rows([connection.shop_id], now=NOW).values()
        page = presenters.shop_status(connection, now=NOW)
    assert row.status.label == page.label == "Must be entered again"
    assert row.status.tone == "error"


def test_a_shop_without_settings_is_not_configured_and_links_to_its_page():
    shop = make_shop(mall_code="rakuten")
    with translation.override("en"):
        row = presenters.list_rows([shop.pk], now=NOW)[shop.pk]
    assert row.status.label == "Not configured"
    assert row.settings_url == f"/settings/malls/rakuten/{shop.pk}/"


def test_one_query_for_any_number_of_shops(django_assert_num_queries):
    store = make_store()
    for _ in range(30):
        connect(store, status=Status.VERIFIED, verified_at=NOW)
    with django_assert_num_queries(2):  # the shops, then Rakuten's connections
        rows = generic_presenters.shop_rows(store)
    assert len(rows) == 30 and all(row.status.tone == "ok" for row in rows)


def test_housekeeping_runs_rakutens_jobs():
    out = io.StringIO()
    call_command("housekeeping", stdout=out)
    assert "rakuten: re-check keys waiting to become active: 0" in out.getvalue()
    assert "rakuten: re-read licenseKey expiry dates: 0" in out.getvalue()
    assert providers.get("rakuten").periodic_jobs()
