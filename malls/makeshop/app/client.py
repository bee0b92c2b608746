"""MakeShop's new API (GraphQL), reduced to checks that answer and never raise.

The only module that talks HTTP to MakeShop's GraphQL endpoint. Every call is a POST
of JSON carrying ``authorization: Bearer <shop token>``, GoQ's ``x-api-key`` and a
fresh ``x-timestamp``; it runs under the legacy client's guarantees (connect and
read timeouts, an overall deadline enforced by cutting the socket, a size cap, no
redirects, TLS verified, no cookies) and returns a ``CheckResult`` from the same
vocabulary. Neither the token nor the API key ever appears in a result, a log
line or an exception leaving this module: both travel in headers, which urllib3
does not log, MakeShop's messages are scrubbed of them, and no exception escapes.

What ``CheckResult.reason`` can be:

============  =================================================================
outcome       reasons
============  =================================================================
accepted      ``""``
rejected      ``token_rejected`` (HTTP 401, or a GraphQL error we recognise as
              an authentication failure: see the table below, or, from
              ``confirm_shop``, MakeShop naming another shop for the token:
              detail ``shop_mismatch``)
unreachable   ``timeout``, ``refused``, ``dns``, ``tls``, ``connection``,
              ``redirect``, ``maintenance``, ``rate_limited``, ``http_<5xx>``,
              ``busy`` (the shop's call slot stayed taken)
unexpected    ``too_large``, ``empty``, ``html``, ``bad_json``, ``unexpected_json``,
              ``graphql_error`` (an error we do not recognise), ``status_<n>``,
              ``internal_error``
============  =================================================================

Known and assumed (``docs/makeshop.md``, "New API"):

=====================================  ======  =========================================
what                                   status  where
=====================================  ======  =========================================
one POST endpoint, JSON, errors in     known   ``MakeShopAppClient._exchange``
``errors``; requests >= 5 MB refused
the three headers; x-timestamp valid   known   ``MakeShopAppClient._headers``
one hour
x-timestamp in whole Unix seconds      assumed ``_headers`` (``int(clock())``)
``searchOrder(input: {startOrderDate,  known   ``verification_query``
endOrderDate, page, limit})`` with
``searchedCount``; dates yyyymmddhhmmss
dates in Japan time                    assumed ``_period_ending``
a period query moves no "last fetched" assumed ``verification_query`` (1-minute
marker                                         period, as the legacy check)
HTTP 401 = token refused               assumed ``_exchange``
``errors[].extensions.code`` in        assumed ``AUTH_ERROR_CODES``
AUTH_ERROR_CODES, or a message in
AUTH_ERROR_MESSAGES = token refused
anything else in ``errors`` (FORBIDDEN assumed ``_classify_errors``: "unexpected", shown
included: scope, plan, our API key)            with MakeShop's code and message
403 = our API key refused (API-Gateway assumed ``_exchange``: ``unexpected_status``,
style); never the merchant's fault             unexpected
429 / "too many" = rate limited        assumed ``_exchange``, ``_classify_errors``
the new API's rate limit is MakeShop's assumed ``verify_token`` callers go through
per-shop one call/s, shared with the           ``malls.throttle`` with the same shop ID
legacy API
``getShop { shopId }`` names the       assumed ``confirm_shop`` (a mismatch rejects
token's shop by its login shop ID              the token; no usable answer proves nothing)
=====================================  ======  =========================================
"""

import json
import logging
import time
import traceback
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from typing import NamedTuple

import requests
from django.views.decorators.debug import sensitive_variables

from malls.makeshop import api

from ._shared import (
    APP_TOKEN_CHECK,
    CheckResult,
    Deadline,
    Outcome,
    Reason,
    install_log_redaction,
    new_session,
    scrub,
    transport_reason,
)
from .config import get_config

logger = logging.getLogger("malls.makeshop.app")

