"""The client against the RMS sandbox over real HTTP: every verdict, and the calls it makes."""

import dataclasses
from datetime import UTC, date, datetime, timedelta

import pytest

from malls import throttle
from malls.models import CallSlot
from malls.rakuten import client as rakuten_client
from malls.rakuten.api import Check, Outcome, Reason
from malls.rakuten.client import get_client
from malls.rakuten.sandbox import DEMO_SHOPS, SANDBOX_SERVICE_SECRET

from .conftest import keys_of

NOW = datetime(2026, 12, 5, 4, 30, 15, tzinfo=UTC)  # 13:30:15 in Japan


def verify(rms, shop_url, *, as_shop=None, **options):
    return rms.verify(shop_url=as_shop or shop_url, **keys_of(shop_url), **options)


def test_working_keys_are_accepted_with_the_expiry_date_and_the_shop(make_sandbox, make_client):
    sandbox = make_sandbox(min_interval=0, today=lambda: date(2026, 12, 5))
    verification = verify(make_client(sandbox.url), "demo-rakuten", now=NOW)

    assert verification.ok
    assert [result.check for result in verification.results] == list(Check)
    assert verification.facts.expires_on == date(2026, 12, 5) + timedelta(days=80)
    assert verification.facts.reported_shop == "demo-rakuten"
    assert [call.endpoint for call in sandbox.calls] == ["expiry", "orders", "shop"]


def test_the_expiry_date_is_read_as_a_day_in_japan(make_sandbox, make_client):
    sandbox = make_sandbox(min_interval=0, today=lambda: date(2027, 1, 10))
    verification = verify(make_client(sandbox.url), "demo-expiring", now=NOW)
    assert verification.facts.expires_on == date(2027, 1, 13)


def test_the_order_search_asks_for_the_last_minute_in_japan_time(rms, sandbox):
    verify(rms, "demo-rakuten", now=NOW)
    (search,) = [call.body for call in sandbox.calls if call.endpoint == "orders"]
    assert search["dateType"] == 1
    assert search["startDatetime"] == "2026-12-05T13:29:15+0900"
    assert search["endDatetime"] == "2026-12-05T13:30:15+0900"


def test_goqs_product_secret_works_with_the_shops_license_key(rms):
    """Model B: GoQ holds the serviceSecret, the merchant pastes only the licenseKey."""
    verification = rms.verify(
        service_secret=SANDBOX_SERVICE_SECRET,
        license_key=keys_of("demo-rakuten")["license_key"],
        shop_url="demo-rakuten",
    )
    assert verification.ok


def test_wrong_keys_are_unauthorised_after_the_order_search_agrees(rms, sandbox):
    verification = rms.verify(
        service_secret="SP900001_sandboxsecret001", license_key="SL900001_wrong", shop_url="x"
    )
    assert verification.outcome is Outcome.REJECTED
    assert verification.reason is Reason.UNAUTHORISED
    assert verification.failed.check is Check.EXPIRY
    assert verification.failed.detail == "ES01-01"
    assert verification.failed.message == "Un-Authorised"
    assert [call.endpoint for call in sandbox.calls] == ["expiry", "orders"]


def test_a_key_refused_after_its_known_expiry_date_is_expired(rms):
    verification = verify(rms, "demo-expired", known_expires_on=date(2026, 11, 30), now=NOW)
    assert verification.reason is Reason.EXPIRED
    assert verification.failed.detail == "GA0001"


def test_a_refused_key_whose_date_is_unknown_or_not_passed_is_only_unauthorised(rms):
    assert verify(rms, "demo-expired", now=NOW).reason is Reason.UNAUTHORISED
    later = verify(rms, "demo-expired", known_expires_on=date(2026, 12, 5), now=NOW)
    assert later.reason is Reason.UNAUTHORISED


