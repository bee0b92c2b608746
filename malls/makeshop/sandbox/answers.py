"""What the sandbox answers each call, in the legacy API's formats.

Shapes that public sources show are copied as they are (``docs/makeshop.md``): the
product API's string ``status_code`` with ``error_message``, ``access_url`` and
``expire_date``; the order XML's field names (``ordernum``, ``buyer{...}``,
``deliveries/delivery`` with ``delivery_id`` 0, ``orderdetail/commodities``); the
login's upload URL and key, or ``FAILURE``. Everything nobody has published is
**invented** here, and built with ``invented=`` naming the guess, so an invented
answer is marked in the code and on the wire (header ``X-Sandbox-Invented``): error
codes and messages, the not-approved answer, maintenance, the rate-limit answer, the
empty-period message, a retired API, a block.
"""

from __future__ import annotations

import json
import re
import secrets
import xml.etree.ElementTree as ET  # noqa: S405 - builds XML only; nothing is parsed here
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import NamedTuple, Protocol
from urllib.parse import urlencode

from ..api import MAKESHOP_TZ, ORDER_INFO_PATH, PRODUCT_AUTH_PATH, WEBFTP_LOGIN_PATH
from .shops import Behaviour, DemoOrder, DemoShop, demo_orders


class SandboxServer(Protocol):
    """What answers need of the server (``server.SandboxServer``)."""

    url: str

    def move_marker(self, shop_id: str, now: datetime) -> datetime | None: ...

    def record_fetch(self, shop_id: str, mode: str, start: str, end: str) -> None: ...


_CODECS = {"UTF-8": "utf-8", "EUC-JP": "euc_jp"}
_HTML = "text/html; charset=UTF-8"
_JSON = "application/json; charset=UTF-8"
_TEXT = "text/plain; charset=US-ASCII"
_RATE_LIMIT_MESSAGE = "Too Many Requests: one call per second per shop, one at a time"
_AUTH_FAILED = "認証に失敗しました。認証コードを確認してください (authentication failed)"
_NOT_APPROVED = "API連携の利用が承認されていません (API use is not approved for this shop)"
_NO_ORDERS = "該当する注文データがありません (no matching orders)"
PRODUCT_SESSION_SECONDS = 300  # the access URL lives 5 minutes (known)


@dataclass(frozen=True)
class Answer:
    status: int
    body: bytes
    content_type: str
    headers: tuple[tuple[str, str], ...] = ()
    # The guess behind an answer no public source shows; "" for a known shape.
    invented: str = ""

    def all_headers(self) -> tuple[tuple[str, str], ...]:
        marker = (("X-Sandbox-Invented", "yes"),) if self.invented else ()
        return self.headers + marker


def orderinfo(server: SandboxServer, shop: DemoShop | None, params) -> Answer:
    if shop is None:
        return _error_xml(None, "401", _AUTH_FAILED, invented="wrong shop: code 401 document")
    if not shop.api_enabled:
        return _error_xml(shop, "403", _NOT_APPROVED, invented="not approved: code 403 document")
    if params.get("token") != shop.order_token:
        return _error_xml(shop, "401", _AUTH_FAILED, invented="wrong token: code 401 document")
    match params.get("cmd"):
        case "get":
            return _get_orders(server, shop, params)
        case "deliver" | "status":
            ordernum = params.get("ordernum", "")
            if not any(order.ordernum == ordernum for order in demo_orders(_now())):
                return _error_xml(
                    shop, "404", "注文が見つかりません (no such order)",
                    invented="unknown order: code 404 document",
                )
            root = ET.Element("response")  # known: ordernum, code, message OK
            _add(root, "ordernum", ordernum)
            _add(root, "code", "200")
            _add(root, "message", "OK")
            return _xml(shop, root)
        case _:
            return _error_xml(
                shop, "400", "cmd が正しくありません (unknown cmd)",
                invented="unknown cmd: code 400 document",
            )


def _get_orders(server: SandboxServer, shop: DemoShop, params) -> Answer:
    now = _now()
    orders = demo_orders(now, recent=shop.recent_order)
    start, end = params.get("start", ""), params.get("end", "")
    if ordernum := params.get("ordernum"):
        mode = "ordernum"
        orders = [order for order in orders if order.ordernum == ordernum]
    elif start and end:
        mode = "period"
        try:
            since, until = _parse_moment(start), _parse_moment(end)
        except ValueError:
            return _error_xml(
                shop, "400", "start / end が正しくありません (yyyymmddhhmmss)",
                invented="bad period: code 400 document",
            )
        orders = [order for order in orders if since <= order.placed_at <= until]
    elif start or end:
        return _error_xml(
            shop, "400", "start と end は両方指定してください (give both)",
            invented="half a period: code 400 document",
        )
    else:
        mode = "since_last_fetch"
        marker = server.move_marker(shop.shop_id, now)
        orders = [order for order in orders if marker is None or order.placed_at > marker]
    server.record_fetch(shop.shop_id, mode, start, end)
    if params.get("canceled") != "1":
        orders = [order for order in orders if order.status != "0"]
    if not orders and shop.behaviour is Behaviour.EMPTY_MESSAGE:
        root = ET.Element("response")
        _add(root, "message", _NO_ORDERS)
        return _xml(shop, root, invented="an empty period answers a message-only document")
    # Known: a root <orders> holding zero or more <order>. That an empty period is an
    # empty <orders/> is assumed (the most plausible reading; nobody published it).
    root = ET.Element("orders")
    for order in orders:
        root.append(_order_element(order))
    return _xml(shop, root)


