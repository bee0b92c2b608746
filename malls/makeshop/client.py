"""MakeShop's legacy API, reduced to three checks that answer and never raise.

This is the only module that talks HTTP to MakeShop. Each check returns a
:class:`CheckResult`; transport failures and odd answers become results too, so a
form can report them on the right field instead of failing with a 500 page.

What ``CheckResult.reason`` can be:

============  =================================================================
outcome       reasons
============  =================================================================
accepted      ``""``
rejected      ``token_rejected`` (order or product code refused),
              ``not_enabled`` (MakeShop has not approved API use for the shop),
              ``login_refused`` (the webftp login answered ``FAILURE``)
unreachable   ``timeout``, ``refused``, ``dns``, ``tls``, ``connection``,
              ``redirect``, ``maintenance``, ``rate_limited``, ``http_<5xx>``
unexpected    ``too_large``, ``empty``, ``html``, ``bad_xml``, ``unsafe_xml``,
              ``unexpected_xml``, ``bad_json``, ``unexpected_json``,
              ``unexpected_text``, ``status_<n>``, ``internal_error``
============  =================================================================

Secrets travel in the order API's query string, so they are kept out of every
text this module produces: exception texts are never logged or returned,
urllib3's URL-bearing log records are redacted, MakeShop's own messages are
scrubbed, and no exception leaves a check (see ``MakeShopClient._check``).
"""

import contextlib
import heapq
import http.cookiejar
import json
import logging
import re
import socket
import ssl
import threading
import time
import traceback
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from functools import lru_cache
from typing import NamedTuple
from urllib.parse import quote, quote_plus, urlsplit
from zoneinfo import ZoneInfo

import defusedxml
import defusedxml.ElementTree
import requests
from django.conf import settings
from django.views.decorators.debug import sensitive_variables
from requests.adapters import HTTPAdapter
from urllib3 import HTTPConnectionPool, HTTPSConnectionPool, ProxyManager
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.exceptions import ReadTimeoutError

logger = logging.getLogger("malls.makeshop")

ORDER_INFO_PATH = "/api/orderinfo/index.html"
PRODUCT_AUTH_PATH = "/api/product/auth/"
WEBFTP_LOGIN_PATH = "/api/webftp/index.html"

MAKESHOP_TZ = ZoneInfo("Asia/Tokyo")
# The order check asks for this explicit period: a call without one would move
# MakeShop's "last fetched" marker and make the order import miss orders.
ORDER_CHECK_PERIOD = timedelta(minutes=1)

MESSAGE_LIMIT = 500
_CHUNK_SIZE = 16 * 1024


class Check(StrEnum):
    ORDER_AUTH_CODE = "order_auth_code"
    PRODUCT_AUTH_CODE = "product_auth_code"
    PASSWORD = "password"  # noqa: S105 - names the check, holds no secret


class Outcome(StrEnum):
    ACCEPTED = "accepted"
    REJECTED = "rejected"  # MakeShop answered and said no: the merchant must act
    UNREACHABLE = "unreachable"  # no usable answer: trying again later may help
    UNEXPECTED = "unexpected"  # an answer we cannot read: never taken as success


@dataclass(frozen=True)
class CheckResult:
    """What one check found; safe to log, show and store (it holds no secret)."""

    check: Check
    outcome: Outcome
    reason: str = ""
    code: str = ""
    message: str = ""
    elapsed: float = 0.0

    @property
    def ok(self) -> bool:
        return self.outcome is Outcome.ACCEPTED


class _Verdict(NamedTuple):
    outcome: Outcome
    reason: str = ""
    code: str = ""
    message: str = ""


class _Stop(Exception):
    """Ends a check early with its verdict; always caught in ``_check``."""

    def __init__(self, outcome: Outcome, reason: str, code: str = "", message: str = ""):
        super().__init__(reason)
        self.verdict = _Verdict(outcome, reason, code, message)