def test_an_expiry_date_already_past_is_expired(make_sandbox, make_client):
    sandbox = make_sandbox(min_interval=0, today=lambda: date(2026, 12, 1))
    verification = verify(make_client(sandbox.url), "demo-expiring", now=NOW)  # ends 12-04
    assert verification.reason is Reason.EXPIRED
    assert verification.failed.detail == "2026-12-04"
    assert [call.endpoint for call in sandbox.calls] == ["expiry"]


def test_a_pending_key_is_refused_until_rms_activates_it(rms, sandbox):
    assert verify(rms, "demo-pending").reason is Reason.UNAUTHORISED
    sandbox.emulator.activate("demo-pending")
    assert verify(rms, "demo-pending").ok


def test_order_functions_not_enabled(rms):
    verification = verify(rms, "demo-no-orders")
    assert verification.reason is Reason.ORDERS_NOT_ENABLED
    assert verification.failed.check is Check.ORDERS
    assert verification.facts.expires_on is not None  # the expiry call worked


def test_the_expiry_function_not_enabled_when_the_order_search_works(rms):
    verification = verify(rms, "demo-no-expiry")
    assert verification.reason is Reason.EXPIRY_NOT_ENABLED
    assert verification.failed.check is Check.EXPIRY
    assert verification.facts.expires_on is None
    assert verification.facts.reported_shop == "demo-no-expiry"


def test_the_shop_function_not_enabled(rms):
    verification = verify(rms, "demo-no-shop")
    assert verification.reason is Reason.SHOP_NOT_ENABLED
    assert verification.failed.check is Check.SHOP


def test_keys_of_another_shop_say_which_shop_rms_reports(rms):
    verification = verify(rms, "demo-neighbour", as_shop="demo-rakuten")
    assert verification.reason is Reason.OTHER_SHOP
    assert verification.failed.check is Check.SHOP
    assert verification.failed.detail == "demo-neighbour"
    assert verification.facts.reported_shop == "demo-neighbour"


@pytest.mark.parametrize(
    ("shop_url", "reason", "detail"),
    [("demo-busy", Reason.RATE_LIMITED, "429"), ("demo-down", Reason.HTTP_5XX, "503")],
)
def test_busy_or_down_is_unreachable_after_one_call(rms, sandbox, shop_url, reason, detail):
    verification = verify(rms, shop_url)
    assert verification.outcome is Outcome.UNREACHABLE
    assert (verification.reason, verification.failed.detail) == (reason, detail)
    assert len(sandbox.calls) == 1


def test_a_refused_expiry_call_with_rms_unreachable_after_it_is_no_verdict(serve, make_client):
    def app(environ, start_response):
        if environ["PATH_INFO"].endswith("expiry-date"):
            start_response("401 Unauthorized", [("Content-Type", "application/json")])
            return [b'{"Results":{"errorCode":"ES01-01","message":"Un-Authorised"}}']
        start_response("503 Service Unavailable", [("Content-Type", "text/html")])
        return [b"<html></html>"]

    verification = make_client(serve(app).url).verify(
        service_secret="s", license_key="k", shop_url="x"
    )
    assert verification.outcome is Outcome.UNREACHABLE
    assert verification.failed.check is Check.ORDERS


@pytest.mark.django_db
def test_the_client_spaces_a_shops_calls_so_rms_never_sees_two_within_a_second(
    make_sandbox, make_client
):
    sandbox = make_sandbox()  # RMS's practice: one call per second per shop, end to start
    verification = verify(make_client(sandbox.url, pace=rakuten_client.call_slot),
                          "demo-rakuten")
    assert verification.ok
    assert sandbox.emulator.violations == 0
    assert len(sandbox.calls) == 3
    # Spaced through the database, so every process agrees: Rakuten's own slot and ceiling.
    slots = dict(CallSlot.objects.values_list("pk", "calls"))
    assert slots == {"rakuten:demo-rakuten": 3, "rakuten:*": 3}