MAKESHOP_TZ = api.MAKESHOP_TZ
VERIFICATION_PERIOD = timedelta(minutes=1)
MESSAGE_LIMIT = 500
_CHUNK_SIZE = 16 * 1024

# Assumed (nothing is published): the error codes and messages that mean "this token
# is not (or no longer) valid". Compared case-insensitively, the message whole.
AUTH_ERROR_CODES = frozenset({"UNAUTHENTICATED", "INVALID_TOKEN", "TOKEN_EXPIRED"})
AUTH_ERROR_MESSAGES = frozenset(
    {"unauthorized", "unauthenticated", "invalid token", "token expired", "token is invalid"}
)
_RATE_LIMIT_CODES = frozenset({"TOO_MANY_REQUESTS", "RATE_LIMITED", "THROTTLED"})


class _Verdict(NamedTuple):
    outcome: Outcome
    reason: str = ""
    code: str = ""
    message: str = ""


class _Stop(Exception):
    """Ends a call early with its verdict; always caught in ``_call``."""

    def __init__(self, outcome: Outcome, reason: str, code: str = "", message: str = ""):
        super().__init__(reason)
        self.verdict = _Verdict(outcome, reason, code, message)


def verification_query(now: datetime) -> str:
    """The smallest question that needs a valid token: orders of the last minute, one page."""
    start, end = _period_ending(now)
    # The dates are digits we made; inlining them avoids guessing the input type's name.
    return (
        "query GoqVerifyToken { searchOrder(input: {"
        f'startOrderDate: "{start}", endOrderDate: "{end}", page: 1, limit: 1'
        "}) { searchedCount } }"
    )


# Assumed (public clients call getShop as their connection check; its fields are not
# published): the shop a token belongs to, by its login shop ID.
SHOP_QUERY = "query GoqWhichShop { getShop { shopId } }"
SHOP_MISMATCH = "shop_mismatch"  # the result's ``detail`` when MakeShop names another shop


