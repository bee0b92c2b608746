"""The RMS emulator: what each call gets, as a WSGI application.

Shapes public sources show are copied; every invented one is marked
(``Answer.invented``, header ``X-Sandbox-Invented: yes``). The emulator keeps RMS's
practice of one call per second per shop (no official figure; peers space 1-1.1 s):
a call starting sooner after the end of the shop's previous answer gets 429.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import json
import threading
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from time import monotonic
from typing import NamedTuple
from urllib.parse import parse_qs
from xml.sax.saxutils import escape

from ..api import EXPIRY_PATH, RMS_TZ, SEARCH_ORDER_PATH, SHOP_MASTER_PATH
from .shops import DEMO_SHOPS, PENDING_SECONDS, SANDBOX_SERVICE_SECRET, Behaviour, DemoShop

RATE_LIMIT_INTERVAL = 1.0
PREFIX = "/es/"
_MAX_BODY = 64 * 1024


@dataclass(frozen=True)
class Answer:
    status: int
    body: bytes
    content_type: str = "application/json; charset=utf-8"
    headers: tuple[tuple[str, str], ...] = ()
    # The guess behind an answer no public source shows; "" for a known shape.
    invented: str = ""

    def all_headers(self) -> list[tuple[str, str]]:
        marker = (("X-Sandbox-Invented", "yes"),) if self.invented else ()
        return [
            ("Content-Type", self.content_type),
            ("Content-Length", str(len(self.body))),
            *self.headers,
            *marker,
        ]


class Call(NamedTuple):
    """One call as the emulator saw it (times are ``monotonic()`` values)."""

    shop_url: str  # "" when the keys matched no shop
    endpoint: str  # "expiry", "orders" or "shop"
    started_at: float
    finished_at: float
    violated: bool
    body: dict | None  # the order search's JSON


_ENDPOINTS = {EXPIRY_PATH: "expiry", SEARCH_ORDER_PATH: "orders", SHOP_MASTER_PATH: "shop"}
_METHODS = {"expiry": "GET", "orders": "POST", "shop": "GET"}


class RmsEmulator:
    """RMS WEB SERVICE for the demo shops; mount it under ``/es/`` or serve it alone.

    ``today`` gives the sandbox's date in Japan (expiry dates are relative to it).
    """

    def __init__(
        self,
        *,
        shops: dict[str, DemoShop] | None = None,
        min_interval: float = RATE_LIMIT_INTERVAL,
        pending_seconds: float = PENDING_SECONDS,
        today=None,
        clock=monotonic,
    ):
        self.shops = dict(DEMO_SHOPS if shops is None else shops)
        self.min_interval = min_interval
        self._today = today or (lambda: datetime.now(RMS_TZ).date())
        self._clock = clock
        self._lock = threading.Lock()
        self._calls: list[Call] = []
        self._last_finished: dict[str, float] = {}
        self._in_flight: set[str] = set()
        started = clock()
        self._active_from = {
            url: started + pending_seconds
            for url, shop in self.shops.items()
            if shop.behaviour is Behaviour.PENDING
        }

    @property
    def calls(self) -> list[Call]:
        with self._lock:
            return list(self._calls)

    @property
    def violations(self) -> int:
        return sum(call.violated for call in self.calls)

    def activate(self, shop_url: str) -> None:
        """A pending shop's key starts working now."""
        with self._lock:
            self._active_from[shop_url] = self._clock()

    def expires_on(self, shop: DemoShop) -> date:
        return self._today() + timedelta(days=shop.expires_in_days)

    # --- WSGI -------------------------------------------------------------------------

    def __call__(self, environ, start_response):
        length = int(environ.get("CONTENT_LENGTH") or 0)
        body = environ["wsgi.input"].read(min(length, _MAX_BODY)) if length else b""
        answer = self.handle(
            environ["REQUEST_METHOD"],
            environ.get("PATH_INFO", ""),
            environ.get("QUERY_STRING", ""),
            environ.get("HTTP_AUTHORIZATION", ""),
            body,
        )
        reason = {200: "OK", 400: "Bad Request", 401: "Unauthorized", 404: "Not Found",
                  405: "Method Not Allowed", 429: "Too Many Requests",
                  503: "Service Unavailable"}.get(answer.status, "")
        start_response(f"{answer.status} {reason}", answer.all_headers())
        return [answer.body]

    def handle(self, method: str, path: str, query: str, authorization: str, body: bytes):
        endpoint = _ENDPOINTS.get(path)
        if endpoint is None:
            return _error(404, "ES04-02", "Not Found", invented="unknown path: ES-style 404")
        if method != _METHODS[endpoint]:
            return _error(405, "ES04-05", "Method Not Allowed", invented="wrong method")
        secret, key = _keys(authorization)
        shop = self._shop_for(secret, key)
        search = _json(body) if endpoint == "orders" else None
        with self._admit(shop.shop_url if shop else "", endpoint, search) as violated:
            if violated:
                return _error(429, "ES04-04", "Too Many Requests", headers=(("Retry-After", "1"),),
                              invented="429 body and code")
            if shop is None:
                return _unauthorised()
            if endpoint == "expiry" and parse_qs(query).get("licenseKey", [""])[-1] != key:
                return _unauthorised()
            return self._answer(endpoint, shop, search)

    def _shop_for(self, secret: str, key: str) -> DemoShop | None:
        for shop in self.shops.values():
            if key and key == shop.license_key and secret in (
                shop.service_secret, SANDBOX_SERVICE_SECRET
            ):
                return shop
        return None

    def _answer(self, endpoint: str, shop: DemoShop, search: dict | None) -> Answer:
        match shop.behaviour:
            case Behaviour.BUSY:
                return _error(429, "ES04-04", "Too Many Requests",
                              headers=(("Retry-After", "30"),), invented="429 body and code")
            case Behaviour.DOWN:
                return Answer(503, b"<html><body>Service Unavailable</body></html>",
                              "text/html", invented="RMS's 503 page")
            case Behaviour.EXPIRED:
                return _error(401, "GA0001", "Un-Authorised", invented="GA0001's JSON body")
            case Behaviour.PENDING if self._clock() < self._active_from.get(shop.shop_url, 0):
                return _unauthorised()
            case Behaviour.NO_EXPIRY if endpoint == "expiry":
                return _unauthorised()
            case Behaviour.NO_ORDERS if endpoint == "orders":
                return _unauthorised()
            case Behaviour.NO_SHOP if endpoint == "shop":
                return _shop_master_error("Un-Authorised")
        if endpoint in shop.missing:
            return _shop_master_error("Un-Authorised") if endpoint == "shop" else _unauthorised()
        if endpoint == "expiry":
            # Known shape: {"expiryDate": "2026-11-28T23:59:59"}, JST without a zone.
            payload = {"expiryDate": f"{self.expires_on(shop).isoformat()}T23:59:59"}
            return Answer(200, json.dumps(payload).encode())
        if endpoint == "orders":
            return _order_search(search)
        return _shop_master(shop)

    @contextlib.contextmanager
    def _admit(self, shop_url: str, endpoint: str, search: dict | None):
        """The per-shop rate limit, and the record of the call."""
        started = self._clock()
        with self._lock:
            previous = self._last_finished.get(shop_url)
            overlapping = shop_url in self._in_flight
            violated = bool(shop_url) and (
                overlapping or (previous is not None and started - previous < self.min_interval)
            )
            if shop_url and not overlapping:
                self._in_flight.add(shop_url)
        try:
            yield violated
        finally:
            with self._lock:
                finished = self._clock()
                if shop_url and not overlapping:
                    self._in_flight.discard(shop_url)
                if shop_url:
                    last = self._last_finished.get(shop_url, finished)
                    self._last_finished[shop_url] = max(finished, last)
                self._calls.append(Call(shop_url, endpoint, started, finished, violated, search))


