"""The sandbox's HTTP side: routing, MakeShop's per-shop rate limit, and what it records.

The limit is MakeShop's "serial" rule taken strictly: a shop's call must start at
least ``min_interval`` after the END of its previous answer (refused calls count),
and never while another of its calls is being answered.

The new API lives beside the legacy one, as on MakeShop: ``GRAPHQL_PATH`` goes to
the server's ``graphql`` (``malls.makeshop.app.sandbox.GraphQLSandbox``, with its own
records and its own one-call-per-second limit), and the sandbox-only ``ADMIN_PATH``
to its ``app_store``, which installs and uninstalls GoQ's app for a demo shop.

Other malls' stand-ins can be mounted on the same port (``mounts``: ``malls.sandbox``
routes, asked from the registry by ``makeshop_sandbox``): a request under one of
their prefixes is answered by that mall's WSGI application, before MakeShop's routes.
"""

import contextlib
import logging
import re
import threading
from collections.abc import Mapping, Sequence
from datetime import datetime
from http.server import BaseHTTPRequestHandler
from time import monotonic, sleep
from typing import NamedTuple
from urllib.parse import parse_qs

from malls.sandbox import Route, route_for, serve_wsgi

from ..app import sandbox as app_sandbox
from . import answers
from .answers import Answer
from .loopback import LoopbackHTTPServer
from .shops import DEMO_SHOPS, Behaviour, DemoShop

logger = logging.getLogger("malls.makeshop.sandbox")

RATE_LIMIT_INTERVAL = 1.0
# How long a ``Behaviour.BLOCK`` shop stays blocked after breaking the limit (invented).
BLOCK_SECONDS = 60.0
_MAX_FORM_BYTES = 64 * 1024


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