class MakeShopClient:
    """Checks a shop's MakeShop credentials against one MakeShop base URL.

    Timeouts bound each network step; ``deadline`` bounds the whole call, whatever
    MakeShop does (a server dripping one byte a second included). A ``session``
    passed in is used as is: only the client's own session enforces the deadline
    while connecting and reading headers.
    """

    def __init__(
        self,
        base_url: str,
        *,
        connect_timeout: float = 5.0,
        read_timeout: float = 10.0,
        deadline: float = 20.0,
        max_bytes: int = 2_000_000,
        session: requests.Session | None = None,
    ):
        self.base_url = _validated_base_url(base_url)
        self.timeout = (min(connect_timeout, deadline), min(read_timeout, deadline))
        self.deadline = deadline
        self.max_bytes = max_bytes
        self._session = session if session is not None else _new_session()
        install_log_redaction()

    def __repr__(self) -> str:
        return f"<MakeShopClient {self.base_url}>"

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        self.close()

    def close(self) -> None:
        self._session.close()

    # Every local of these calls, and of the requests/urllib3 frames beneath them,
    # is hidden from Django's error reports (DEBUG off).
    @sensitive_variables()
    def verify_order_auth_code(
        self, *, shop_id: str, auth_code: str, now: datetime | None = None
    ) -> CheckResult:
        """Ask the order API for the last minute's orders: any ``<orders>`` is a yes."""
        start, end = _period_ending(now or datetime.now(UTC))
        return self._check(
            Check.ORDER_AUTH_CODE,
            shop_id,
            secrets=(auth_code,),
            interpret=_interpret_orders,
            method="GET",
            path=ORDER_INFO_PATH,
            params={
                "cmd": "get",
                "shopid": shop_id,
                "token": auth_code,
                "service": "goq",
                "start": start,
                "end": end,
            },
        )

    @sensitive_variables()
    def verify_product_auth_code(self, *, shop_id: str, auth_code: str) -> CheckResult:
        """Open a product session; MakeShop's ``status_code`` 200 is a yes."""
        return self._check(
            Check.PRODUCT_AUTH_CODE,
            shop_id,
            secrets=(auth_code,),
            interpret=_interpret_product_auth,
            method="POST",
            path=PRODUCT_AUTH_PATH,
            data={
                "shop_id": shop_id,
                "auth_code": auth_code,
                "process": "search",
                "response_format": "json",
            },
        )

    @sensitive_variables()
    def verify_login(self, *, shop_id: str, password: str) -> CheckResult:
        """Log in to the bulk upload service as the main administrator."""
        return self._check(
            Check.PASSWORD,
            shop_id,
            secrets=(password,),
            interpret=_interpret_webftp_login,
            method="POST",
            path=WEBFTP_LOGIN_PATH,
            data={"id": shop_id, "pw": password},  # sent whole: never truncated
        )

    def _check(self, check, shop_id, *, secrets, interpret, method, path, **request_kwargs):
        """Run one exchange and turn whatever happens into a ``CheckResult``.

        No exception leaves here. With DEBUG on, Django's error page shows every
        local of every frame unfiltered, so the only safe traceback through this
        code is one that never reaches the caller.
        """
        started = time.monotonic()
        with _Deadline(self.deadline) as deadline:
            try:
                verdict = self._exchange(deadline, interpret, method, path, request_kwargs)
            except _Stop as stop:
                verdict = stop.verdict
            except Exception as exc:  # see the docstring
                if deadline.expired:
                    verdict = _Verdict(Outcome.UNREACHABLE, "timeout")
                else:
                    verdict = _Verdict(Outcome.UNEXPECTED, "internal_error")
                    # The type and the code lines only: exception texts can hold the URL.
                    logger.error(
                        "MakeShop check failed inside the client: %s\n%s",
                        type(exc).__name__,
                        "".join(traceback.format_tb(exc.__traceback__)),
                    )
        result = CheckResult(
            check=check,
            outcome=verdict.outcome,
            reason=verdict.reason,
            code=_scrub(verdict.code, secrets)[:50],
            message=_scrub(verdict.message, secrets)[:MESSAGE_LIMIT],
            elapsed=time.monotonic() - started,
        )
        logger.info(
            "MakeShop %s check for shop %r: %s %s (%.2f s)",
            check,
            _scrub(shop_id, secrets),  # in case a code was typed into the shop id field
            result.outcome,
            result.reason or "-",
            result.elapsed,
        )
        return result

    def _exchange(self, deadline, interpret, method, path, request_kwargs) -> _Verdict:
        try:
            response = self._session.request(
                method,
                self.base_url + path,
                timeout=self.timeout,
                allow_redirects=False,
                stream=True,
                **request_kwargs,
            )
        except requests.RequestException as exc:
            reason = "timeout" if deadline.expired else _transport_reason(exc)
            response = None
        if response is None:
            # Raised out here so that requests' exception, whose text holds the URL,
            # is not chained to it.
            raise _Stop(Outcome.UNREACHABLE, reason)

        with response:
            status = response.status_code
            if 300 <= status < 400:
                raise _Stop(Outcome.UNREACHABLE, "redirect")  # never followed, to any host
            if status == 429:
                raise _Stop(Outcome.UNREACHABLE, "rate_limited")
            if status < 500 and status != 200:
                raise _Stop(Outcome.UNEXPECTED, f"status_{status}")
            body = self._read_body(response, deadline)

        if status == 503 or (status >= 500 and _mentions_maintenance(body)):
            raise _Stop(Outcome.UNREACHABLE, "maintenance")
        if status >= 500:
            raise _Stop(Outcome.UNREACHABLE, f"http_{status}")
        if not body.strip():
            raise _Stop(Outcome.UNEXPECTED, "empty")
        if _looks_like_html(body):
            if _mentions_maintenance(body):
                raise _Stop(Outcome.UNREACHABLE, "maintenance")
            raise _Stop(Outcome.UNEXPECTED, "html")
        return interpret(body)

    def _read_body(self, response: requests.Response, deadline: "_Deadline") -> bytes:
        declared = response.headers.get("Content-Length", "")
        if declared.isdigit() and int(declared) > self.max_bytes:
            raise _Stop(Outcome.UNEXPECTED, "too_large")
        body = bytearray()
        try:
            for chunk in response.iter_content(_CHUNK_SIZE):
                body += chunk
                if len(body) > self.max_bytes:
                    raise _Stop(Outcome.UNEXPECTED, "too_large")
                if deadline.expired:
                    break
        except requests.RequestException as exc:
            reason = "timeout" if deadline.expired else _transport_reason(exc)
        else:
            reason = ""
        # Once the deadline has cut the socket, what was read may look complete.
        if deadline.expired:
            raise _Stop(Outcome.UNREACHABLE, "timeout")
        if reason:
            raise _Stop(Outcome.UNREACHABLE, reason)
        return bytes(body)