def _keys(authorization: str) -> tuple[str, str]:
    scheme, _, credentials = authorization.partition(" ")
    if scheme != "ESA":
        return "", ""
    try:
        pair = base64.b64decode(credentials, validate=True).decode("ascii")
    except (binascii.Error, UnicodeDecodeError):
        return "", ""
    secret, _, key = pair.partition(":")
    return secret, key


def _json(body: bytes):
    try:
        return json.loads(body)
    except ValueError:
        return None


def _error(status: int, code: str, message: str, *, headers=(), invented: str = "") -> Answer:
    # The ES 1.0 shape public code parses (seen as a mock only: inferred).
    body = json.dumps({"Results": {"errorCode": code, "message": message}}).encode()
    return Answer(status, body, headers=tuple(headers), invented=invented or "error body")


def _unauthorised() -> Answer:
    # Known: 401 with ES01-01 "Un-Authorised"; the JSON around it is inferred.
    return _error(401, "ES01-01", "Un-Authorised", invented="ES01-01's JSON body")


def _order_search(search) -> Answer:
    if not isinstance(search, dict) or not {"dateType", "startDatetime", "endDatetime"} <= set(
        search
    ):
        return Answer(400, json.dumps({"MessageModelList": [{
            "messageType": "ERROR", "messageCode": "ORDER_EXT_API_SEARCH_ORDER_ERROR_001",
            "message": "検索条件が不正です"}]}).encode(ensure_ascii=False),
            invented="the error's code and words")
    # Known fields (orderNumberList, PaginationResponseModel, MessageModelList); the
    # INFO message's code and words are invented. The last minute has no orders.
    payload = {
        "orderNumberList": [],
        "PaginationResponseModel": {"totalRecordsAmount": 0, "totalPages": 0, "requestPage": 1},
        "MessageModelList": [{
            "messageType": "INFO", "messageCode": "ORDER_EXT_API_SEARCH_ORDER_INFO_101",
            "message": "注文検索に成功しました。"}],
    }
    return Answer(200, json.dumps(payload, ensure_ascii=False).encode(),
                  invented="the INFO message's code and words")


def _shop_master(shop: DemoShop) -> Answer:
    # Known: shopBizApiResponse/result/shopMaster with shopName and url; the status
    # block's details are invented.
    body = (
        '<?xml version="1.0" encoding="UTF-8"?><shopBizApiResponse><result><status>'
        "<interfaceId>shop.shopMaster.get</interfaceId><systemStatus>OK</systemStatus>"
        "<message>OK</message></status><shopMaster>"
        f"<shopName>{escape(shop.shop_name)}</shopName><url>{escape(shop.shop_url)}</url>"
        "<companyName>サンドボックス株式会社</companyName></shopMaster></result>"
        "</shopBizApiResponse>"
    )
    return Answer(200, body.encode(), "text/xml; charset=utf-8", invented="the status block")


def _shop_master_error(message: str) -> Answer:
    body = (
        '<?xml version="1.0" encoding="UTF-8"?><shopBizApiResponse><result><status>'
        "<interfaceId>shop.shopMaster.get</interfaceId><systemStatus>NG</systemStatus>"
        f"<message>{escape(message)}</message></status></result></shopBizApiResponse>"
    )
    return Answer(401, body.encode(), "text/xml; charset=utf-8",
                  invented="the NG answer's status and words")
