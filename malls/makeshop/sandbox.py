"""A MakeShop stand-in for trials and tests, built on the standard library alone.

``manage.py makeshop_sandbox`` serves it for trials; tests start one on a free
port with ``make_server(...).start_in_thread()``. It answers the calls our client
makes, in the shapes described in ``makeshop-api.md``, and it notices callers that
break MakeShop's rate limit, so our own limiter is tested against something that
would complain.

Demo shops (the codes are sandbox-only and worthless anywhere else):

| shop id        | order auth code (`token`)        | product auth code | main admin password   |
| -------------- | -------------------------------- | ----------------- | --------------------- |
| `demo-shop`    | 0123456789abcdef0123456789abcdef | demo-product-0001 | demo-admin-password   |
| `demo-eucjp`   | fedcba9876543210fedcba9876543210 | demo-product-0002 | demo-eucjp-password   |
| `demo-pending` | 0000000000000000ffffffffffffffff | demo-product-0003 | demo-pending-password |
| `demo-maint`   | ffffffffffffffff0000000000000000 | demo-product-0004 | demo-maint-password   |

- `demo-shop` answers in UTF-8.
- `demo-eucjp` answers its XML in EUC-JP (Japanese names and addresses included).
- `demo-pending` has not had API use approved by MakeShop yet: order and product
  calls answer "not enabled" whatever the code; the login works.
- `demo-maint` answers every call with an HTTP 503 maintenance page.

Answers (MakeShop publishes no error codes: the codes below are our assumption,
and the client matches them loosely):

- Orders, ``cmd=get``: HTTP 200, ``<orders>`` holding the demo orders in the
  asked period (one is always placed 30 s before the call, so a "last minute"
  query finds it), or the one ``ordernum``; ``canceled=1`` adds the cancelled
  one. Without a period or order number the orders since the previous such call
  are returned and the shop's "last fetched" marker moves, as on MakeShop; every
  ``cmd=get`` is recorded in ``order_fetches`` so tests can see which kind it was.
- Orders, ``cmd=deliver`` / ``cmd=status``: ``<response>`` with ``ordernum``,
  ``code`` 200 and ``message`` OK.
- Wrong token or unknown shop: HTTP 200,
  ``<response><code>401</code><message>認証に失敗しました…</message></response>``;
  the product API answers ``{"result_data": {"status_code": 401, "message": …}}``
  and the login answers ``FAILURE``.
- API use not approved (``demo-pending``): the same shapes with code 403 and a
  message saying 承認されていません ("not approved").
- Rate limit: per shop id, across every endpoint, a call that starts less than
  ``min_interval`` (1 s) after the shop's previous call, or while another call
  for the shop is in flight, gets HTTP 429 with ``Retry-After: 1`` and code 429
  in the endpoint's format, and is recorded as a violation. Refused calls count
  as calls: hammering keeps being refused.
"""

import contextlib
import json
import logging
import re
import secrets
import socketserver
import threading
import xml.etree.ElementTree as ET  # noqa: S405 - builds XML only; nothing is parsed here
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from time import monotonic, sleep
from types import MappingProxyType
from typing import NamedTuple
from urllib.parse import parse_qs
from zoneinfo import ZoneInfo

logger = logging.getLogger("malls.makeshop.sandbox")

RATE_LIMIT_INTERVAL = 1.0
MAKESHOP_TZ = ZoneInfo("Asia/Tokyo")
_MAX_FORM_BYTES = 64 * 1024
_CODECS = {"UTF-8": "utf-8", "EUC-JP": "euc_jp"}


@dataclass(frozen=True)
class DemoShop:
    """A shop the sandbox knows, with the codes it accepts."""

    shop_id: str
    order_token: str
    product_code: str
    password: str
    encoding: str = "UTF-8"  # the XML declaration's label: "UTF-8" or "EUC-JP"
    api_enabled: bool = True
    maintenance: bool = False


