"""MakeShop's update notifications: the endpoint, the recording service and the sample command."""

import threading
import urllib.error
import urllib.parse
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.core.management import call_command
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from malls.makeshop import notification_records as notifications
from malls.makeshop import notifications as makeshop_notifications
from malls.makeshop import services as makeshop_services
from malls.makeshop.models import MakeShopConnection, NotificationEvent, OrderRefreshRequest
from malls.makeshop.notification_records import Kind
from tests.factories import make_connection

pytestmark = pytest.mark.django_db

# In the middle of a dedup window, so a test's deliveries never straddle two windows.
MID_WINDOW = datetime.fromtimestamp(
    (1_800_000_000 // NotificationEvent.DEDUP_WINDOW_SECONDS + 0.5)
    * NotificationEvent.DEDUP_WINDOW_SECONDS,
    tz=UTC,
)


def base_path(token: str) -> str:
    return reverse("makeshop_notify:receive", kwargs={"token": token})


def in_path(token: str, shop_id: str, order_number: str, command: str) -> str:
    return f"{base_path(token)}{shop_id}/{order_number}/{command}/"


@pytest.fixture
def connection():
    return make_connection(makeshop_shop_id="demo-shop")


@pytest.fixture
def clock():
    """The clock stands still mid-window; ``clock.move_to(at)`` sets it.

    time-machine stops the clocks themselves (``time.time``, ``datetime.now``), so
    whichever module reads the time, and however it imported it, sees the same moment.
    """
    with time_machine.travel(MID_WINDOW, tick=False) as traveller:
        yield traveller


def only_event():
    return NotificationEvent.objects.get()


# --- Accepted formats -----------------------------------------------------------------


def test_values_in_the_path_are_recorded_and_the_order_marked_for_refresh(
    client, connection, clock
):
    response = client.get(in_path(connection.notification_token, "demo-shop", "10001", "order"))

    assert response.status_code == 200
    assert response.content == b"OK"
    event = only_event()
    assert (event.connection_id, event.kind, event.order_number, event.raw_command) == (
        connection.pk, Kind.NEW_ORDER, "10001", "order"
    )
    assert event.received_at == MID_WINDOW
    assert event.repeats == 0
    refresh = OrderRefreshRequest.objects.get()
    assert (refresh.connection_id, refresh.order_number, refresh.fulfilled_at) == (
        connection.pk, "10001", None
    )
    connection.refresh_from_db()
    assert connection.last_notification_at == MID_WINDOW
    assert connection.last_notification_kind == Kind.NEW_ORDER


def test_values_in_the_query_string_of_a_get_are_accepted(client, connection):
    response = client.get(
        base_path(connection.notification_token),
        {"shopid": "demo-shop", "ordernum": "A-20", "cmd": "cancel"},
    )

    assert response.status_code == 200
    assert (only_event().kind, only_event().order_number) == (Kind.ORDER_CANCELLED, "A-20")


def test_a_posted_form_is_accepted_without_a_csrf_token(connection):
    client = Client(enforce_csrf_checks=True)

    response = client.post(
        base_path(connection.notification_token),
        {"shop_id": "demo-shop", "order_num": "777", "cmd": "入金完了時"},
    )

    assert response.status_code == 200
    assert (only_event().kind, only_event().order_number) == (Kind.PAYMENT_COMPLETED, "777")
    assert only_event().raw_command == "入金完了時"


def test_a_json_object_body_is_accepted(client, connection):
    response = client.post(
        base_path(connection.notification_token),
        {"shopid": "demo-shop", "ordernum": 42, "cmd": "shipped"},
        content_type="application/json",
    )

    assert response.status_code == 200
    assert (only_event().kind, only_event().order_number) == (Kind.DELIVERY_COMPLETED, "42")


def test_a_url_encoded_body_with_another_content_type_is_read(client, connection):
    response = client.post(
        base_path(connection.notification_token),
        "shopid=demo-shop&ordernum=5&cmd=modify",
        content_type="text/plain",
    )

    assert response.status_code == 200
    assert only_event().kind == Kind.ORDER_EDITED


def test_the_path_wins_over_the_body_and_the_body_over_the_query_string(client, connection):
    path = in_path(connection.notification_token, "demo-shop", "[ORDERNUM]", "[CMD]")

    client.post(f"{path}?ordernum=from-query&cmd=edit", {"ordernum": "from-body"})

    event = only_event()
    assert (event.order_number, event.kind) == ("from-body", Kind.ORDER_EDITED)


@pytest.mark.parametrize(
    "suffix", ["[SHOPID]/[ORDERNUM]/[CMD]/", "%5BSHOPID%5D/%5BORDERNUM%5D/%5BCMD%5D/"]
)
def test_placeholders_left_unsubstituted_count_as_missing(client, connection, suffix):
    response = client.get(base_path(connection.notification_token) + suffix)

    assert response.status_code == 200
    event = only_event()
    assert (event.kind, event.order_number, event.raw_command) == (Kind.OTHER, "", "")
    assert not OrderRefreshRequest.objects.exists()  # no order to fetch


@pytest.mark.parametrize(
    "suffix", ["demo-shop/900/order", "/900/order/", "demo-shop//order/"],
    ids=["no trailing slash", "empty shop ID", "empty order number"],
)
def test_urls_missing_a_slash_or_a_value_are_still_accepted(client, connection, suffix):
    response = client.post(base_path(connection.notification_token) + suffix)

    assert response.status_code == 200
    assert only_event().kind == Kind.NEW_ORDER


def test_the_bare_token_without_a_trailing_slash_is_accepted(client, connection):
    path = base_path(connection.notification_token).rstrip("/")

    assert client.post(path, {"cmd": "order", "ordernum": "1"}).status_code == 200


def test_the_sender_address_is_the_peer_not_a_forwarded_for_header(client, connection):
    client.get(
        base_path(connection.notification_token),
        REMOTE_ADDR="203.0.113.9", HTTP_X_FORWARDED_FOR="198.51.100.1",
    )

    assert only_event().sender_address == "203.0.113.9"


def test_a_forwarded_for_header_counts_only_from_a_trusted_proxy(client, connection, settings):
    settings.TRUSTED_PROXIES = ["10.0.0.0/8"]

    client.get(
        base_path(connection.notification_token),
        REMOTE_ADDR="10.1.2.3", HTTP_X_FORWARDED_FOR="203.0.113.9",
    )

    assert only_event().sender_address == "203.0.113.9"


def test_only_get_and_post_are_allowed(client, connection):
    response = client.put(base_path(connection.notification_token))

    assert response.status_code == 405
    assert not NotificationEvent.objects.exists()


# --- Refused notifications ------------------------------------------------------------


def test_a_shop_id_other_than_the_saved_one_is_accepted_and_recorded_for_staff(
    client, connection
):
    """The URL's token proves the sender; nothing says [SHOPID] is the login shop ID."""
    response = client.get(in_path(connection.notification_token, "other-shop", "1", "order"))

    assert response.status_code == 200
    event = only_event()
    assert (event.received_shop_id, event.order_number) == ("other-shop", "1")
    assert OrderRefreshRequest.objects.filter(order_number="1").exists()
    connection.refresh_from_db()
    assert connection.last_notification_at is not None


def test_the_shop_id_is_compared_without_regard_to_case(client, connection):
    response = client.get(in_path(connection.notification_token, "Demo-Shop", "1", "order"))

    assert response.status_code == 200
    assert only_event().received_shop_id == ""


def test_a_notification_without_a_shop_id_is_not_flagged(client, connection):
    response = client.get(base_path(connection.notification_token), {"ordernum": "7"})

    assert response.status_code == 200
    assert only_event().received_shop_id == ""


@pytest.mark.parametrize("order_number", ["12 34", "1;DROP", "x" * 65, "注文1"])
def test_an_order_number_that_is_not_letters_and_digits_is_refused(
    client, connection, order_number
):
    response = client.get(
        base_path(connection.notification_token), {"ordernum": order_number, "cmd": "order"}
    )

    assert response.status_code == 400
    assert not NotificationEvent.objects.exists()


def test_an_unreadable_json_body_is_refused(client, connection):
    response = client.post(
        base_path(connection.notification_token), "{nope", content_type="application/json"
    )

    assert response.status_code == 400
    assert not NotificationEvent.objects.exists()


# --- Tokens ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "token",
    ["A" * 43, "short", "not a token!", "トークン" * 5],
    ids=["well-formed but unknown", "too short", "bad characters", "non-ASCII"],
)
def test_a_wrong_token_gets_a_tiny_404(client, connection, token):
    response = client.post(base_path(token), {"shopid": "demo-shop", "cmd": "order"})

    assert response.status_code == 404
    assert len(response.content) < 20
    assert not NotificationEvent.objects.exists()


