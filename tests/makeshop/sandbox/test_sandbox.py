"""The sandbox: MakeShop's shapes, its demo shops and its rate limit."""

import http.client
import json
import threading
import time
from datetime import datetime, timedelta
from urllib.parse import urlencode, urlsplit
from zoneinfo import ZoneInfo

import defusedxml.ElementTree as ET
import pytest

from malls.makeshop.sandbox import DEMO_SHOPS

DEMO = DEMO_SHOPS["demo-shop"]
EUCJP = DEMO_SHOPS["demo-eucjp"]


def call(server, path, *, query=None, form=None):
    """One raw HTTP call: (status, headers, body), whatever the status."""
    parts = urlsplit(server.url)
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=5)
    try:
        target = path + ("?" + urlencode(query) if query else "")
        if form is None:
            connection.request("GET", target)
        else:
            connection.request(
                "POST",
                target,
                body=urlencode(form),
                headers={"Content-Type": "application/x-www-form-urlencoded"},
            )
        response = connection.getresponse()
        return response.status, dict(response.getheaders()), response.read()
    finally:
        connection.close()


def orders(server, shop=DEMO, **query):
    params = {"cmd": "get", "shopid": shop.shop_id, "token": shop.order_token, "service": "t"}
    return call(server, "/api/orderinfo/index.html", query=params | query)


def product(server, shop=DEMO, **form):
    fields = {"shop_id": shop.shop_id, "auth_code": shop.product_code, "process": "search"}
    return call(server, "/api/product/auth/", form=fields | {"response_format": "json"} | form)


def login(server, shop=DEMO, **form):
    return call(
        server, "/api/webftp/index.html", form={"id": shop.shop_id, "pw": shop.password} | form
    )


def xml(body, codec="utf-8"):
    return ET.fromstring(body.decode(codec))


def last_minute():
    end = datetime.now(ZoneInfo("Asia/Tokyo"))
    return {
        "start": (end - timedelta(minutes=1)).strftime("%Y%m%d%H%M%S"),
        "end": end.strftime("%Y%m%d%H%M%S"),
    }


# Rate limit (on a frozen clock, so that scheduling delays cannot blur it) ----------


def test_second_call_within_a_second_for_one_shop_is_refused_and_recorded(sandbox, sandbox_clock):
    first = orders(sandbox, **last_minute())
    sandbox_clock.advance(0.999)
    second = product(sandbox)

    assert first[0] == 200
    assert second[0] == 429
    assert second[1]["Retry-After"] == "1"
    assert json.loads(second[2])["result_data"]["status_code"] == "429"
    assert sandbox.violations == 1
    assert [(c.shop_id, c.endpoint, c.violated) for c in sandbox.calls] == [
        ("demo-shop", "orderinfo", False),
        ("demo-shop", "product_auth", True),
    ]


def test_calls_for_different_shops_do_not_limit_each_other(sandbox, sandbox_clock):
    assert login(sandbox)[0] == 200
    assert login(sandbox, EUCJP)[0] == 200
    assert orders(sandbox, DEMO_SHOPS["demo-pending"])[0] == 200

    assert sandbox.violations == 0


def test_a_call_a_second_later_is_accepted(sandbox, sandbox_clock):
    assert login(sandbox)[0] == 200
    sandbox_clock.advance(1.0)

    assert login(sandbox)[0] == 200
    assert sandbox.violations == 0


def test_refused_calls_count_so_hammering_stays_refused(sandbox, sandbox_clock):
    login(sandbox)
    sandbox_clock.advance(0.6)
    assert login(sandbox)[0] == 429
    sandbox_clock.advance(0.6)  # 1.2 s after the first call, 0.6 s after the refused one

    assert login(sandbox)[0] == 429
    sandbox_clock.advance(1.0)
    assert login(sandbox)[0] == 200
    assert sandbox.violations == 2


def test_the_limit_holds_on_the_real_clock_too(sandbox):
    assert login(sandbox)[0] == 200
    assert login(sandbox)[0] == 429
    time.sleep(1.2)

    assert login(sandbox)[0] == 200