class MakeShopAppClient:
    """Calls MakeShop's GraphQL endpoint for one shop token at a time.

    ``api_key`` is GoQ's, the same for every shop; ``clock`` gives the Unix time sent
    as ``x-timestamp`` (tests pass a stand-in).
    """

    @sensitive_variables("api_key")
    def __init__(
        self,
        graphql_url: str,
        api_key: str,
        *,
        connect_timeout: float = 5.0,
        read_timeout: float = 10.0,
        deadline: float = 20.0,
        max_bytes: int = 2_000_000,
        session: requests.Session | None = None,
        clock=time.time,
    ):
        self.graphql_url = graphql_url
        self._api_key = api_key
        self.timeout = (min(connect_timeout, deadline), min(read_timeout, deadline))
        self.deadline = deadline
        self.max_bytes = max_bytes
        self._clock = clock
        self._session = session if session is not None else new_session()
        install_log_redaction()

    def __repr__(self) -> str:
        return f"<MakeShopAppClient {self.graphql_url}>"

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        self.close()

    def close(self) -> None:
        self._session.close()

    @sensitive_variables()
    def verify_token(self, *, shop_id: str, token: str, now: datetime | None = None) -> CheckResult:
        """Ask for the last minute's order count: a ``searchedCount`` is a yes."""
        query = verification_query(now or datetime.now(UTC))
        return self._call(shop_id, token, query, _interpret_search_order)

    @sensitive_variables()
    def confirm_shop(self, *, shop_id: str, token: str) -> CheckResult:
        """Ask which shop the token belongs to (``SHOP_QUERY``, assumed): accepted when
        MakeShop names ``shop_id``, rejected (detail ``shop_mismatch``) when it names another
        shop ID; anything else (the query refused or not understood, an answer that is
        no login shop ID) means MakeShop could not tell, not that the token is wrong."""
        return self._call(shop_id, token, SHOP_QUERY, _shop_interpreter(shop_id))

    @sensitive_variables()
    def _call(self, shop_id, token, query, interpret) -> CheckResult:
        """One exchange turned into a ``CheckResult``; no exception leaves here."""
        secrets = (token, self._api_key)
        started = time.monotonic()
        with Deadline(self.deadline) as deadline:
            try:
                verdict = self._exchange(deadline, token, query, interpret)
            except _Stop as stop:
                verdict = stop.verdict
            except Exception as exc:  # texts may hold anything: type and frames only
                if deadline.expired:
                    verdict = _Verdict(Outcome.UNREACHABLE, "timeout")
                else:
                    verdict = _Verdict(Outcome.UNEXPECTED, "internal_error")
                    logger.error(
                        "MakeShop app call failed inside the client: %s\n%s",
                        type(exc).__name__,
                        "".join(traceback.format_tb(exc.__traceback__)),
                    )
        result = CheckResult(
            check=APP_TOKEN_CHECK,
            outcome=verdict.outcome,
            reason=verdict.reason,
            detail=scrub(verdict.code, secrets)[:50],
            message=scrub(verdict.message, secrets)[:MESSAGE_LIMIT],
            elapsed=time.monotonic() - started,
        )
        logger.info(
            "MakeShop app token check for shop %r: %s %s (%.2f s)",
            scrub(shop_id, secrets),
            result.outcome,
            result.reason or "-",
            result.elapsed,
        )
        return result

    @sensitive_variables()
    def _headers(self, token: str) -> dict[str, str]:
        return {
            "authorization": f"Bearer {token}",
            "x-api-key": self._api_key,
            "x-timestamp": str(int(self._clock())),  # fresh for every call
            "content-type": "application/json",
            "accept": "application/json",
        }

    @sensitive_variables()
    def _exchange(self, deadline, token, query, interpret) -> _Verdict:
        try:
            response = self._session.post(
                self.graphql_url,
                data=json.dumps({"query": query}).encode(),
                headers=self._headers(token),
                timeout=self.timeout,
                allow_redirects=False,
                stream=True,
            )
        except requests.RequestException as exc:
            reason = "timeout" if deadline.expired else transport_reason(exc)
            response = None
        if response is None:
            raise _Stop(Outcome.UNREACHABLE, reason)  # outside the except: no chained text

        with response:
            status = response.status_code
            if 300 <= status < 400:
                raise _Stop(Outcome.UNREACHABLE, "redirect")
            if status == 429:
                raise _Stop(Outcome.UNREACHABLE, "rate_limited")
            if status == 401:
                raise _Stop(Outcome.REJECTED, "token_rejected", "401")
            body = self._read_body(response, deadline)

        if status == 503:
            raise _Stop(Outcome.UNREACHABLE, "maintenance")
        if status >= 500:
            raise _Stop(Outcome.UNREACHABLE, Reason.HTTP_5XX, str(status))
        if not body.strip():
            if status == 200:
                raise _Stop(Outcome.UNEXPECTED, Reason.EMPTY)
            raise _Stop(Outcome.UNEXPECTED, Reason.UNEXPECTED_STATUS, str(status))
        head = body[:1024].lstrip().lower()
        if head.startswith((b"<!doctype html", b"<html")):
            if status == 200:
                raise _Stop(Outcome.UNEXPECTED, Reason.HTML)
            raise _Stop(Outcome.UNEXPECTED, Reason.UNEXPECTED_STATUS, str(status))
        try:
            data = json.loads(body.decode("utf-8-sig", errors="replace"))
        except (ValueError, RecursionError):
            raise _Stop(Outcome.UNEXPECTED, "bad_json") from None
        if not isinstance(data, dict):
            raise _Stop(Outcome.UNEXPECTED, "unexpected_json")
        if data.get("errors"):
            return _classify_errors(data["errors"])
        if status != 200:
            raise _Stop(
                Outcome.UNEXPECTED, Reason.UNEXPECTED_STATUS, str(status),
                message=_text(data.get("message")),
            )
        return interpret(data.get("data"))

    def _read_body(self, response: requests.Response, deadline) -> bytes:
        declared = response.headers.get("Content-Length", "")
        if declared.isdigit() and int(declared) > self.max_bytes:
            raise _Stop(Outcome.UNEXPECTED, "too_large")
        body = bytearray()
        reason = ""
        try:
            for chunk in response.iter_content(_CHUNK_SIZE):
                body += chunk
                if len(body) > self.max_bytes:
                    raise _Stop(Outcome.UNEXPECTED, "too_large")
                if deadline.expired:
                    break
        except requests.RequestException as exc:
            reason = "timeout" if deadline.expired else transport_reason(exc)
        if deadline.expired:
            raise _Stop(Outcome.UNREACHABLE, "timeout")
        if reason:
            raise _Stop(Outcome.UNREACHABLE, reason)
        return bytes(body)