def test_a_retired_token_gets_a_404(client, connection):
    MakeShopConnection.objects.filter(pk=connection.pk).update(
        previous_notification_token="R" * 43,
        previous_token_expires_at=timezone.now() - timedelta(seconds=1),
    )

    assert client.get(base_path("R" * 43)).status_code == 404


def test_after_rotation_the_old_token_works_for_24_hours_and_then_stops(
    client, connection, clock
):

    clock.move_to(MID_WINDOW)
    old_token = connection.notification_token
    rotated = makeshop_services.rotate_notification_token(connection=connection)
    new_token = rotated.notification_token
    assert new_token != old_token

    clock.move_to(MID_WINDOW + timedelta(hours=23, minutes=59))
    assert client.get(base_path(old_token), {"cmd": "order"}).status_code == 200
    assert client.get(base_path(new_token), {"cmd": "order"}).status_code == 200

    clock.move_to(MID_WINDOW + timedelta(hours=24, seconds=1))
    assert client.get(base_path(old_token), {"cmd": "order"}).status_code == 404
    assert client.get(base_path(new_token), {"cmd": "order"}).status_code == 200


def test_find_connection_confirms_the_token_and_respects_the_grace_period(connection):
    now = timezone.now()
    MakeShopConnection.objects.filter(pk=connection.pk).update(
        previous_notification_token="P" * 43, previous_token_expires_at=now + timedelta(hours=1)
    )

    assert notifications.find_connection(connection.notification_token).pk == connection.pk
    assert notifications.find_connection("P" * 43, now=now).pk == connection.pk
    assert notifications.find_connection("P" * 43, now=now + timedelta(hours=2)) is None
    assert notifications.find_connection("Q" * 43, now=now) is None