def test_overlapping_calls_for_one_shop_are_refused(make_sandbox):
    sandbox = make_sandbox(latency=1.0, min_interval=0.0)
    statuses = []
    threads = [
        threading.Thread(target=lambda: statuses.append(login(sandbox)[0])) for _ in range(2)
    ]
    for thread in threads:
        thread.start()
        time.sleep(0.2)
    for thread in threads:
        thread.join()

    assert statuses == [429, 200]
    (refused,) = [c for c in sandbox.calls if c.violated]
    (served,) = [c for c in sandbox.calls if not c.violated]
    assert served.started_at < refused.started_at < served.finished_at


def test_rate_limited_order_answer_is_xml(sandbox, sandbox_clock):
    login(sandbox)
    status, _, body = orders(sandbox, **last_minute())

    assert status == 429
    assert xml(body).findtext("code") == "429"


# Order API -------------------------------------------------------------------------


def test_the_last_minute_is_empty_by_default(sandbox):
    """On MakeShop the order check's minute is usually empty: the sandbox's is too."""
    status, headers, body = orders(sandbox, **last_minute())

    assert status == 200
    assert body.startswith(b'<?xml version="1.0" encoding="UTF-8"?>')
    root = xml(body)
    assert (root.tag, list(root)) == ("orders", [])
    assert "X-Sandbox-Invented" not in headers
    assert [f.mode for f in sandbox.order_fetches] == ["period"]


def test_orders_carry_the_field_names_public_clients_read(sandbox):
    status, headers, body = orders(sandbox, EUCJP, **last_minute())

    assert status == 200
    (order,) = xml(body, "euc_jp").findall("order")
    for field in (
        "ordernum", "date", "status", "payment_status", "paymethod/type", "paymethod/content",
        "buyer/name", "buyer/kana", "buyer/zip", "buyer/area", "buyer/city", "buyer/street",
        "buyer/tel", "buyer/email", "deliveries/delivery/delivery_id",
        "deliveries/delivery/carriage/name", "orderdetail/sumprice",
        "orderdetail/commodities/commodity/brandcode",
        "orderdetail/commodities/commodity/orgcode",
    ):
        assert order.findtext(field), field
    delivery = order.find("deliveries/delivery")
    assert delivery.findtext("delivery_id") == "0"  # a single-destination order
    for field in ("deliverydate", "deliverytime", "scheduled_shipping_date", "shipping_date"):
        assert delivery.find(field) is not None, field
    assert order.findtext("buyer/name") == "山田 太郎"
    assert order.find("deliveryid") is None and order.find("orderdetail/product") is None


def test_eucjp_shop_answers_in_eucjp(sandbox):
    status, headers, body = orders(sandbox, EUCJP, **last_minute())

    assert status == 200
    assert body.startswith(b'<?xml version="1.0" encoding="EUC-JP"?>')
    assert "山田 太郎".encode("euc_jp") in body
    assert xml(body, "euc_jp").findtext("order/buyer/name") == "山田 太郎"
    assert headers["Content-Type"] == "text/xml; charset=EUC-JP"


def test_get_without_a_period_moves_the_marker_and_is_recorded(make_sandbox):
    sandbox = make_sandbox(min_interval=0.0)

    first = xml(orders(sandbox)[2])
    second = xml(orders(sandbox)[2])

    assert [o.findtext("ordernum") for o in first] == ["D000000101", "D000000102"]
    assert list(second) == []
    assert [f.mode for f in sandbox.order_fetches] == ["since_last_fetch"] * 2


def test_get_by_order_number_and_cancelled_orders(make_sandbox):
    sandbox = make_sandbox(min_interval=0.0)

    by_number = xml(orders(sandbox, ordernum="D000000102")[2])
    with_cancelled = xml(
        orders(sandbox, start="20000101000000", end="20991231235959", canceled=1)[2]
    )

    assert [o.findtext("status") for o in by_number] == ["99"]
    assert [o.findtext("status") for o in with_cancelled] == ["1", "99", "0"]
    assert [f.mode for f in sandbox.order_fetches] == ["ordernum", "period"]


