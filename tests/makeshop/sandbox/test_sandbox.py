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
    assert json.loads(second[2])["result_data"]["status_code"] == 429
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


def test_orders_in_the_last_minute(sandbox):
    status, headers, body = orders(sandbox, **last_minute())

    assert status == 200
    assert body.startswith(b'<?xml version="1.0" encoding="UTF-8"?>')
    root = xml(body)
    assert root.tag == "orders"
    (order,) = root.findall("order")
    for field in (
        "ordernum",
        "date",
        "status",
        "payment_status",
        "paymethod/type",
        "buyer/name",
        "deliveries/delivery/address",
        "orderdetail/product/name",
    ):
        assert order.findtext(field), field
    assert order.findtext("buyer/name") == "山田 太郎"
    assert [f.mode for f in sandbox.order_fetches] == ["period"]


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


def test_product_auth_answers_json_with_a_temporary_url(sandbox):
    status, headers, body = product(sandbox)

    data = json.loads(body)["result_data"]
    assert status == 200 and headers["Content-Type"].startswith("application/json")
    assert data["status_code"] == 200
    assert data["access_url"].startswith(sandbox.url)


@pytest.mark.parametrize(
    ("shop", "code", "expected"),
    [(DEMO, "wrong", 401), (DEMO_SHOPS["demo-pending"], None, 403)],
)
def test_product_auth_errors(sandbox, shop, code, expected):
    form = {"auth_code": code} if code else {}

    data = json.loads(product(sandbox, shop, **form)[2])["result_data"]

    assert data["status_code"] == expected and data["message"]


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