# Reading answers ---------------------------------------------------------------------


def _classify_errors(errors) -> _Verdict:
    """Only a recognised authentication failure is the token's fault; see the module table."""
    if not isinstance(errors, list) or not errors:
        return _Verdict(Outcome.UNEXPECTED, "unexpected_json")
    first = errors[0] if isinstance(errors[0], dict) else {}
    for error in errors:
        if not isinstance(error, dict):
            continue
        extensions = error.get("extensions")
        code = _text(extensions.get("code")) if isinstance(extensions, dict) else ""
        message = _text(error.get("message"))
        if code.upper() in AUTH_ERROR_CODES or message.strip().casefold() in AUTH_ERROR_MESSAGES:
            return _Verdict(Outcome.REJECTED, "token_rejected", code, message)
        if code.upper() in _RATE_LIMIT_CODES or "too many requests" in message.casefold():
            return _Verdict(Outcome.UNREACHABLE, "rate_limited", code, message)
    extensions = first.get("extensions")
    code = _text(extensions.get("code")) if isinstance(extensions, dict) else ""
    return _Verdict(Outcome.UNEXPECTED, "graphql_error", code, _text(first.get("message")))


def _interpret_search_order(data) -> _Verdict:
    search = data.get("searchOrder") if isinstance(data, dict) else None
    count = search.get("searchedCount") if isinstance(search, dict) else None
    if isinstance(count, int) and not isinstance(count, bool) and count >= 0:
        return _Verdict(Outcome.ACCEPTED)
    raise _Stop(Outcome.UNEXPECTED, "unexpected_json")


def _shop_interpreter(expected: str):
    def interpret(data) -> _Verdict:
        shop = data.get("getShop") if isinstance(data, dict) else None
        named = shop.get("shopId") if isinstance(shop, dict) else None
        if not isinstance(named, str) or not api.SHOP_ID_RE.fullmatch(named):
            raise _Stop(Outcome.UNEXPECTED, "unexpected_json")
        if named.isdigit() and not expected.isdigit():  # a shop number, not its login ID
            raise _Stop(Outcome.UNEXPECTED, "unexpected_json")
        if named != expected:  # refused for this shop: the token is not its token
            return _Verdict(Outcome.REJECTED, "token_rejected", SHOP_MISMATCH,
                            "MakeShop names another shop for this token")
        return _Verdict(Outcome.ACCEPTED)
    return interpret


def _text(value) -> str:
    return value if isinstance(value, str) else ""


def _period_ending(now: datetime) -> tuple[str, str]:
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    end = now.astimezone(MAKESHOP_TZ)
    start = end - VERIFICATION_PERIOD
    return start.strftime("%Y%m%d%H%M%S"), end.strftime("%Y%m%d%H%M%S")


# The shared client ---------------------------------------------------------------------


@lru_cache(maxsize=4)
def _client_for(graphql_url: str, api_key: str) -> MakeShopAppClient:
    return MakeShopAppClient(graphql_url, api_key)


def get_app_client() -> MakeShopAppClient | None:
    """The shared client for the configured endpoint, or None when the new API is off."""
    config = get_config()
    if not config.enabled:
        return None
    return _client_for(config.graphql_url, config.api_key)