DEMO_SHOPS: Mapping[str, DemoShop] = MappingProxyType(
    {
        shop.shop_id: shop
        for shop in (
            DemoShop(
                "demo-shop",
                "0123456789abcdef0123456789abcdef",
                "demo-product-0001",
                "demo-admin-password",
            ),
            DemoShop(
                "demo-eucjp",
                "fedcba9876543210fedcba9876543210",
                "demo-product-0002",
                "demo-eucjp-password",
                encoding="EUC-JP",
            ),
            DemoShop(
                "demo-pending",
                "0000000000000000ffffffffffffffff",
                "demo-product-0003",
                "demo-pending-password",
                api_enabled=False,
            ),
            DemoShop(
                "demo-maint",
                "ffffffffffffffff0000000000000000",
                "demo-product-0004",
                "demo-maint-password",
                maintenance=True,
            ),
        )
    }
)


class SandboxCall(NamedTuple):
    """One call as the sandbox saw it; times are ``monotonic()`` values."""

    shop_id: str
    endpoint: str  # "orderinfo", "product_auth" or "webftp"
    started_at: float
    finished_at: float
    violated: bool


class OrderFetch(NamedTuple):
    """One ``cmd=get``: ``mode`` is "period", "ordernum" or "since_last_fetch"."""

    shop_id: str
    mode: str
    start: str
    end: str


@dataclass(frozen=True)
class _Answer:
    status: int
    body: bytes
    content_type: str
    headers: tuple[tuple[str, str], ...] = ()


class SandboxServer(ThreadingHTTPServer):
    """The sandbox: a threaded HTTP server that records every call it answers."""

    daemon_threads = True

    def __init__(
        self,
        address: tuple[str, int] = ("127.0.0.1", 0),
        *,
        shops: Mapping[str, DemoShop] = DEMO_SHOPS,
        latency: float = 0.0,
        min_interval: float = RATE_LIMIT_INTERVAL,
    ):
        self.shops = dict(shops)
        self.latency = latency
        self.min_interval = min_interval
        self._lock = threading.Lock()
        self._calls: list[SandboxCall] = []
        self._order_fetches: list[OrderFetch] = []
        self._last_started: dict[str, float] = {}
        self._in_flight: set[str] = set()
        self._fetched_until: dict[str, datetime] = {}
        self._thread: threading.Thread | None = None
        super().__init__(address, _Handler)

    def server_bind(self):
        # HTTPServer.server_bind looks the host name up in DNS, which can stall.
        socketserver.TCPServer.server_bind(self)
        self.server_name, self.server_port = self.server_address[:2]

    @property
    def url(self) -> str:
        host, port = self.server_address[:2]
        return f"http://{host}:{port}"

    @property
    def calls(self) -> list[SandboxCall]:
        with self._lock:
            return list(self._calls)

    @property
    def violations(self) -> int:
        return sum(call.violated for call in self.calls)

    @property
    def order_fetches(self) -> list[OrderFetch]:
        with self._lock:
            return list(self._order_fetches)

    def start_in_thread(self) -> "SandboxServer":
        self._thread = threading.Thread(
            target=self.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )
        self._thread.start()
        return self

    def shutdown(self) -> None:
        """Stop serving (if serving in a thread) and release the port."""
        if self._thread is not None:
            super().shutdown()
            self._thread.join()
            self._thread = None
        self.server_close()

    def __exit__(self, *exc_info):
        self.shutdown()

    @property
    def in_flight(self) -> frozenset[str]:
        """Shops with a call being answered right now."""
        with self._lock:
            return frozenset(self._in_flight)

    @contextlib.contextmanager
    def _admit(self, shop_id: str, endpoint: str):
        """Apply the per-shop rate limit to one call and record it."""
        started = monotonic()
        with self._lock:
            previous = self._last_started.get(shop_id)
            violated = bool(shop_id) and (
                shop_id in self._in_flight
                or (previous is not None and started - previous < self.min_interval)
            )
            if shop_id:
                self._last_started[shop_id] = started
                if not violated:
                    self._in_flight.add(shop_id)
        try:
            yield violated
        finally:
            with self._lock:
                if not violated:
                    self._in_flight.discard(shop_id)
                self._calls.append(SandboxCall(shop_id, endpoint, started, monotonic(), violated))

    def _record_fetch(self, fetch: OrderFetch) -> None:
        with self._lock:
            self._order_fetches.append(fetch)

    def _move_marker(self, shop_id: str, now: datetime) -> datetime | None:
        with self._lock:
            previous = self._fetched_until.get(shop_id)
            self._fetched_until[shop_id] = now
            return previous


