"""MakeShop's new API, emulated: the GraphQL endpoint and the app store's webhooks.

Standard library plus ``requests`` only, in four parts:

- ``GraphQLSandbox.handle(method, headers, body)``: answers ``POST /v1/graphql`` the
  way MakeShop's endpoint is documented to (the three headers, the one-hour
  ``x-timestamp`` window, the per-shop token), for the verification query and a
  small ``searchOrder``. The main sandbox (``malls.makeshop.sandbox``, served by
  ``manage.py makeshop_sandbox``) routes ``GRAPHQL_PATH`` here; ``make_app_server``
  serves it alone (tests, benches).
- ``send_install`` / ``send_uninstall`` / ``send_order_update``: what MakeShop's app
  store does when a merchant installs or removes GoQ's app, or an order changes:
  POST JSON to GoQ's webhook URLs.
- ``AppStore``: the app store inside a running sandbox. Its sandbox-only admin path
  (``ADMIN_PATH``/install, /uninstall, /order-update; loopback callers only) lets
  ``manage.py makeshop_sandbox install-app`` and friends (``remote_control``) act
  in the sandbox process: an uninstall revokes the token there, before the webhook
  is posted, so the token really stops working.
- Demo data: GoQ's sandbox app id and API key, and a token per demo shop (all
  sandbox-only and worthless anywhere else).

| shop id     | app token                              | note                           |
| ----------- | -------------------------------------- | ------------------------------ |
| `demo-shop` | `demo-app-token-0001-demo-shop-aaaa`   | also has legacy codes          |
| `demo-app`  | `demo-app-token-0002-demo-app-bbbbb`   | new API only (no legacy codes) |

The API key the endpoint accepts is ``SANDBOX_API_KEY`` unless the sandbox is started
with another (``makeshop_sandbox`` takes ``MAKESHOP_APP_API_KEY`` from the settings
when ``MAKESHOP_APP_GRAPHQL_URL`` points at a loopback host, so the key ``make run``
generates works).

What is known and what is invented (``docs/makeshop.md``, "New API"):

- known: one POST endpoint with JSON; ``authorization: Bearer``, ``x-api-key``,
  ``x-timestamp`` valid for one hour; errors in ``errors``; ``searchOrder(input:
  {startOrderDate, endOrderDate, page, limit})`` with ``searchedCount``, ``page``,
  ``orders{displayOrderNumber, orderDate}``; requests of 5 MB or more refused;
  the install body ``{app_id, plan_id, app_name, shop_id, token}`` and the
  uninstall body ``{app_id, app_name, shop_id}``, ``app_id`` and ``plan_id`` numbers.
- invented (marked ``INVENTED`` where built): every error answer's status, code
  and message (wrong API key 403 ``{"message": "Forbidden"}``, wrong token
  ``UNAUTHENTICATED``, timestamp ``INVALID_TIMESTAMP``, rate limit 429
  ``TOO_MANY_REQUESTS``, unknown query 400 ``GRAPHQL_VALIDATION_FAILED``), the
  one-call-per-second limit per shop, and the order-update body
  ``{app_id, shop_id, event, orders: [{displayOrderNumber}]}``. The admin path is
  the sandbox's own: MakeShop has nothing like it.
- The recent period is empty by default (demo orders are a day or more old), so a
  verification exercises the "no orders" answer.
"""

import contextlib
import ipaddress
import json
import re
import socketserver
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import MappingProxyType
from typing import NamedTuple
from urllib.parse import urlsplit

import requests

from core.redaction import install_log_redaction
from malls.makeshop import api

from .sandbox_queries import Answer, answer_query, now_jst
from .sandbox_queries import error_answer as _error
from .sandbox_queries import json_answer as _json

GRAPHQL_PATH = "/v1/graphql"
# The sandbox's own remote control (not MakeShop's): POST ADMIN_PATH + "install" etc.
ADMIN_PATH = "/_sandbox/app/"
ADMIN_ACTIONS = ("install", "uninstall", "order-update")
MAX_ADMIN_BYTES = 16 * 1024
# MakeShop's app and plan IDs are numbers (数値型): the sandbox's app id is digits, and
# the app store sends both as JSON numbers (``_number``).
SANDBOX_APP_ID = "90001"
SANDBOX_APP_NAME = "GoQSystem (sandbox)"
SANDBOX_API_KEY = "sandbox-api-key-0000-not-a-secret"  # noqa: S105 - sandbox-only
TIMESTAMP_WINDOW_SECONDS = 3600
MAX_REQUEST_BYTES = 5 * 1024 * 1024
RATE_LIMIT_INTERVAL = 1.0
MAKESHOP_TZ = api.MAKESHOP_TZ
_JSON = "application/json; charset=UTF-8"