def product_auth(server: SandboxServer, shop: DemoShop | None, params) -> Answer:
    if shop is None:
        return _result_json("401", _AUTH_FAILED, invented="wrong shop: status_code 401")
    if not shop.api_enabled:
        return _result_json("403", _NOT_APPROVED, invented="not approved: status_code 403")
    if params.get("auth_code") != shop.product_code:
        return _result_json("401", _AUTH_FAILED, invented="wrong code: status_code 401")
    if params.get("response_format", "json") != "json":
        return _result_json(
            "400", "the sandbox answers response_format=json only",
            invented="the sandbox speaks JSON only",
        )
    token = secrets.token_hex(16)
    query = urlencode({"shop_id": shop.shop_id, "access_token": token})
    expires = _now() + timedelta(seconds=PRODUCT_SESSION_SECONDS)
    return _result_json(
        "200",
        None,
        access_url=f"{server.url}/api/product/search/?{query}",
        expire_date=expires.strftime("%Y%m%d%H%M%S"),
    )


def webftp(server: SandboxServer, shop: DemoShop | None, params) -> Answer:
    if shop is None or params.get("pw") != shop.password:
        return Answer(200, b"FAILURE", _TEXT)  # known
    body = f"{server.url}/_sandbox/upload/{shop.shop_id}\n{secrets.token_hex(16)}\n"
    return Answer(200, body.encode("ascii"), _TEXT)  # known: upload URL, then a key


class Route(NamedTuple):
    endpoint: str  # the name calls are recorded under
    shop_parameter: str  # the parameter naming the shop
    answer: Callable[[SandboxServer, DemoShop | None, dict], Answer]


_ORDERINFO = Route("orderinfo", "shopid", orderinfo)
_PRODUCT_AUTH = Route("product_auth", "shop_id", product_auth)
ROUTES = {
    ORDER_INFO_PATH: _ORDERINFO,
    PRODUCT_AUTH_PATH: _PRODUCT_AUTH,
    PRODUCT_AUTH_PATH.rstrip("/"): _PRODUCT_AUTH,
    WEBFTP_LOGIN_PATH: Route("webftp", "id", webftp),
}


def not_found() -> Answer:
    return Answer(
        404, b"<html><body>Not Found</body></html>", _HTML,
        invented="an unknown path answers a 404 page",
    )


def retired() -> Answer:
    """A legacy API path after the API's closure."""
    page = (
        "<!DOCTYPE html><html lang='ja'><head><meta charset='UTF-8'><title>404 Not Found"
        "</title></head><body><h1>ページが見つかりません</h1></body></html>"
    )
    return Answer(404, page.encode("utf-8"), _HTML, invented="a closed API answers 404 pages")


def retired_page() -> Answer:
    """A legacy API path answering a web page (HTTP 200) after the API's closure."""
    page = (
        "<!DOCTYPE html><html lang='ja'><head><meta charset='UTF-8'><title>MakeShop</title>"
        "</head><body><h1>このAPIは提供を終了しました</h1><p>新しいAPI (MakeShop "
        "アプリ) をご利用ください。 (sandbox)</p></body></html>"
    )
    return Answer(200, page.encode("utf-8"), _HTML, invented="a closed API answers a web page")


def blocked() -> Answer:
    page = (
        "<!DOCTYPE html><html lang='ja'><head><meta charset='UTF-8'><title>403 Forbidden"
        "</title></head><body><h1>アクセスが制限されています</h1>"
        "<p>Access restricted. (sandbox)</p></body></html>"
    )
    return Answer(403, page.encode("utf-8"), _HTML,
                  invented="a blocked caller gets a 403 page (the doc: maybe 429, 403 or a page)")


def rate_limited(endpoint: str) -> Answer:
    retry = (("Retry-After", "1"),)
    invented = "a call over the limit gets HTTP 429 in the endpoint's format"
    if endpoint == "orderinfo":
        answer = _error_xml(None, "429", _RATE_LIMIT_MESSAGE, invented=invented)
    elif endpoint == "product_auth":
        answer = _result_json("429", _RATE_LIMIT_MESSAGE, invented=invented)
    else:
        answer = Answer(200, b"TOO MANY REQUESTS", _TEXT, invented=invented)
    return Answer(429, answer.body, answer.content_type, retry, invented=invented)