def make_server(
    host: str = "127.0.0.1",
    port: int = 0,
    *,
    shops: Mapping[str, DemoShop] = DEMO_SHOPS,
    latency: float = 0.0,
    min_interval: float = RATE_LIMIT_INTERVAL,
) -> SandboxServer:
    """A sandbox bound to ``host:port`` (0: a free port), not yet serving."""
    return SandboxServer((host, port), shops=shops, latency=latency, min_interval=min_interval)


class _Handler(BaseHTTPRequestHandler):
    server: SandboxServer
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # headers and body leave as separate writes

    def do_GET(self):
        self._serve()

    def do_POST(self):
        self._serve()

    def _serve(self):
        path, _, query = self.path.partition("?")
        params = self._params(query)
        route = _ROUTES.get(path)
        if route is None:
            self._send(_Answer(404, b"<html><body>Not Found</body></html>", _HTML))
            return
        endpoint, shop_parameter, route_answer = route
        shop_id = params.get(shop_parameter, "")
        shop = self.server.shops.get(shop_id)
        with self.server._admit(shop_id, endpoint) as violated:
            if violated:
                answer = _rate_limited(endpoint)
            elif shop is not None and shop.maintenance:
                answer = _maintenance_page()
            else:
                sleep(self.server.latency)
                answer = route_answer(self.server, shop, params)
        # Sent once the call is recorded and over: a caller that has the answer
        # can read ``calls`` and may call again without overlapping this one.
        self._send(answer)

    def _params(self, query: str) -> dict[str, str]:
        """Query and form fields, the last value of each winning."""
        length = int(self.headers.get("Content-Length") or 0)
        if length > _MAX_FORM_BYTES:
            self.close_connection = True  # the rest of the body is left unread
        form = self.rfile.read(min(length, _MAX_FORM_BYTES)).decode("ascii", "replace")
        fields = parse_qs(query, keep_blank_values=True) | parse_qs(form, keep_blank_values=True)
        return {name: values[-1] for name, values in fields.items()}

    def _send(self, answer: _Answer) -> None:
        with contextlib.suppress(ConnectionError):  # the caller gave up: fine
            self.send_response(answer.status)
            self.send_header("Content-Type", answer.content_type)
            self.send_header("Content-Length", str(len(answer.body)))
            for name, value in answer.headers:
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(answer.body)

    def log_message(self, format, *args):
        # Request lines carry the token in their query: log the path only.
        logger.info("%s %s", self.address_string(), _without_queries(format % args))


def _without_queries(text: str) -> str:
    return re.sub(r"\?[^\s\"']*", "?…", text)


# Answers ------------------------------------------------------------------------

_HTML = "text/html; charset=UTF-8"
_JSON = "application/json; charset=UTF-8"
_TEXT = "text/plain; charset=US-ASCII"
_RATE_LIMIT_MESSAGE = "Too Many Requests: one call per second per shop, one at a time"
_AUTH_FAILED = "認証に失敗しました。認証コードを確認してください (authentication failed)"
_NOT_APPROVED = "API連携の利用が承認されていません (API use is not approved for this shop)"