@dataclass(frozen=True)
class DemoAppShop:
    """A shop in which the sandbox's app store can install GoQ's app."""

    shop_id: str
    token: str
    plan_id: int = 1


DEMO_APP_SHOPS: Mapping[str, DemoAppShop] = MappingProxyType({
    shop.shop_id: shop
    for shop in (
        DemoAppShop("demo-shop", "demo-app-token-0001-demo-shop-aaaa"),
        DemoAppShop("demo-app", "demo-app-token-0002-demo-app-bbbbb"),
    )
})


class GraphQLCall(NamedTuple):
    """One call as the sandbox saw it; ``shop_id`` is empty when the token was refused."""

    shop_id: str
    timestamp: str
    outcome: str  # "answered", or what was refused
    violated: bool


class GraphQLSandbox:
    """The GraphQL endpoint's behaviour, independent of any HTTP server."""

    def __init__(
        self,
        *,
        shops: Mapping[str, DemoAppShop] = DEMO_APP_SHOPS,
        api_key: str = SANDBOX_API_KEY,
        min_interval: float = RATE_LIMIT_INTERVAL,
        clock=time.time,
        monotonic=time.monotonic,
    ):
        self.api_key = api_key
        self.min_interval = min_interval
        self._by_token = {shop.token: shop for shop in shops.values()}
        self._revoked: set[str] = set()
        self._clock = clock
        self._monotonic = monotonic
        self._lock = threading.Lock()
        self._last_started: dict[str, float] = {}
        self._calls: list[GraphQLCall] = []

    @property
    def calls(self) -> list[GraphQLCall]:
        with self._lock:
            return list(self._calls)

    @property
    def violations(self) -> int:
        return sum(call.violated for call in self.calls)

    def revoke(self, shop_id: str) -> None:
        """The app was uninstalled: the shop's token stops working."""
        with self._lock:
            self._revoked.add(shop_id)

    def restore(self, shop_id: str) -> None:
        with self._lock:
            self._revoked.discard(shop_id)

    def is_revoked(self, shop_id: str) -> bool:
        with self._lock:
            return shop_id in self._revoked

    def handle(self, method: str, headers: Mapping[str, str], body: bytes) -> Answer:
        """Answer one request to ``GRAPHQL_PATH``; ``headers`` is looked up case-insensitively."""
        get = _header_getter(headers)
        timestamp = get("x-timestamp")
        if method != "POST":
            return self._refuse("", timestamp, "method", _error(405, "METHOD_NOT_ALLOWED",
                                                                 "POST only"))
        if get("x-api-key") != self.api_key:
            # INVENTED: an API-Gateway-style refusal of an unknown API key.
            return self._refuse("", timestamp, "api_key", _json(403, {"message": "Forbidden"}))
        if not _timestamp_ok(timestamp, self._clock()):
            return self._refuse("", timestamp, "timestamp", _error(
                200, "INVALID_TIMESTAMP", "x-timestamp is missing or outside the allowed window"
            ))
        shop = self._shop_for(get("authorization"))
        if shop is None:
            return self._refuse("", timestamp, "token", _error(200, "UNAUTHENTICATED",
                                                                "Unauthorized"))
        if len(body) >= MAX_REQUEST_BYTES:
            return self._refuse(shop.shop_id, timestamp, "too_large", _error(
                413, "PAYLOAD_TOO_LARGE", "Request too large"
            ))
        if self._violates_rate_limit(shop.shop_id):
            answer = _error(429, "TOO_MANY_REQUESTS", "Too Many Requests (sandbox: 1 call/s)")
            answer = answer._replace(headers=(("Retry-After", "1"),))
            return self._refuse(shop.shop_id, timestamp, "rate_limited", answer, violated=True)
        answer = answer_query(body, now_jst(self._clock()), shop_id=shop.shop_id)
        self._record(GraphQLCall(shop.shop_id, timestamp, "answered", False))
        return answer

    def _shop_for(self, authorization: str) -> DemoAppShop | None:
        scheme, _, token = authorization.partition(" ")
        if scheme.lower() != "bearer":
            return None
        shop = self._by_token.get(token.strip())
        with self._lock:
            if shop is None or shop.shop_id in self._revoked:
                return None
        return shop

    def _violates_rate_limit(self, shop_id: str) -> bool:
        started = self._monotonic()
        with self._lock:
            previous = self._last_started.get(shop_id)
            self._last_started[shop_id] = started
        return previous is not None and started - previous < self.min_interval

    def _refuse(self, shop_id, timestamp, why, answer, *, violated=False) -> Answer:
        self._record(GraphQLCall(shop_id, timestamp, why, violated))
        return answer

    def _record(self, call: GraphQLCall) -> None:
        with self._lock:
            self._calls.append(call)