@pytest.mark.parametrize("cmd", ["deliver", "status"])
def test_deliver_and_status_answer_ok(sandbox, cmd):
    status, _, body = orders(sandbox, cmd=cmd, ordernum="D000000101")

    root = xml(body)
    assert (root.tag, root.findtext("ordernum"), root.findtext("message")) == (
        "response",
        "D000000101",
        "OK",
    )


@pytest.mark.parametrize(
    ("shop_id", "token", "code"),
    [
        ("demo-shop", "f" * 32, "401"),
        ("no-such-shop", "f" * 32, "401"),
        ("demo-pending", DEMO_SHOPS["demo-pending"].order_token, "403"),
    ],
)
def test_order_errors_are_small_xml_documents(sandbox, shop_id, token, code):
    status, _, body = call(
        sandbox,
        "/api/orderinfo/index.html",
        query={"cmd": "get", "shopid": shop_id, "token": token, **last_minute()},
    )

    root = xml(body)
    assert (status, root.tag, root.findtext("code")) == (200, "response", code)
    assert root.findtext("message")
    assert sandbox.order_fetches == []


# Product API and login ------------------------------------------------------------


def test_product_auth_answers_the_real_shape_with_a_temporary_url(sandbox):
    status, headers, body = product(sandbox)

    data = json.loads(body)["result_data"]
    assert status == 200 and headers["Content-Type"].startswith("application/json")
    assert data["status_code"] == "200"  # a string, as in MakeShop's real answer
    assert data["error_message"] is None
    assert data["access_url"].startswith(
        f"{sandbox.url}/api/product/search/?shop_id=demo-shop&access_token="
    )
    expires = datetime.strptime(data["expire_date"], "%Y%m%d%H%M%S")
    now = datetime.now(ZoneInfo("Asia/Tokyo")).replace(tzinfo=None)
    assert timedelta(minutes=4) < expires - now <= timedelta(minutes=5)
    assert "X-Sandbox-Invented" not in headers


@pytest.mark.parametrize(
    ("shop", "code", "expected"),
    [(DEMO, "wrong", "401"), (DEMO_SHOPS["demo-pending"], None, "403")],
)
def test_product_auth_errors_are_marked_invented(sandbox, shop, code, expected):
    form = {"auth_code": code} if code else {}

    _, headers, body = product(sandbox, shop, **form)

    data = json.loads(body)["result_data"]
    assert data["status_code"] == expected and data["error_message"]
    assert headers["X-Sandbox-Invented"] == "yes"


def test_login_answers_an_upload_url_and_a_key(sandbox):
    status, _, body = login(sandbox)

    url, key = body.decode("ascii").splitlines()
    assert status == 200
    assert url.startswith(sandbox.url) and len(key) == 32


@pytest.mark.parametrize("password", ["wrong", DEMO.password[:12], DEMO.password + " "])
def test_login_with_anything_but_the_whole_password_fails(sandbox, password):
    assert login(sandbox, pw=password)[2] == b"FAILURE"


def test_shop_under_maintenance_answers_503_everywhere(make_sandbox):
    sandbox = make_sandbox(min_interval=0.0)
    shop = DEMO_SHOPS["demo-maint"]

    for status, _, body in (
        orders(sandbox, shop),
        product(sandbox, shop),
        login(sandbox, shop),
    ):
        assert status == 503
        assert "メンテナンス" in body.decode("utf-8")


def test_unknown_path_is_404(sandbox):
    assert call(sandbox, "/api/unknown")[0] == 404
    assert sandbox.calls == []


def test_sandbox_logs_no_query_strings(sandbox, caplog):
    caplog.set_level("INFO", logger="malls.makeshop.sandbox")

    orders(sandbox, **last_minute())

    assert "orderinfo" in caplog.text
    assert DEMO.order_token not in caplog.text


# The limit counts from the end of the previous answer ("serial") --------------------


def test_the_limit_counts_from_the_end_of_the_previous_answer(make_sandbox):
    sandbox = make_sandbox(latency=0.6)
    assert login(sandbox)[0] == 200
    time.sleep(0.5)  # 1.1 s after the first call started, 0.5 s after its answer

    assert login(sandbox)[0] == 429
    first, second = sandbox.calls
    assert second.started_at - first.started_at > 1.0
    assert second.started_at - first.finished_at < 1.0