# --- Abuse limits ---------------------------------------------------------------------


def test_an_oversized_body_gets_413_and_nothing_is_recorded(client, connection):
    body = "shopid=demo-shop&cmd=order&pad=" + "x" * notifications.MAX_BODY_BYTES

    response = client.post(
        base_path(connection.notification_token), body,
        content_type="application/x-www-form-urlencoded",
    )

    assert response.status_code == 413
    assert not NotificationEvent.objects.exists()


def test_the_declared_length_is_refused_before_any_body_is_read(client, connection):
    response = client.generic(
        "POST", base_path(connection.notification_token), b"",
        CONTENT_LENGTH=str(notifications.MAX_BODY_BYTES + 1),
    )

    assert response.status_code == 413


def test_a_token_called_too_often_gets_429_and_other_tokens_do_not(
    client, connection, monkeypatch
):
    monkeypatch.setattr(notifications, "RATE_LIMIT", 3)
    other = make_connection()
    path = base_path(connection.notification_token)

    statuses = [client.get(path, {"ordernum": n, "cmd": "order"}).status_code for n in range(4)]

    assert statuses == [200, 200, 200, 429]
    assert 0 < int(client.get(path).headers["Retry-After"]) <= notifications.RATE_WINDOW_SECONDS
    assert NotificationEvent.objects.count() == 3
    assert client.get(base_path(other.notification_token)).status_code == 200


def test_a_sender_guessing_tokens_is_slowed_down_without_blocking_valid_tokens(
    client, connection, monkeypatch
):
    monkeypatch.setattr(notifications, "MISS_LIMIT", 2)

    statuses = [client.get(base_path(f"{n}" * 43)).status_code for n in range(3)]

    assert statuses == [404, 404, 429]
    assert client.get(base_path(connection.notification_token)).status_code == 200