@lru_cache(maxsize=4)
def _client_for(base_url: str) -> MakeShopClient:
    return MakeShopClient(base_url)


def get_client() -> MakeShopClient:
    """The shared client for ``settings.MAKESHOP_API_BASE_URL``, read on each call."""
    return _client_for(settings.MAKESHOP_API_BASE_URL)


# Reading MakeShop's answers ---------------------------------------------------------

_NOT_ENABLED_MARKERS = ("承認", "申請", "not enabled", "not approved")
# Matched against raw bytes: lowering Shift_JIS would change its second bytes.
_MAINTENANCE_MARKERS = tuple("メンテナンス".encode(codec) for codec in ("utf-8", "euc_jp", "cp932"))
# Codecs that read what MakeShop's Japanese labels most likely mean: the
# vendor characters (①, ㈱) of Windows' EUC-JP and Shift_JIS included.
_CODECS = {"euc-jp": "euc_jis_2004", "x-euc-jp": "euc_jis_2004", "shift_jis": "cp932"}
_EXPAT_ENCODINGS = {"utf-8", "utf8", "utf-16", "iso-8859-1", "latin-1", "us-ascii", "ascii"}
_XML_DECLARATION = re.compile(
    rb"^(?:\xef\xbb\xbf)?<\?xml[^>]*?\sencoding\s*=\s*[\"']([A-Za-z][\w.-]*)[\"']"
)


