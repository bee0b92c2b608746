"""What the sandbox answers each call, in the legacy API's formats.

MakeShop publishes no error codes: the codes here are our assumption, and the
client matches them loosely (see the package docstring for the full list).
"""

from __future__ import annotations

import json
import re
import secrets
import xml.etree.ElementTree as ET  # noqa: S405 - builds XML only; nothing is parsed here
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import NamedTuple, Protocol

from ..api import MAKESHOP_TZ, ORDER_INFO_PATH, PRODUCT_AUTH_PATH, WEBFTP_LOGIN_PATH
from .shops import DemoOrder, DemoShop, demo_orders


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


@dataclass(frozen=True)
class Answer:
    status: int
    body: bytes
    content_type: str
    headers: tuple[tuple[str, str], ...] = ()


def orderinfo(server: SandboxServer, shop: DemoShop | None, params) -> Answer:
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
            if not any(order.ordernum == ordernum for order in demo_orders(_now())):
                return _error_xml(shop, "404", "注文が見つかりません (no such order)")
            root = ET.Element("response")
            _add(root, "ordernum", ordernum)
            _add(root, "code", "200")
            _add(root, "message", "OK")
            return _xml(shop, root)
        case _:
            return _error_xml(shop, "400", "cmd が正しくありません (unknown cmd)")


def _get_orders(server: SandboxServer, shop: DemoShop, params) -> Answer:
    now = _now()
    orders = demo_orders(now)
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
        marker = server.move_marker(shop.shop_id, now)
        orders = [order for order in orders if marker is None or order.placed_at > marker]
    server.record_fetch(shop.shop_id, mode, start, end)
    if params.get("canceled") != "1":
        orders = [order for order in orders if order.status != "0"]
    root = ET.Element("orders")
    for order in orders:
        root.append(_order_element(order))
    return _xml(shop, root)


def product_auth(server: SandboxServer, shop: DemoShop | None, params) -> Answer:
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


def webftp(server: SandboxServer, shop: DemoShop | None, params) -> Answer:
    if shop is None or params.get("pw") != shop.password:
        return Answer(200, b"FAILURE", _TEXT)
    body = f"{server.url}/_sandbox/upload/{shop.shop_id}\n{secrets.token_hex(16)}\n"
    return Answer(200, body.encode("ascii"), _TEXT)


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
    return Answer(404, b"<html><body>Not Found</body></html>", _HTML)


def rate_limited(endpoint: str) -> Answer:
    retry = (("Retry-After", "1"),)
    if endpoint == "orderinfo":
        answer = _error_xml(None, "429", _RATE_LIMIT_MESSAGE)
    elif endpoint == "product_auth":
        answer = _result_json(429, _RATE_LIMIT_MESSAGE)
    else:
        answer = Answer(200, b"TOO MANY REQUESTS", _TEXT)
    return Answer(429, answer.body, answer.content_type, retry)


def maintenance_page() -> Answer:
    page = (
        "<!DOCTYPE html><html lang='ja'><head><meta charset='UTF-8'>"
        "<title>メンテナンス中</title></head><body><h1>ただいまメンテナンス中です</h1>"
        "<p>MakeShop is under maintenance. (sandbox)</p></body></html>"
    )
    return Answer(503, page.encode("utf-8"), _HTML, (("Retry-After", "3600"),))


def _error_xml(shop: DemoShop | None, code: str, message: str) -> Answer:
    root = ET.Element("response")
    _add(root, "code", code)
    _add(root, "message", message)
    return _xml(shop, root)


def _xml(shop: DemoShop | None, root: ET.Element) -> Answer:
    label = shop.encoding if shop is not None else "UTF-8"
    declaration = f'<?xml version="1.0" encoding="{label}"?>\n'
    text = declaration + ET.tostring(root, encoding="unicode")
    body = text.encode(_CODECS[label], errors="xmlcharrefreplace")
    return Answer(200, body, f"text/xml; charset={label}")


def _result_json(status_code: int, message: str, **extra) -> Answer:
    data = {"result_data": {"status_code": status_code, "message": message, **extra}}
    return Answer(200, json.dumps(data, ensure_ascii=False).encode("utf-8"), _JSON)


def _add(parent: ET.Element, tag: str, text: str) -> ET.Element:
    child = ET.SubElement(parent, tag)
    child.text = text
    return child


def _order_element(order: DemoOrder) -> ET.Element:
    element = ET.Element("order")
    _add(element, "ordernum", order.ordernum)
    _add(element, "date", order.placed_at.strftime("%Y-%m-%d %H:%M:%S"))
    _add(element, "status", order.status)
    _add(element, "payment_status", order.payment_status)
    _add(ET.SubElement(element, "paymethod"), "type", order.paymethod)
    buyer = ET.SubElement(element, "buyer")
    _add(buyer, "name", order.buyer)
    _add(buyer, "email", "buyer@example.invalid")
    _add(buyer, "tel", "03-0000-0000")
    delivery = ET.SubElement(ET.SubElement(element, "deliveries"), "delivery")
    _add(delivery, "deliveryid", "1")
    _add(delivery, "name", order.buyer)
    _add(delivery, "zip", "100-0001")
    _add(delivery, "address", "東京都千代田区千代田1-1 サンドボックスビル3階")
    product = ET.SubElement(ET.SubElement(element, "orderdetail"), "product")
    _add(product, "code", "demo-tea-001")
    _add(product, "name", "デモ緑茶 (静岡県産) 100g")
    _add(product, "price", "1200")
    _add(product, "amount", "2")
    return element


def _now() -> datetime:
    return datetime.now(MAKESHOP_TZ).replace(microsecond=0, tzinfo=None)


def _parse_moment(value: str) -> datetime:
    if not re.fullmatch(r"\d{14}", value):
        raise ValueError(value)
    return datetime.strptime(value, "%Y%m%d%H%M%S")  # MakeShop local time, naive