class SandboxServer(LoopbackHTTPServer):
    """The sandbox: a threaded HTTP server that records every call it answers."""

    def __init__(
        self,
        address: tuple[str, int] = ("127.0.0.1", 0),
        *,
        shops: Mapping[str, DemoShop] = DEMO_SHOPS,
        latency: float = 0.0,
        min_interval: float = RATE_LIMIT_INTERVAL,
        app_api_key: str = app_sandbox.SANDBOX_API_KEY,
        mounts: Sequence[Route] = (),
    ):
        self.shops = dict(shops)
        self.mounts = tuple(mounts)
        self.graphql = app_sandbox.GraphQLSandbox(api_key=app_api_key, min_interval=min_interval)
        self.app_store = app_sandbox.AppStore(self.graphql)
        self.latency = latency
        self.min_interval = min_interval
        self._lock = threading.Lock()
        self._calls: list[SandboxCall] = []
        self._order_fetches: list[OrderFetch] = []
        self._last_finished: dict[str, float] = {}
        self._blocked_until: dict[str, float] = {}
        self._in_flight: set[str] = set()
        self._fetched_until: dict[str, datetime] = {}
        self._thread: threading.Thread | None = None
        super().__init__(address, _Handler)

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

    @property
    def in_flight(self) -> frozenset[str]:
        """Shops with a call being answered right now."""
        with self._lock:
            return frozenset(self._in_flight)

    def blocked(self, shop_id: str) -> bool:
        with self._lock:
            return monotonic() < self._blocked_until.get(shop_id, float("-inf"))

    def block(self, shop_id: str) -> None:
        with self._lock:
            self._blocked_until[shop_id] = monotonic() + BLOCK_SECONDS

    @contextlib.contextmanager
    def _admit(self, shop_id: str, endpoint: str):
        """Apply the per-shop rate limit to one call and record it."""
        started = monotonic()
        with self._lock:
            previous = self._last_finished.get(shop_id)
            overlapping = shop_id in self._in_flight
            violated = bool(shop_id) and (
                overlapping or (previous is not None and started - previous < self.min_interval)
            )
            if shop_id and not overlapping:
                self._in_flight.add(shop_id)
        try:
            yield violated
        finally:
            with self._lock:
                finished = monotonic()
                if shop_id and not overlapping:
                    self._in_flight.discard(shop_id)
                if shop_id:
                    # The later end wins: an overlapping call's end must not shorten the wait.
                    last = self._last_finished.get(shop_id, finished)
                    self._last_finished[shop_id] = max(finished, last)
                self._calls.append(SandboxCall(shop_id, endpoint, started, finished, violated))

    def record_fetch(self, shop_id: str, mode: str, start: str, end: str) -> None:
        with self._lock:
            self._order_fetches.append(OrderFetch(shop_id, mode, start, end))

    def move_marker(self, shop_id: str, now: datetime) -> datetime | None:
        """Set the shop's "last fetched" marker to ``now``; return where it was."""
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
    app_api_key: str = app_sandbox.SANDBOX_API_KEY,
    mounts: Sequence[Route] = (),
) -> SandboxServer:
    """A sandbox bound to ``host:port`` (0: a free port), not yet serving.

    ``app_api_key`` is the ``x-api-key`` the new API's endpoint accepts; ``mounts``
    other malls' stand-ins served on the same port (``malls.sandbox.mall_routes``).
    """
    return SandboxServer(
        (host, port), shops=shops, latency=latency, min_interval=min_interval,
        app_api_key=app_api_key, mounts=mounts,
    )


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
        mounted = route_for(self.server.mounts, path)
        if mounted is not None:  # another mall's stand-in
            serve_wsgi(self, mounted.app, path=path, query=query)
            return
        if path == app_sandbox.GRAPHQL_PATH:
            body = self._body(app_sandbox.MAX_REQUEST_BYTES)
            self._send_app(self.server.graphql.handle(self.command, self.headers, body))
            return
        if path.startswith(app_sandbox.ADMIN_PATH) and self.command == "POST":
            body = self._body(app_sandbox.MAX_ADMIN_BYTES)
            action = path.removeprefix(app_sandbox.ADMIN_PATH).strip("/")
            self._send_app(self.server.app_store.handle(action, self.client_address[0], body))
            return
        params = self._params(query)
        route = answers.ROUTES.get(path)
        if route is None:
            self._send(answers.not_found())
            return
        shop_id = params.get(route.shop_parameter, "")
        shop = self.server.shops.get(shop_id)
        behaviour = shop.behaviour if shop is not None else Behaviour.NORMAL
        with self.server._admit(shop_id, route.endpoint) as violated:
            if behaviour is Behaviour.BLOCK and (violated or self.server.blocked(shop_id)):
                if violated:
                    self.server.block(shop_id)
                answer = answers.blocked()
            elif violated:
                answer = answers.rate_limited(route.endpoint)
            elif behaviour is Behaviour.MAINTENANCE:
                answer = answers.maintenance_page()
            elif behaviour is Behaviour.RETIRED:
                answer = answers.retired()
            elif behaviour is Behaviour.RETIRED_PAGE:
                answer = answers.retired_page()
            else:
                sleep(self.server.latency)
                answer = route.answer(self.server, shop, params)
        # Sent once the call is recorded and over: a caller that has the answer
        # can read ``calls`` and may call again without overlapping this one.
        self._send(answer)

    def _body(self, limit: int) -> bytes:
        length = int(self.headers.get("Content-Length") or 0)
        if length > limit:
            self.close_connection = True  # the rest of the body is left unread
        return self.rfile.read(min(length, limit))

    def _send_app(self, answer: app_sandbox.Answer) -> None:
        self._send(Answer(answer.status, answer.body, answer.content_type, answer.headers))

    def _params(self, query: str) -> dict[str, str]:
        """Query and form fields, the last value of each winning."""
        length = int(self.headers.get("Content-Length") or 0)
        if length > _MAX_FORM_BYTES:
            self.close_connection = True  # the rest of the body is left unread
        form = self.rfile.read(min(length, _MAX_FORM_BYTES)).decode("ascii", "replace")
        fields = parse_qs(query, keep_blank_values=True) | parse_qs(form, keep_blank_values=True)
        return {name: values[-1] for name, values in fields.items()}

    def _send(self, answer: Answer) -> None:
        with contextlib.suppress(ConnectionError):  # the caller gave up: fine
            self.send_response(answer.status)
            self.send_header("Content-Type", answer.content_type)
            self.send_header("Content-Length", str(len(answer.body)))
            for name, value in answer.all_headers():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(answer.body)

    def log_message(self, format, *args):
        # Request lines carry the token in their query: log the path only.
        logger.info("%s %s", self.address_string(), _without_queries(format % args))


def _without_queries(text: str) -> str:
    return re.sub(r"\?[^\s\"']*", "?…", text)
