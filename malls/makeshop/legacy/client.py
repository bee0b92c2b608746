"""MakeShop's legacy (auth-code) API, reduced to three checks that answer and never raise.

Each check returns a ``CheckResult``; transport failures and odd answers become
results too (see ``malls.makeshop.api`` for every reason), so a form can report them
on the right field instead of failing with a 500 page.

Secrets travel in the order API's query string, so they are kept out of every text
this module produces: exception texts are never logged or returned, urllib3's
URL-bearing log records are redacted, MakeShop's own messages are scrubbed, and no
exception leaves a check (see ``MakeShopClient._check``).
"""

import logging
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import lru_cache, partial

import requests
from django.conf import settings
from django.views.decorators.debug import sensitive_variables

from core.redaction import install_log_redaction
from core.redaction import scrub as scrub_secrets
from malls import http as transport

from ..api import (
    MAKESHOP_TZ,
    ORDER_INFO_PATH,
    PRODUCT_AUTH_PATH,
    WEBFTP_LOGIN_PATH,
    Check,
    CheckResult,
    Reason,
)
from . import answers, signs
from .answers import Reply, StopCheck, Verdict

logger = logging.getLogger("malls.makeshop")

# The order check asks for this explicit period: a call without one would move
# MakeShop's "last fetched" marker and make the order import miss orders.
ORDER_CHECK_PERIOD = timedelta(minutes=1)

MESSAGE_LIMIT = 500
DETAIL_LIMIT = 50
_CHUNK_SIZE = 16 * 1024


@dataclass(frozen=True)
class Call:
    """How one check asks MakeShop, and how its answer is read."""

    method: str
    path: str
    # (shop_id, secret, now) -> the request's ``params`` or ``data``
    request: Callable[[str, str, datetime], dict]
    # The answer -> its verdict (``answers.read`` for the check: the table of rules).
    interpret: Callable[[Reply], Verdict | None]


def _order_request(shop_id: str, secret: str, now: datetime) -> dict:
    start, end = _period_ending(now)
    return {
        "params": {
            "cmd": "get",
            "shopid": shop_id,
            "token": secret,
            "service": "goq",
            "start": start,
            "end": end,
        }
    }


def _product_request(shop_id: str, secret: str, now: datetime) -> dict:
    return {
        "data": {
            "shop_id": shop_id,
            "auth_code": secret,
            "process": "search",
            "response_format": "json",
        }
    }


def _login_request(shop_id: str, secret: str, now: datetime) -> dict:
    return {"data": {"id": shop_id, "pw": secret}}  # sent whole: never truncated