def test_wrong_tokens_are_counted_per_sender_network():
    assert notifications.sender_rate_key("203.0.113.9") == "notify-miss:203.0.113.9"
    assert notifications.sender_rate_key("2001:db8::1") == notifications.sender_rate_key(
        "2001:db8::ffff"
    )
    assert notifications.sender_rate_key(None) == "notify-miss:unknown"


def test_refusals_are_logged_without_the_token(client, connection, monkeypatch, caplog):
    monkeypatch.setattr(notifications, "RATE_LIMIT", 1)
    token = connection.notification_token

    with caplog.at_level("DEBUG"):
        client.get(in_path(token, "demo-shop", "1;DROP", "order"))  # 400
        client.get(in_path(token, "demo-shop", "1", "order"))  # 429
        client.put(base_path(token))  # 405

    assert "refused" in caplog.text and "rate limit" in caplog.text
    assert token not in caplog.text


# --- Repeats --------------------------------------------------------------------------


def test_a_repeated_notification_counts_into_the_first_event(client, connection, clock):
    path = in_path(connection.notification_token, "demo-shop", "500", "order")

    client.get(path)
    clock.move_to(MID_WINDOW + timedelta(seconds=30))
    client.post(path)

    event = only_event()
    assert event.repeats == 1
    assert event.received_at == MID_WINDOW
    assert OrderRefreshRequest.objects.count() == 1
    connection.refresh_from_db()
    assert connection.last_notification_at == MID_WINDOW + timedelta(seconds=30)


def test_another_event_for_the_same_order_is_its_own_event_and_keeps_one_refresh(
    client, connection
):
    for command in ("order", "payment"):
        client.get(in_path(connection.notification_token, "demo-shop", "500", command))

    assert sorted(NotificationEvent.objects.values_list("kind", flat=True)) == [
        Kind.NEW_ORDER, Kind.PAYMENT_COMPLETED
    ]
    assert OrderRefreshRequest.objects.count() == 1


def test_the_same_event_in_the_next_window_is_recorded_again(client, connection, clock):
    path = in_path(connection.notification_token, "demo-shop", "500", "order")

    client.get(path)
    clock.move_to(MID_WINDOW + timedelta(seconds=NotificationEvent.DEDUP_WINDOW_SECONDS))
    client.get(path)

    assert NotificationEvent.objects.count() == 2


def test_a_fulfilled_refresh_is_followed_by_a_new_open_one(client, connection):
    client.get(in_path(connection.notification_token, "demo-shop", "500", "order"))
    OrderRefreshRequest.objects.update(fulfilled_at=timezone.now())

    client.get(in_path(connection.notification_token, "demo-shop", "500", "modify"))

    assert OrderRefreshRequest.objects.filter(fulfilled_at__isnull=True).count() == 1
    assert OrderRefreshRequest.objects.count() == 2


def test_recording_leaves_the_merchants_version_and_updated_at_alone(connection, clock):
    before = MakeShopConnection.objects.values_list("version", "updated_at").get(pk=connection.pk)

    notifications.record_notification(
        connection=connection, notification=notifications.Notification(kind=Kind.NEW_ORDER)
    )

    after = MakeShopConnection.objects.values_list("version", "updated_at").get(pk=connection.pk)
    assert after == before


def test_a_late_finishing_delivery_does_not_move_the_last_notification_back(connection):
    now = timezone.now()
    for at, kind in ((now, Kind.PAYMENT_COMPLETED), (now - timedelta(seconds=5), Kind.NEW_ORDER)):
        notifications.record_notification(
            connection=connection, notification=notifications.Notification(kind=kind), now=at
        )

    connection.refresh_from_db()
    assert (connection.last_notification_at, connection.last_notification_kind) == (
        now, Kind.PAYMENT_COMPLETED
    )


def test_an_accepted_notification_takes_a_few_queries(
    client, connection, django_assert_max_num_queries
):
    path = in_path(connection.notification_token, "demo-shop", "500", "order")
    client.get(path)  # the rate counter's row exists from here on, as in steady traffic

    with django_assert_max_num_queries(10):
        assert client.get(in_path(connection.notification_token, "demo-shop", "501", "order"))