def _interpret_orders(body: bytes) -> _Verdict:
    root = _parse_xml(body)
    if root.tag == "orders":
        return _Verdict(Outcome.ACCEPTED)
    code = (root.findtext("code") or "").strip()
    message = (root.findtext("message") or "").strip()
    if (not code and not message) or message.upper() == "OK":
        # Not an error answer, and not orders: nothing we can read as a verdict.
        raise _Stop(Outcome.UNEXPECTED, "unexpected_xml")
    return _refusal(code, message)


def _interpret_product_auth(body: bytes) -> _Verdict:
    try:
        # JSON is UTF-8; a stray byte in a message must not hide the status code.
        data = json.loads(body.decode("utf-8-sig", errors="replace"))
    except (ValueError, RecursionError):
        raise _Stop(Outcome.UNEXPECTED, "bad_json") from None
    result = data.get("result_data") if isinstance(data, dict) else None
    status = result.get("status_code") if isinstance(result, dict) else None
    if isinstance(status, str) and status.isdigit():
        status = int(status)
    if not isinstance(status, int) or isinstance(status, bool):
        raise _Stop(Outcome.UNEXPECTED, "unexpected_json")
    if status == 200:
        return _Verdict(Outcome.ACCEPTED)  # access_url is a credential too: not kept
    message = result.get("message") or result.get("error_message") or ""
    return _refusal(str(status), message if isinstance(message, str) else "")


def _interpret_webftp_login(body: bytes) -> _Verdict:
    if body.strip() == b"FAILURE":
        return _Verdict(Outcome.REJECTED, "login_refused", message="FAILURE")
    lines = [line.strip() for line in body.splitlines() if line.strip()]
    if (
        len(lines) >= 2
        and re.fullmatch(rb"https?://\S+", lines[0])
        and re.fullmatch(rb"\S+", lines[1])
    ):
        return _Verdict(Outcome.ACCEPTED)  # the upload URL and key are not kept
    raise _Stop(Outcome.UNEXPECTED, "unexpected_text")


def _refusal(code: str, message: str) -> _Verdict:
    """Classify an error answer; its codes are not published, so match loosely."""
    text = f"{code} {message}".casefold()
    if code == "429" or "too many" in text:
        return _Verdict(Outcome.UNREACHABLE, "rate_limited", code, message)
    if _mentions_maintenance(text.encode()):
        return _Verdict(Outcome.UNREACHABLE, "maintenance", code, message)
    if code == "403" or any(marker in text for marker in _NOT_ENABLED_MARKERS):
        return _Verdict(Outcome.REJECTED, "not_enabled", code, message)
    return _Verdict(Outcome.REJECTED, "token_rejected", code, message)


def _parse_xml(body: bytes):
    """Parse untrusted XML in the encoding its declaration names.

    Expat reads only single-byte encodings and UTF-8/16 itself, so a document
    declared in a Japanese encoding is decoded here with that codec first.
    """
    document: bytes | str = body
    declared = _XML_DECLARATION.match(body)
    label = declared[1].decode().lower() if declared else "utf-8"
    if label not in _EXPAT_ENCODINGS:
        try:
            document = body.decode(_CODECS.get(label, label), errors="replace")
        except LookupError:
            raise _Stop(Outcome.UNEXPECTED, "bad_xml") from None
    try:
        return defusedxml.ElementTree.fromstring(document)
    except defusedxml.DefusedXmlException:
        raise _Stop(Outcome.UNEXPECTED, "unsafe_xml") from None
    except (defusedxml.ElementTree.ParseError, ValueError):
        raise _Stop(Outcome.UNEXPECTED, "bad_xml") from None


def _looks_like_html(body: bytes) -> bool:
    head = body[:1024].lstrip().lower()
    return head.startswith((b"<!doctype html", b"<html")) or b"<html" in head


def _mentions_maintenance(body: bytes) -> bool:
    return b"maintenance" in body.lower() or any(m in body for m in _MAINTENANCE_MARKERS)


def _period_ending(now: datetime) -> tuple[str, str]:
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    end = now.astimezone(MAKESHOP_TZ)
    start = end - ORDER_CHECK_PERIOD
    return start.strftime("%Y%m%d%H%M%S"), end.strftime("%Y%m%d%H%M%S")