CALLS: dict[Check, Call] = {
    # The last minute's orders (usually none): an <orders> document is a yes.
    Check.ORDER_AUTH_CODE: Call(
        "GET", ORDER_INFO_PATH, _order_request, partial(answers.read, Check.ORDER_AUTH_CODE)
    ),
    # Opens a product session: MakeShop's status_code "200" is a yes.
    Check.PRODUCT_AUTH_CODE: Call(
        "POST", PRODUCT_AUTH_PATH, _product_request, partial(answers.read, Check.PRODUCT_AUTH_CODE)
    ),
    # Logs in to the bulk upload service as the main administrator.
    Check.PASSWORD: Call(
        "POST", WEBFTP_LOGIN_PATH, _login_request, partial(answers.read, Check.PASSWORD)
    ),
}


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
        self.base_url = transport.validated_base_url(base_url)
        self.timeout = (min(connect_timeout, deadline), min(read_timeout, deadline))
        self.deadline = deadline
        self.max_bytes = max_bytes
        self._session = session if session is not None else transport.new_session()
        install_log_redaction()

    def __repr__(self) -> str:
        return f"<MakeShopClient {self.base_url}>"

    def close(self) -> None:
        self._session.close()

    # Every local of these calls, and of the requests/urllib3 frames beneath them,
    # is hidden from Django's error reports (DEBUG off).
    @sensitive_variables()
    def verify(
        self, check: Check, *, shop_id: str, secret: str, now: datetime | None = None
    ) -> CheckResult:
        """Ask MakeShop whether it accepts ``secret`` for ``check``; never raises.

        ``now`` (timezone-aware) places the order check's one-minute period.
        """
        call = CALLS[check]
        request = call.request(shop_id, secret, now or datetime.now(UTC))
        return self._check(check, shop_id, (secret,), call, request)

    @sensitive_variables()
    def verify_order_auth_code(
        self, *, shop_id: str, auth_code: str, now: datetime | None = None
    ) -> CheckResult:
        return self.verify(Check.ORDER_AUTH_CODE, shop_id=shop_id, secret=auth_code, now=now)

    @sensitive_variables()
    def verify_product_auth_code(self, *, shop_id: str, auth_code: str) -> CheckResult:
        return self.verify(Check.PRODUCT_AUTH_CODE, shop_id=shop_id, secret=auth_code)

    @sensitive_variables()
    def verify_login(self, *, shop_id: str, password: str) -> CheckResult:
        return self.verify(Check.PASSWORD, shop_id=shop_id, secret=password)

    def _check(self, check, shop_id, secrets, call: Call, request: dict) -> CheckResult:
        """Run one exchange and turn whatever happens into a ``CheckResult``.

        No exception leaves here. With DEBUG on, Django's error page shows every
        local of every frame unfiltered, so the only safe traceback through this
        code is one that never reaches the caller.
        """
        started = time.monotonic()
        with transport.Deadline(self.deadline) as deadline:
            try:
                verdict = self._exchange(deadline, call, request)
            except StopCheck as stop:
                verdict = stop.verdict
            except Exception as exc:  # see the docstring
                if deadline.expired:
                    verdict = Verdict(Reason.TIMEOUT)
                else:
                    verdict = Verdict(Reason.INTERNAL_ERROR)
                    _log_internal_error(exc)
        verdict = self._remember(shop_id, verdict)
        result = CheckResult(
            check=check,
            outcome=verdict.outcome,
            reason=verdict.reason,
            detail=scrub_secrets(verdict.detail, secrets)[:DETAIL_LIMIT],
            message=scrub_secrets(verdict.message, secrets)[:MESSAGE_LIMIT],
            elapsed=time.monotonic() - started,
        )
        logger.info(
            "MakeShop %s check for shop %r: %s %s%s (%.2f s)",
            check,
            scrub_secrets(shop_id, secrets),  # in case a code was typed into the shop id field
            result.outcome,
            result.reason or "-",
            f" {result.detail}" if result.detail else "",
            result.elapsed,
        )
        return result

    def _remember(self, shop_id: str, verdict: Verdict) -> Verdict:
        """Note the answer in the shop's slot (if the call runs in one) and let what
        the slot remembers decide (rule "web-pages-again" in ``answers.RULES``)."""
        book = signs.current()
        if book is None or verdict.rule not in answers.NOT_AN_API | answers.AN_API:
            return verdict
        try:
            seen = book.note(shop_id, not_an_api=verdict.rule in answers.NOT_AN_API)
        except Exception as exc:  # the memory is a hint: the answer's own verdict stands
            _log_internal_error(exc)
            return verdict
        return answers.escalate(verdict, seen)

    def _exchange(self, deadline, call: Call, request: dict) -> Verdict:
        try:
            response = self._session.request(
                call.method,
                self.base_url + call.path,
                timeout=self.timeout,
                allow_redirects=False,
                stream=True,
                **request,
            )
        except requests.RequestException as exc:
            reason = Reason.TIMEOUT if deadline.expired else Reason(transport.transport_reason(exc))
            response = None
        if response is None:
            # Raised out here so that requests' exception, whose text holds the URL,
            # is not chained to it.
            raise StopCheck(reason)

        with response:
            head = Reply(response.status_code, response.headers.get("Content-Type", ""), None)
            verdict = call.interpret(head)  # a redirect or a 404 is not worth reading
            if verdict is not None:
                return verdict
            body = self._read_body(response, deadline)
        return call.interpret(Reply(head.status, head.content_type, body))

    def _read_body(self, response: requests.Response, deadline: transport.Deadline) -> bytes:
        declared = response.headers.get("Content-Length", "")
        if declared.isdigit() and int(declared) > self.max_bytes:
            raise StopCheck(Reason.TOO_LARGE)
        body = bytearray()
        try:
            for chunk in response.iter_content(_CHUNK_SIZE):
                body += chunk
                if len(body) > self.max_bytes:
                    raise StopCheck(Reason.TOO_LARGE)
                if deadline.expired:
                    break
        except requests.RequestException as exc:
            reason = Reason.TIMEOUT if deadline.expired else Reason(transport.transport_reason(exc))
        else:
            reason = None
        # Once the deadline has cut the socket, what was read may look complete.
        if deadline.expired:
            raise StopCheck(Reason.TIMEOUT)
        if reason:
            raise StopCheck(reason)
        return bytes(body)


def _log_internal_error(exc: BaseException) -> None:
    # The type and the code lines only: exception texts can hold the URL.
    logger.error(
        "MakeShop check failed inside the client: %s\n%s",
        type(exc).__name__,
        "".join(traceback.format_tb(exc.__traceback__)),
    )


def _period_ending(now: datetime) -> tuple[str, str]:
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    end = now.astimezone(MAKESHOP_TZ)
    start = end - ORDER_CHECK_PERIOD
    return start.strftime("%Y%m%d%H%M%S"), end.strftime("%Y%m%d%H%M%S")


@lru_cache(maxsize=4)
def _client_for(base_url: str) -> MakeShopClient:
    return MakeShopClient(base_url)


def get_client() -> MakeShopClient:
    """The shared client for ``settings.MAKESHOP_API_BASE_URL``, read on each call."""
    return _client_for(settings.MAKESHOP_API_BASE_URL)