def maintenance_page() -> Answer:
    page = (
        "<!DOCTYPE html><html lang='ja'><head><meta charset='UTF-8'>"
        "<title>メンテナンス中</title></head><body><h1>ただいまメンテナンス中です</h1>"
        "<p>MakeShop is under maintenance. (sandbox)</p></body></html>"
    )
    return Answer(
        503, page.encode("utf-8"), _HTML, (("Retry-After", "3600"),),
        invented="maintenance answers HTTP 503 with a page",
    )


def _error_xml(shop: DemoShop | None, code: str, message: str, *, invented: str) -> Answer:
    root = ET.Element("response")
    _add(root, "code", code)
    _add(root, "message", message)
    return _xml(shop, root, invented=invented)


def _xml(shop: DemoShop | None, root: ET.Element, *, invented: str = "") -> Answer:
    label = shop.encoding if shop is not None else "UTF-8"
    declares = shop.declares_encoding if shop is not None else True
    text = ET.tostring(root, encoding="unicode")
    if declares:
        text = f'<?xml version="1.0" encoding="{label}"?>\n' + text
    body = text.encode(_CODECS[label], errors="xmlcharrefreplace")
    content_type = f"text/xml; charset={label}" if declares else "text/xml"
    return Answer(200, body, content_type, invented=invented)


def _result_json(status_code: str, error_message: str | None, *, invented: str = "", **extra):
    data = {
        "result_data": {
            "status_code": status_code,  # known: a string
            "error_message": error_message,
            "access_url": None,
            "expire_date": None,
        }
        | extra
    }
    body = json.dumps(data, ensure_ascii=False).encode("utf-8")
    return Answer(200, body, _JSON, invented=invented)


def _add(parent: ET.Element, tag: str, text: str) -> ET.Element:
    child = ET.SubElement(parent, tag)
    child.text = text
    return child


def _order_element(order: DemoOrder) -> ET.Element:
    """One order in the field names public clients read (``docs/makeshop.md``).

    Known names throughout; the date format, commodity ``name``/``price``/``amount``
    and the address split of a delivery are assumed.
    """
    element = ET.Element("order")
    _add(element, "ordernum", order.ordernum)
    _add(element, "date", order.placed_at.strftime("%Y-%m-%d %H:%M:%S"))
    _add(element, "status", order.status)
    _add(element, "payment_status", order.payment_status)
    paymethod = ET.SubElement(element, "paymethod")
    _add(paymethod, "type", order.paymethod)
    _add(paymethod, "content", order.paymethod_name)
    buyer = ET.SubElement(element, "buyer")
    for tag, text in _person(order):
        _add(buyer, tag, text)
    _add(buyer, "email", "buyer@example.invalid")
    delivery = ET.SubElement(ET.SubElement(element, "deliveries"), "delivery")
    _add(delivery, "delivery_id", "0")  # a single-destination order
    for tag, text in _person(order):
        _add(delivery, tag, text)
    _add(ET.SubElement(delivery, "carriage"), "name", "サンドボックス運輸")
    for tag in ("deliverydate", "deliverytime", "scheduled_shipping_date", "shipping_date"):
        _add(delivery, tag, "")
    detail = ET.SubElement(element, "orderdetail")
    for tag, text in (("sumprice", "2400"), ("carriage", "0"), ("bulk", "0"), ("coupon", "0"),
                      ("usepoint", "0")):
        _add(detail, tag, text)
    commodity = ET.SubElement(ET.SubElement(detail, "commodities"), "commodity")
    _add(commodity, "brandcode", "demo-tea-001")
    _add(commodity, "orgcode", "TEA-001")
    _add(commodity, "name", "デモ緑茶 (静岡県産) 100g")
    _add(commodity, "price", "1200")
    _add(commodity, "amount", "2")
    return element


def _person(order: DemoOrder) -> list[tuple[str, str]]:
    return [
        ("name", order.buyer),
        ("kana", order.buyer_kana),
        ("zip", "100-0001"),
        ("area", "東京都"),
        ("city", "千代田区"),
        ("street", "千代田1-1 サンドボックスビル3階"),
        ("tel", "03-0000-0000"),
    ]


def _now() -> datetime:
    return datetime.now(MAKESHOP_TZ).replace(microsecond=0, tzinfo=None)


def _parse_moment(value: str) -> datetime:
    if not re.fullmatch(r"\d{14}", value):
        raise ValueError(value)
    return datetime.strptime(value, "%Y%m%d%H%M%S")  # MakeShop local time, naive