def _orderinfo(server: SandboxServer, shop: DemoShop | None, params) -> _Answer:
    if shop is None:
        return _error_xml(None, "401", _AUTH_FAILED)
    if not shop.api_enabled:
        return _error_xml(shop, "403", _NOT_APPROVED)
    if params.get("token") != shop.order_token:
        return _error_xml(shop, "401", _AUTH_FAILED)
    match params.get("cmd"):
        case "get":
            return _get_orders(server, shop, params)
        case "deliver" | "status":
            ordernum = params.get("ordernum", "")
            if not any(order.ordernum == ordernum for order in _demo_orders(_now())):
                return _error_xml(shop, "404", "注文が見つかりません (no such order)")
            root = ET.Element("response")
            _add(root, "ordernum", ordernum)
            _add(root, "code", "200")
            _add(root, "message", "OK")
            return _xml(shop, root)
        case _:
            return _error_xml(shop, "400", "cmd が正しくありません (unknown cmd)")


def _get_orders(server: SandboxServer, shop: DemoShop, params) -> _Answer:
    now = _now()
    orders = _demo_orders(now)
    start, end = params.get("start", ""), params.get("end", "")
    if ordernum := params.get("ordernum"):
        mode = "ordernum"
        orders = [order for order in orders if order.ordernum == ordernum]
    elif start and end:
        mode = "period"
        try:
            since, until = _parse_moment(start), _parse_moment(end)
        except ValueError:
            return _error_xml(shop, "400", "start / end が正しくありません (yyyymmddhhmmss)")
        orders = [order for order in orders if since <= order.placed_at <= until]
    elif start or end:
        return _error_xml(shop, "400", "start と end は両方指定してください (give both)")
    else:
        mode = "since_last_fetch"
        marker = server._move_marker(shop.shop_id, now)
        orders = [order for order in orders if marker is None or order.placed_at > marker]
    server._record_fetch(OrderFetch(shop.shop_id, mode, start, end))
    if params.get("canceled") != "1":
        orders = [order for order in orders if order.status != "0"]
    root = ET.Element("orders")
    for order in orders:
        root.append(order.element())
    return _xml(shop, root)


def _product_auth(server: SandboxServer, shop: DemoShop | None, params) -> _Answer:
    if shop is None:
        return _result_json(401, _AUTH_FAILED)
    if not shop.api_enabled:
        return _result_json(403, _NOT_APPROVED)
    if params.get("auth_code") != shop.product_code:
        return _result_json(401, _AUTH_FAILED)
    if params.get("response_format", "json") != "json":
        return _result_json(400, "the sandbox answers response_format=json only")
    return _result_json(
        200,
        "OK",
        access_url=f"{server.url}/_sandbox/product/{secrets.token_hex(16)}",
        expires_in=300,
    )


def _webftp(server: SandboxServer, shop: DemoShop | None, params) -> _Answer:
    if shop is None or params.get("pw") != shop.password:
        return _Answer(200, b"FAILURE", _TEXT)
    body = f"{server.url}/_sandbox/upload/{shop.shop_id}\n{secrets.token_hex(16)}\n"
    return _Answer(200, body.encode("ascii"), _TEXT)


_ROUTES = {
    "/api/orderinfo/index.html": ("orderinfo", "shopid", _orderinfo),
    "/api/product/auth/": ("product_auth", "shop_id", _product_auth),
    "/api/product/auth": ("product_auth", "shop_id", _product_auth),
    "/api/webftp/index.html": ("webftp", "id", _webftp),
}


def _rate_limited(endpoint: str) -> _Answer:
    retry = (("Retry-After", "1"),)
    if endpoint == "orderinfo":
        answer = _error_xml(None, "429", _RATE_LIMIT_MESSAGE)
    elif endpoint == "product_auth":
        answer = _result_json(429, _RATE_LIMIT_MESSAGE)
    else:
        answer = _Answer(200, b"TOO MANY REQUESTS", _TEXT)
    return _Answer(429, answer.body, answer.content_type, retry)