# Keeping secrets out of texts --------------------------------------------------------

_CREDENTIAL_PARAMETER = re.compile(r"(?i)(?<![A-Za-z0-9_])(token|pw|auth_code|password)=[^&\s'\"]*")
# urllib3 loggers whose records can carry a request URL.
_URL_LOGGERS = (
    "urllib3.connectionpool",
    "urllib3.connection",
    "urllib3.poolmanager",
    "urllib3.util.retry",
)
_redaction_lock = threading.Lock()


def _scrub(text: str, secrets) -> str:
    """Replace each secret, raw or URL-encoded, with ``***``."""
    for secret in secrets:
        if secret:
            for form in {secret, quote(secret), quote(secret, safe=""), quote_plus(secret)}:
                text = text.replace(form, "***")
    return text


def redact_credentials(text: str) -> str:
    """Mask the values of credential parameters in URLs and form bodies."""
    return _CREDENTIAL_PARAMETER.sub(r"\1=***", text)


class RedactCredentialsFilter(logging.Filter):
    """Masks credential parameters in a record: urllib3 logs full request URLs."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a malformed record is still redacted, not dropped
            message = f"{record.msg} {record.args}"
        record.msg, record.args = redact_credentials(message), ()
        if record.exc_info and not record.exc_text:
            # Formatters reuse exc_text, so the traceback is redacted once, here.
            record.exc_text = redact_credentials(
                "".join(traceback.format_exception(*record.exc_info)).rstrip("\n")
            )
        return True


def install_log_redaction() -> None:
    """Attach the redacting filter to urllib3's URL-bearing loggers, once each."""
    with _redaction_lock:
        for name in _URL_LOGGERS:
            target = logging.getLogger(name)
            if not any(isinstance(f, RedactCredentialsFilter) for f in target.filters):
                target.addFilter(RedactCredentialsFilter())


# Transport -------------------------------------------------------------------------


def _validated_base_url(base_url: str) -> str:
    parts = urlsplit(base_url)
    if (
        parts.scheme not in ("http", "https")
        or not parts.hostname
        or parts.username is not None
        or parts.query
        or parts.fragment
    ):
        raise ValueError(
            "MakeShop's base URL must be a plain http(s) URL, e.g. https://www.makeshop.jp"
        )
    return base_url.rstrip("/")


def _transport_reason(exc: BaseException) -> str:
    """Name a transport failure from its causes, never from its text."""
    causes = tuple(_causes(exc))

    def caused_by(*types) -> bool:
        return any(isinstance(cause, types) for cause in causes)

    if caused_by(ConnectionRefusedError):
        return "refused"
    if caused_by(socket.gaierror):
        return "dns"
    if caused_by(requests.exceptions.SSLError, ssl.SSLError):
        return "tls"
    # Not urllib3's TimeoutError: its NewConnectionError (refused, unreachable) is one.
    if caused_by(requests.Timeout, ReadTimeoutError, TimeoutError):
        return "timeout"
    return "connection"


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


def _new_session() -> requests.Session:
    session = requests.Session()
    # One session serves every shop: no cookie may carry over from one to another.
    session.cookies.set_policy(http.cookiejar.DefaultCookiePolicy(allowed_domains=[]))
    session.headers["User-Agent"] = "goq-malls"
    # Enough pooled connections for a batch job's threads (malls.tasks.BATCH_SIZE).
    adapter = _DeadlineAdapter(pool_maxsize=32)
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    return session


_current = threading.local()


class _Deadline:
    """Cuts the socket of the current call when its time is up.

    Socket timeouts apply to each read, so a peer that sends a byte now and then
    could hold a call for ever, even before the headers are complete. The shared
    watchdog shuts the socket down instead, which ends whatever read is waiting.
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
        self._heap: list[tuple[float, int, _Deadline]] = []
        self._wakeup = threading.Condition()
        self._counter = 0
        self._thread = None

    def add(self, when: float, deadline: _Deadline) -> None:
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