@pytest.mark.django_db
def test_a_shop_whose_slot_stays_taken_is_busy_not_an_error(make_sandbox, make_client,
                                                             monkeypatch):
    def taken(shop_url):
        return throttle.call_slot("rakuten", shop_url, rate=rakuten_client.RATE,
                                  wait_timeout=0)

    CallSlot.objects.create(pk="rakuten:demo-rakuten", busy_until=1e18)  # held "for ever"
    sandbox = make_sandbox(min_interval=0)
    verification = verify(make_client(sandbox.url, pace=taken), "demo-rakuten")
    assert verification.reason is Reason.BUSY
    assert sandbox.calls == []


@pytest.mark.parametrize(
    ("status", "headers", "body", "reason"),
    [
        ("302 Found", [("Location", "https://example.com/")], b"", Reason.REDIRECT),
        ("200 OK", [("Content-Type", "text/html")], b"<!DOCTYPE html><html>", Reason.HTML),
        ("200 OK", [("Content-Type", "application/json")], b"", Reason.EMPTY),
        ("200 OK", [("Content-Type", "application/json")], b"{oops", Reason.BAD_JSON),
        ("200 OK", [("Content-Type", "application/json")], b'{"x": 1}', Reason.UNEXPECTED_JSON),
        ("404 Not Found", [("Content-Type", "text/plain")], b"nope", Reason.UNEXPECTED_STATUS),
        ("400 Bad Request", [("Content-Type", "application/json")],
         b'{"Results":{"errorCode":"ES99-99","message":"odd"}}', Reason.UNKNOWN_ERROR),
        ("400 Bad Request", [("Content-Type", "application/json")],
         b'{"Results":{"errorCode":"ES04-01","message":"Bad Request"}}', Reason.UNAUTHORISED),
        ("200 OK", [("Content-Type", "application/json")], b"x" * 70_000, Reason.TOO_LARGE),
    ],
)
def test_answers_rms_never_gave_are_never_success(serve, make_client, status, headers, body,
                                                    reason):
    def app(environ, start_response):
        start_response(status, headers)
        return [body]

    verification = make_client(serve(app).url).verify(
        service_secret="s", license_key="k", shop_url="x"
    )
    assert verification.reason is reason
    assert not verification.ok


def test_nothing_listening_is_unreachable(make_client):
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    verification = make_client(f"http://127.0.0.1:{port}").verify(
        service_secret="s", license_key="k", shop_url="x"
    )
    assert verification.reason is Reason.REFUSED


def test_read_expiry_asks_only_the_expiry_call(rms, sandbox):
    verification = rms.read_expiry(**keys_of("demo-expiring"), shop_url="demo-expiring")
    assert verification.results[0].ok
    assert verification.facts.expires_on is not None
    assert [call.endpoint for call in sandbox.calls] == ["expiry"]


def test_two_functions_missing_are_both_named_never_blamed_on_the_keys(make_sandbox,
                                                                      make_client):
    shop = dataclasses.replace(DEMO_SHOPS["demo-rakuten"], missing=frozenset({"orders", "shop"}))
    sandbox = make_sandbox(min_interval=0, shops={"demo-rakuten": shop})
    verification = verify(make_client(sandbox.url), "demo-rakuten")

    assert [result.reason for result in verification.results] == [
        None, Reason.ORDERS_NOT_ENABLED, Reason.SHOP_NOT_ENABLED
    ]
    assert verification.reason is Reason.ORDERS_NOT_ENABLED


def test_the_shared_client_reads_its_settings(settings, sandbox):
    settings.RAKUTEN_API_BASE_URL = sandbox.url
    settings.RAKUTEN_MAX_CALLS_PER_SECOND = 3
    client = get_client()
    assert client.base_url == sandbox.url
    assert client.pace is rakuten_client.call_slot
    assert throttle.max_calls_per_second(rakuten_client.RATE) == 3
    assert rakuten_client.RATE.spacing == 1.0