def _maintenance_page() -> _Answer:
    page = (
        "<!DOCTYPE html><html lang='ja'><head><meta charset='UTF-8'>"
        "<title>メンテナンス中</title></head><body><h1>ただいまメンテナンス中です</h1>"
        "<p>MakeShop is under maintenance. (sandbox)</p></body></html>"
    )
    return _Answer(503, page.encode("utf-8"), _HTML, (("Retry-After", "3600"),))


def _error_xml(shop: DemoShop | None, code: str, message: str) -> _Answer:
    root = ET.Element("response")
    _add(root, "code", code)
    _add(root, "message", message)
    return _xml(shop, root)


def _xml(shop: DemoShop | None, root: ET.Element) -> _Answer:
    label = shop.encoding if shop is not None else "UTF-8"
    declaration = f'<?xml version="1.0" encoding="{label}"?>\n'
    text = declaration + ET.tostring(root, encoding="unicode")
    body = text.encode(_CODECS[label], errors="xmlcharrefreplace")
    return _Answer(200, body, f"text/xml; charset={label}")


def _result_json(status_code: int, message: str, **extra) -> _Answer:
    data = {"result_data": {"status_code": status_code, "message": message, **extra}}
    return _Answer(200, json.dumps(data, ensure_ascii=False).encode("utf-8"), _JSON)


def _add(parent: ET.Element, tag: str, text: str) -> ET.Element:
    child = ET.SubElement(parent, tag)
    child.text = text
    return child


# Demo orders ----------------------------------------------------------------------


@dataclass(frozen=True)
class _DemoOrder:
    ordernum: str
    placed_at: datetime
    status: str  # 0 cancelled, 1 normal, 99 仮注文 (payment not finished)
    payment_status: str
    paymethod: str
    buyer: str

    def element(self) -> ET.Element:
        order = ET.Element("order")
        _add(order, "ordernum", self.ordernum)
        _add(order, "date", self.placed_at.strftime("%Y-%m-%d %H:%M:%S"))
        _add(order, "status", self.status)
        _add(order, "payment_status", self.payment_status)
        _add(ET.SubElement(order, "paymethod"), "type", self.paymethod)
        buyer = ET.SubElement(order, "buyer")
        _add(buyer, "name", self.buyer)
        _add(buyer, "email", "buyer@example.invalid")
        _add(buyer, "tel", "03-0000-0000")
        delivery = ET.SubElement(ET.SubElement(order, "deliveries"), "delivery")
        _add(delivery, "deliveryid", "1")
        _add(delivery, "name", self.buyer)
        _add(delivery, "zip", "100-0001")
        _add(delivery, "address", "東京都千代田区千代田1-1 サンドボックスビル3階")
        product = ET.SubElement(ET.SubElement(order, "orderdetail"), "product")
        _add(product, "code", "demo-tea-001")
        _add(product, "name", "デモ緑茶 (静岡県産) 100g")
        _add(product, "price", "1200")
        _add(product, "amount", "2")
        return order


def _demo_orders(now: datetime) -> list[_DemoOrder]:
    """Orders dated relative to ``now``: one is always 30 seconds old."""
    return [
        _DemoOrder(
            "D000000101", now - timedelta(seconds=30), "1", "1", "クレジットカード", "山田 太郎"
        ),
        _DemoOrder("D000000102", now - timedelta(days=1), "99", "0", "銀行振込", "佐藤 花子"),
        _DemoOrder("D000000103", now - timedelta(days=2), "0", "0", "代金引換", "鈴木 一郎"),
    ]


def _now() -> datetime:
    return datetime.now(MAKESHOP_TZ).replace(microsecond=0, tzinfo=None)


def _parse_moment(value: str) -> datetime:
    if not re.fullmatch(r"\d{14}", value):
        raise ValueError(value)
    return datetime.strptime(value, "%Y%m%d%H%M%S")  # MakeShop local time, naive
