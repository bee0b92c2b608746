"""HTTP to a mall: one session per base URL, a deadline for the whole call, no surprises.

The one outgoing transport, shared by every mall's clients (MakeShop's auth-code and
GraphQL APIs, Rakuten's RMS), the way Zulip has one ``OutgoingSession``: it is the
only module that imports ``requests`` for a mall (checked by lint-imports). It
validates the base URL, builds the ``requests`` session, names a transport failure as
a ``TransportReason`` from the exception's causes (never from its text, which can
hold the URL; each mall's reasons share these values), and enforces ``Deadline``:
socket timeouts bound each read, so a peer that sends a byte now and then could hold
a call for ever; the deadline's watchdog cuts the socket instead. That reaches into
urllib3 (``pool_classes_by_scheme``, ``ConnectionCls``): the drip-feed tests in
``tests/makeshop`` guard an upgrade.
"""

import contextlib
import heapq
import http.cookiejar
import socket
import ssl
import threading
import time
from enum import StrEnum
from urllib.parse import urlsplit

import requests
from requests.adapters import HTTPAdapter
from urllib3 import HTTPConnectionPool, HTTPSConnectionPool, ProxyManager
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.exceptions import ReadTimeoutError

# Enough pooled connections for a batch job's threads (malls.services.queue.BATCH_SIZE).
POOL_SIZE = 32


def validated_base_url(base_url: str) -> str:
    """``base_url`` without its trailing slash, if it is a plain http(s) URL."""
    parts = urlsplit(base_url)
    if (
        parts.scheme not in ("http", "https")
        or not parts.hostname
        or parts.username is not None
        or parts.query
        or parts.fragment
    ):
        raise ValueError(
            "A mall's base URL must be a plain http(s) URL, e.g. https://www.makeshop.jp"
        )
    return base_url.rstrip("/")


class TransportReason(StrEnum):
    """Why no answer came; a mall's own reason vocabulary uses the same values."""

    TIMEOUT = "timeout"
    REFUSED = "refused"
    DNS = "dns"
    TLS = "tls"
    CONNECTION = "connection"


def transport_reason(exc: BaseException) -> TransportReason:
    """Name a transport failure from its causes, never from its text."""
    causes = tuple(_causes(exc))

    def caused_by(*types) -> bool:
        return any(isinstance(cause, types) for cause in causes)

    if caused_by(ConnectionRefusedError):
        return TransportReason.REFUSED
    if caused_by(socket.gaierror):
        return TransportReason.DNS
    if caused_by(requests.exceptions.SSLError, ssl.SSLError):
        return TransportReason.TLS
    # Not urllib3's TimeoutError: its NewConnectionError (refused, unreachable) is one.
    if caused_by(requests.Timeout, ReadTimeoutError, TimeoutError):
        return TransportReason.TIMEOUT
    return TransportReason.CONNECTION


def _causes(exc: BaseException | None):
    seen = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        yield exc
        wrapped = getattr(exc, "reason", None)  # urllib3's MaxRetryError
        if not isinstance(wrapped, BaseException) and exc.args:
            wrapped = exc.args[0]  # requests wraps urllib3's exception in args
        if not isinstance(wrapped, BaseException):
            wrapped = exc.__cause__ or exc.__context__
        exc = wrapped


def new_session() -> requests.Session:
    """A session whose connections a ``Deadline`` can cut, keeping no cookies."""
    session = requests.Session()
    # One session serves every shop: no cookie may carry over from one to another.
    session.cookies.set_policy(http.cookiejar.DefaultCookiePolicy(allowed_domains=[]))
    session.headers["User-Agent"] = "goq-malls"
    adapter = _DeadlineAdapter(pool_maxsize=POOL_SIZE)
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    return session


_current = threading.local()


class Deadline:
    """Cuts the socket of the current call when its time is up.

    Used as a context manager around one call made through a ``new_session()``
    session; ``expired`` tells afterwards whether it was the deadline that ended it.
    The shared watchdog shuts the socket down, which ends whatever read is waiting,
    even before the headers are complete.
    """

    def __init__(self, seconds: float):
        self._lock = threading.Lock()
        self._sock = None
        self._done = False
        self.expired = False
        self._seconds = seconds

    def __enter__(self):
        _current.deadline = self
        _watchdog.add(time.monotonic() + self._seconds, self)
        return self

    def __exit__(self, *exc_info):
        with self._lock:
            self._done, self._sock = True, None
        _current.deadline = None

    def watch(self, sock) -> None:
        with self._lock:
            self._sock = sock
            if self.expired:
                _cut(sock)

    def expire(self) -> None:
        with self._lock:
            if self._done:
                return
            self.expired = True
            if self._sock is not None:
                _cut(self._sock)


class _Watchdog:
    """One thread that expires every pending deadline on time.

    A thread per call (``threading.Timer``) costs about 0.2 ms to start, more than
    the rest of a check's own work; finished deadlines simply stay in the heap until
    their time comes and are then ignored.
    """

    def __init__(self):
        self._heap: list[tuple[float, int, Deadline]] = []
        self._wakeup = threading.Condition()
        self._counter = 0
        self._thread = None

    def add(self, when: float, deadline: Deadline) -> None:
        with self._wakeup:
            self._counter += 1
            heapq.heappush(self._heap, (when, self._counter, deadline))
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(
                    target=self._run, name="makeshop-deadlines", daemon=True
                )
                self._thread.start()
            elif self._heap[0][2] is deadline:
                self._wakeup.notify()

    def _run(self) -> None:
        while True:
            with self._wakeup:
                while not self._heap:
                    self._wakeup.wait()
                when, _, deadline = self._heap[0]
                delay = when - time.monotonic()
                if delay > 0:
                    self._wakeup.wait(delay)
                    continue
                heapq.heappop(self._heap)
            deadline.expire()


_watchdog = _Watchdog()


def _cut(sock) -> None:
    if isinstance(sock, socket.socket):
        # The plain socket method: an SSL wrapper's state is left to the thread using it.
        with contextlib.suppress(OSError):  # already closed
            socket.socket.shutdown(sock, socket.SHUT_RDWR)


def _watch(sock) -> None:
    deadline = getattr(_current, "deadline", None)
    if deadline is not None and sock is not None:
        deadline.watch(sock)


class _WatchedConnection:
    """Hands its socket to the current call's deadline, new or kept alive."""

    def connect(self):
        super().connect()
        _watch(self.sock)

    def request(self, *args, **kwargs):
        _watch(self.sock)
        super().request(*args, **kwargs)


class _HTTPConnection(_WatchedConnection, HTTPConnection):
    pass


class _HTTPSConnection(_WatchedConnection, HTTPSConnection):
    pass


class _HTTPPool(HTTPConnectionPool):
    ConnectionCls = _HTTPConnection


class _HTTPSPool(HTTPSConnectionPool):
    ConnectionCls = _HTTPSConnection


_WATCHED_POOLS = {"http": _HTTPPool, "https": _HTTPSPool}


class _DeadlineAdapter(HTTPAdapter):
    """requests' adapter, with connections the call's deadline can cut."""

    def init_poolmanager(self, *args, **kwargs):
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = _WATCHED_POOLS

    def proxy_manager_for(self, proxy, **proxy_kwargs):
        manager = super().proxy_manager_for(proxy, **proxy_kwargs)
        if isinstance(manager, ProxyManager):  # SOCKS managers keep their own pools
            manager.pool_classes_by_scheme = _WATCHED_POOLS
        return manager