# --- Concurrency ----------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_ten_concurrent_identical_deliveries_record_exactly_one_event(live_server, clock):
    connection = make_connection(makeshop_shop_id="busy-shop")
    url = live_server.url + base_path(connection.notification_token)
    body = urllib.parse.urlencode({"shopid": "busy-shop", "ordernum": "31337", "cmd": "order"})
    start = threading.Barrier(10)

    def deliver(_):
        request = urllib.request.Request(url, data=body.encode(), method="POST")
        start.wait()
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status

    with ThreadPoolExecutor(max_workers=10) as pool:
        statuses = list(pool.map(deliver, range(10)))

    assert statuses == [200] * 10
    event = NotificationEvent.objects.get()
    assert (event.order_number, event.kind, event.repeats) == ("31337", Kind.NEW_ORDER, 9)
    assert OrderRefreshRequest.objects.filter(fulfilled_at__isnull=True).count() == 1


# --- Command names --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("command", "kind"),
    [
        ("order", Kind.NEW_ORDER),
        ("NEW_ORDER", Kind.NEW_ORDER),
        ("受注時", Kind.NEW_ORDER),
        ("ｊｕｃｈｕ", Kind.NEW_ORDER),
        ("modify", Kind.ORDER_EDITED),
        ("order-update", Kind.ORDER_EDITED),
        ("注文内容修正時", Kind.ORDER_EDITED),
        ("cancel", Kind.ORDER_CANCELLED),
        ("order_cancelled", Kind.ORDER_CANCELLED),
        ("注文キャンセル時", Kind.ORDER_CANCELLED),
        ("取り消し", Kind.ORDER_CANCELLED),
        ("payment", Kind.PAYMENT_COMPLETED),
        ("Payment Completed", Kind.PAYMENT_COMPLETED),
        ("入金完了時", Kind.PAYMENT_COMPLETED),
        ("delivery", Kind.DELIVERY_COMPLETED),
        ("shipped", Kind.DELIVERY_COMPLETED),
        ("配送完了時", Kind.DELIVERY_COMPLETED),
        ("発送完了", Kind.DELIVERY_COMPLETED),
        ("del", Kind.ORDER_CANCELLED),
        ("get", Kind.OTHER),
        ("3", Kind.OTHER),
        ("", Kind.OTHER),
    ],
)
def test_command_names_map_to_events(command, kind):
    assert makeshop_notifications.kind_for_command(command) == kind


def test_an_unknown_command_is_kept_sanitized(client, connection):
    client.get(base_path(connection.notification_token), {"cmd": "weird\x00\u202e cmd\n" * 5})

    event = only_event()
    assert event.kind == Kind.OTHER
    assert "\x00" not in event.raw_command and "\u202e" not in event.raw_command
    assert len(event.raw_command) <= 40
    assert event.raw_command.startswith("weird cmd weird cmd")


# --- The URL shown to merchants, and the sample command -------------------------------


def test_the_url_shown_to_merchants_carries_makeshops_placeholders(connection):
    assert makeshop_notifications.notification_path(connection) == (
        f"/makeshop/notify/{connection.notification_token}/[SHOPID]/[ORDERNUM]/[CMD]/"
    )


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("via", ["path", "query", "form"])
def test_the_sample_command_delivers_a_notification_the_shop_shows(live_server, via, capsys):
    connection = make_connection(makeshop_shop_id="trial-shop")

    call_command(
        "send_sample_notification", "trial-shop", "--base-url", live_server.url,
        "--event", "payment_completed", "--via", via,
    )

    event = only_event()
    assert (event.kind, event.order_number) == (Kind.PAYMENT_COMPLETED, "")
    connection.refresh_from_db()
    assert connection.last_notification_kind == Kind.PAYMENT_COMPLETED
    assert connection.notification_token not in capsys.readouterr().out


def test_the_sample_command_explains_an_unknown_shop():
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="no-such-shop"):
        call_command("send_sample_notification", "no-such-shop")