# Alternative plausible answers, per demo shop ---------------------------------------


def test_an_empty_period_can_answer_a_message_document(sandbox):
    status, headers, body = orders(sandbox, DEMO_SHOPS["demo-empty-message"], **last_minute())

    root = xml(body)
    assert (status, root.tag, root.findtext("code")) == (200, "response", None)
    assert "ありません" in root.findtext("message")
    assert headers["X-Sandbox-Invented"] == "yes"


def test_undeclared_eucjp_has_neither_declaration_nor_charset(sandbox):
    _, headers, body = orders(sandbox, DEMO_SHOPS["demo-eucjp-bare"], **last_minute())

    assert body.startswith(b"<orders>")
    assert headers["Content-Type"] == "text/xml"
    assert "山田 太郎".encode("euc_jp") in body


def test_a_retired_api_answers_404_pages_everywhere(make_sandbox):
    sandbox = make_sandbox(min_interval=0.0)
    shop = DEMO_SHOPS["demo-retired"]

    answers = (orders(sandbox, shop), product(sandbox, shop), login(sandbox, shop))
    for status, headers, body in answers:
        assert status == 404 and body.lstrip().startswith(b"<!DOCTYPE html>")
        assert headers["X-Sandbox-Invented"] == "yes"


def test_a_retired_api_can_answer_web_pages(make_sandbox):
    sandbox = make_sandbox(min_interval=0.0)
    status, headers, body = orders(sandbox, DEMO_SHOPS["demo-retired-page"])

    assert status == 200 and headers["Content-Type"].startswith("text/html")
    assert "提供を終了" in body.decode("utf-8")


def test_a_blocking_shop_stays_blocked_after_a_call_too_many(sandbox, sandbox_clock):
    shop = DEMO_SHOPS["demo-block"]
    assert login(sandbox, shop)[0] == 200
    sandbox_clock.advance(0.5)

    assert login(sandbox, shop)[0] == 403  # over the limit: blocked
    sandbox_clock.advance(5)
    status, headers, body = login(sandbox, shop)  # spaced, but still blocked

    assert status == 403 and "制限" in body.decode("utf-8")
    assert headers["X-Sandbox-Invented"] == "yes"
    sandbox_clock.advance(61)
    assert login(sandbox, shop)[0] == 200


def test_every_invented_answer_in_the_code_says_what_was_guessed():
    """Each answer built without a known shape names its guess (``invented=``)."""
    from malls.makeshop.sandbox import answers

    for page in (answers.not_found(), answers.retired(), answers.retired_page(),
                 answers.blocked(), answers.maintenance_page(),
                 answers.rate_limited("orderinfo"), answers.rate_limited("webftp")):
        assert page.invented and ("X-Sandbox-Invented", "yes") in page.all_headers()


def test_the_app_store_commands_never_send_the_webhook_secret_off_this_machine(settings):
    """The request to the sandbox carries GoQ's webhook secret: only a loopback sandbox."""
    import pytest
    from django.core.management import CommandError, call_command

    from malls.makeshop.app import sandbox as app_sandbox

    settings.MAKESHOP_APP_GRAPHQL_URL = "http://127.0.0.1:9/v1/graphql"
    settings.MAKESHOP_APP_ID = app_sandbox.SANDBOX_APP_ID
    settings.MAKESHOP_APP_API_KEY = app_sandbox.SANDBOX_API_KEY
    settings.MAKESHOP_APP_WEBHOOK_SECRET = "s" * 40

    with pytest.raises(CommandError, match="loopback"):
        call_command("makeshop_sandbox", "install-app", "--shop", "demo-app",
                     "--app-url", "http://127.0.0.1:8000",
                     "--sandbox-url", "http://192.0.2.10:8001")
    with pytest.raises(ValueError):
        app_sandbox.remote_control("http://example.invalid:8001", "install", shop_id="x",
                                   app_url="http://127.0.0.1:8000", webhook_secret="s" * 40,
                                   app_id="x")
    assert app_sandbox.is_loopback_host("::1") and app_sandbox.is_loopback_host("localhost")