def _header_getter(headers):
    lowered = {str(name).lower(): str(value) for name, value in headers.items()}
    return lambda name: lowered.get(name, "")


def _timestamp_ok(value: str, now: float) -> bool:
    if not re.fullmatch(r"\d{1,12}", value or ""):
        return False
    return abs(int(value) - now) <= TIMESTAMP_WINDOW_SECONDS


# A server of its own ---------------------------------------------------------------------


class AppSandboxServer(ThreadingHTTPServer):
    """Serves a ``GraphQLSandbox`` at ``GRAPHQL_PATH`` (tests, benches, trials)."""

    daemon_threads = True

    def __init__(self, address=("127.0.0.1", 0), *, graphql: GraphQLSandbox | None = None):
        self.graphql = graphql or GraphQLSandbox()
        self._thread = None
        super().__init__(address, _Handler)

    def server_bind(self):
        socketserver.TCPServer.server_bind(self)  # no reverse DNS lookup
        self.server_name, self.server_port = self.server_address[:2]

    @property
    def url(self) -> str:
        host, port = self.server_address[:2]
        return f"http://{host}:{port}{GRAPHQL_PATH}"

    def start_in_thread(self) -> "AppSandboxServer":
        self._thread = threading.Thread(
            target=self.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )
        self._thread.start()
        return self

    def shutdown(self) -> None:
        if self._thread is not None:
            super().shutdown()
            self._thread.join()
            self._thread = None
        self.server_close()


def make_app_server(host="127.0.0.1", port=0, **options) -> AppSandboxServer:
    """A GraphQL sandbox bound to ``host:port`` (0: a free port), not yet serving."""
    return AppSandboxServer((host, port), graphql=GraphQLSandbox(**options))


class _Handler(BaseHTTPRequestHandler):
    server: AppSandboxServer
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # headers and body leave as separate writes

    def do_POST(self):
        self._serve()

    def do_GET(self):
        self._serve()

    def _serve(self):
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(min(length, MAX_REQUEST_BYTES))
        if length > MAX_REQUEST_BYTES:
            self.close_connection = True
        if self.path.partition("?")[0] != GRAPHQL_PATH:
            answer = _json(404, {"message": "Not Found"})
        else:
            answer = self.server.graphql.handle(self.command, dict(self.headers.items()), body)
        with contextlib.suppress(ConnectionError):
            self.send_response(answer.status)
            self.send_header("Content-Type", answer.content_type)
            self.send_header("Content-Length", str(len(answer.body)))
            for name, value in answer.headers:
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(answer.body)

    def log_message(self, format, *args):
        pass  # request lines say nothing useful; headers (tokens) are never logged


# The app store's side: webhooks to GoQ ------------------------------------------------------


def webhook_url(app_url: str, secret: str, name: str) -> str:
    """GoQ's webhook URL for ``name`` (install, uninstall, orders) under ``app_url``."""
    return f"{app_url.rstrip('/')}/makeshop/app/{secret}/{name}"


def send_install(shop_id, *, app_url, secret, app_id=SANDBOX_APP_ID,
                 shops: Mapping[str, DemoAppShop] = DEMO_APP_SHOPS, token=None,
                 timeout=10.0, graphql: GraphQLSandbox | None = None) -> int:
    """POST MakeShop's install webhook for a demo shop; returns GoQ's HTTP status."""
    shop = shops[shop_id]
    if graphql is not None:
        graphql.restore(shop_id)
    return _post(webhook_url(app_url, secret, "install"), {
        "app_id": _number(app_id), "plan_id": shop.plan_id, "app_name": SANDBOX_APP_NAME,
        "shop_id": shop.shop_id, "token": token or shop.token,
    }, timeout)


def send_uninstall(shop_id, *, app_url, secret, app_id=SANDBOX_APP_ID, timeout=10.0,
                   graphql: GraphQLSandbox | None = None) -> int:
    """Revoke the shop's token (if ``graphql`` is given) and POST the uninstall webhook."""
    if graphql is not None:
        graphql.revoke(shop_id)
    return _post(webhook_url(app_url, secret, "uninstall"), {
        "app_id": _number(app_id), "app_name": SANDBOX_APP_NAME, "shop_id": shop_id,
    }, timeout)


def send_order_update(shop_id, *, app_url, secret, order_number="D000000101",
                      event="order_updated", app_id=SANDBOX_APP_ID, timeout=10.0,
                      session: requests.Session | None = None) -> int:
    """POST an order-update webhook (INVENTED body: MakeShop has not published it)."""
    return _post(webhook_url(app_url, secret, "orders"), {
        "app_id": _number(app_id), "shop_id": shop_id, "event": event,
        "orders": [{"displayOrderNumber": order_number}],
    }, timeout, session=session)


def _number(app_id):
    """An app id as MakeShop sends it: a JSON number when it is digits (a test may use text)."""
    return int(app_id) if isinstance(app_id, str) and app_id.isascii() and app_id.isdigit() else (
        app_id)


def _post(url, payload, timeout, *, session=None) -> int:
    install_log_redaction()  # urllib3 logs the URL, the secret included
    sender = session or requests
    response = sender.post(url, json=payload, timeout=timeout, allow_redirects=False)
    response.close()
    return response.status_code


# The app store inside a running sandbox, and its remote control -------------------------------


class AppStore:
    """MakeShop's app store in a running sandbox, driven over its sandbox-only admin path.

    Each action is one POST of JSON ``{shop_id, app_url, webhook_secret, app_id[,
    order_number]}`` to ``ADMIN_PATH + action``: where GoQ runs and what it registered
    with "MakeShop" come with the request, because the sandbox has no settings of its
    own. Install restores the shop's token in ``graphql`` and POSTs the install
    webhook; uninstall revokes the token first, then POSTs the uninstall webhook.
    The answer says what GoQ answered. Only loopback callers are served: the path
    makes the sandbox POST to any URL it is given.
    """

    def __init__(self, graphql: GraphQLSandbox, shops: Mapping[str, DemoAppShop] = DEMO_APP_SHOPS):
        self.graphql = graphql
        self.shops = shops

    def handle(self, action: str, client_host: str, body: bytes) -> Answer:
        if not is_loopback_host(client_host):
            return _json(403, {"error": "the sandbox's admin path serves loopback callers only"})
        if action not in ADMIN_ACTIONS:
            return _json(404, {"error": f"unknown action; one of {', '.join(ADMIN_ACTIONS)}"})
        try:
            request = json.loads(body)
            shop_id, app_url = request["shop_id"], request["app_url"]
            target = {"app_url": app_url, "secret": request["webhook_secret"],
                      "app_id": request["app_id"]}
            order_number = request.get("order_number") or "D000000101"
        except (ValueError, KeyError, TypeError):
            return _json(400, {"error": "a JSON object with shop_id, app_url, webhook_secret "
                                        "and app_id is needed"})
        if shop_id not in self.shops:
            return _json(404, {"error": f"no demo app shop {shop_id!r}; one of "
                                        f"{', '.join(sorted(self.shops))}"})
        if not all(isinstance(value, str) for value in target.values()) or not _web_url(app_url):
            return _json(400, {"error": "app_url must be an http(s) URL; the others strings"})
        try:
            if action == "install":
                status = send_install(shop_id, shops=self.shops, graphql=self.graphql, **target)
            elif action == "uninstall":
                status = send_uninstall(shop_id, graphql=self.graphql, **target)
            else:
                status = send_order_update(shop_id, order_number=str(order_number), **target)
        except OSError as exc:  # requests' errors are OSErrors; their text holds the URL
            return _json(502, {"error": f"GoQ did not answer ({type(exc).__name__})",
                               "token_works": not self.graphql.is_revoked(shop_id)})
        return _json(200, {"action": action, "shop_id": shop_id, "app_status": status,
                           "token_works": not self.graphql.is_revoked(shop_id)})


def is_loopback_host(host: str) -> bool:
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return host == "localhost"


def is_loopback_url(url: str) -> bool:
    """Whether ``url`` names this machine: the only place a sandbox may be."""
    return is_loopback_host(urlsplit(url).hostname or "")


def _web_url(url: str) -> bool:
    parts = urlsplit(url)
    return parts.scheme in ("http", "https") and bool(parts.hostname)


def remote_control(sandbox_url: str, action: str, *, shop_id: str, app_url: str,
                   webhook_secret: str, app_id: str, order_number: str = "",
                   timeout: float = 30.0) -> tuple[int, dict]:
    """Ask a running sandbox's app store to act; returns its HTTP status and JSON answer.

    Raises ``OSError`` (``requests``' errors) when no sandbox answers at ``sandbox_url``,
    and ``ValueError`` for a sandbox not on this machine: the request carries GoQ's
    webhook secret, which must never leave it.
    """
    if not is_loopback_url(sandbox_url):
        raise ValueError("the MakeShop sandbox must be on this machine (a loopback address)")
    install_log_redaction()
    response = requests.post(
        f"{sandbox_url.rstrip('/')}{ADMIN_PATH}{action}", timeout=timeout, allow_redirects=False,
        json={"shop_id": shop_id, "app_url": app_url, "webhook_secret": webhook_secret,
              "app_id": app_id, "order_number": order_number},
    )
    with response:
        try:
            data = response.json()
        except ValueError:
            data = {}
    return response.status_code, data if isinstance(data, dict) else {}
