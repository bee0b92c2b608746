"""RMS WEB SERVICE, reduced to the checks GoQ needs; a verification never raises.

Every call carries ``Authorization: ESA base64(serviceSecret:licenseKey)`` (RMS's
authentication page) and goes through the shared transport: a deadline for the
whole call, a cap on the answer's size, no redirects. A verification asks, in order:

1. the licenseKey's expiry date (``license.expiryDate.get``): stored, and a date
   already past is ``expired``;
2. a search over the last minute's orders (``rpay.order.searchOrder``): order import
   will work;
3. the shop master (``shop.shopMaster.get``): the shop RMS reports must be the
   店舗URL the merchant typed.

RMS does not say which function a refusal is about, so the checks explain each
other: keys refused by the expiry call but accepted by the order search work, and
only ``license.expiryDate.get`` is missing; refused by both, they are refused.

Both keys can leak through texts: the licenseKey is in the expiry call's query
string. Exception texts are never logged or returned, URL-bearing log records are
redacted (``malls.rakuten.redaction``), RMS's own words are scrubbed of the keys.
"""

import base64
import json
import logging
import time
import traceback
from datetime import UTC, date, datetime, timedelta
from functools import lru_cache

from django.conf import settings
from django.views.decorators.debug import sensitive_variables

from core.redaction import scrub
from malls import http, throttle  # http: the one outgoing transport
from malls.providers import RatePolicy

from . import answers
from .answers import Reply, Verdict
from .api import (
    EXPIRY_PATH,
    NOT_ENABLED,
    RMS_TZ,
    SEARCH_ORDER_PATH,
    SHOP_MASTER_PATH,
    Check,
    CheckResult,
    Facts,
    Outcome,
    Reason,
    Verification,
)
from .redaction import install_log_redaction

logger = logging.getLogger("malls.rakuten")

# The order check asks for the last minute only: the cheapest search that still
# proves order import will work (rms-mcp's smoke test does the same).
ORDER_CHECK_PERIOD = timedelta(minutes=1)
MALL = "rakuten"  # Mall.code, and the call slots' prefix ("rakuten:<店舗URL>")
# One call per second per shop: no figure is published; peers keep 1-1.1 s. All of
# GoQ's calls together stay under RAKUTEN_MAX_CALLS_PER_SECOND.
RATE = RatePolicy(spacing=1.0, ceiling_setting="RAKUTEN_MAX_CALLS_PER_SECOND",
                  default_ceiling=10.0)
MESSAGE_LIMIT = 500
DETAIL_LIMIT = 50
_CHUNK_SIZE = 16 * 1024


def esa_header(service_secret: str, license_key: str) -> str:
    """RMS's ``Authorization`` value: "ESA " and Base64 of ``secret:key``, one line."""
    pair = f"{service_secret}:{license_key}".encode("ascii")
    return "ESA " + base64.b64encode(pair).decode("ascii")


def call_slot(shop_url: str):
    """The shop's call slot and a tick of Rakuten's ceiling, coordinated through the
    database (``malls.throttle``): every process and machine spaces the same shop."""
    return throttle.call_slot(MALL, shop_url, rate=RATE)


class RakutenClient:
    """Checks a shop's RMS keys against one base URL (RMS or the sandbox).

    ``deadline`` bounds each call, whatever RMS does; ``pace(shop_url)`` is a
    context manager entered around each call: the shop's database call slot
    (``call_slot``) unless a test lends another.
    """

    def __init__(
        self,
        base_url: str,
        *,
        connect_timeout: float = 5.0,
        read_timeout: float = 10.0,
        deadline: float = 20.0,
        max_bytes: int = 1_000_000,
        pace=None,
        session=None,
    ):
        self.base_url = http.validated_base_url(base_url)
        self.timeout = (min(connect_timeout, deadline), min(read_timeout, deadline))
        self.deadline = deadline
        self.max_bytes = max_bytes
        self.pace = pace if pace is not None else call_slot
        self._session = session if session is not None else http.new_session()
        install_log_redaction()

    def __repr__(self) -> str:
        return f"<RakutenClient {self.base_url}>"

    def close(self) -> None:
        self._session.close()

    @sensitive_variables()
    def verify(
        self,
        *,
        service_secret: str,
        license_key: str,
        shop_url: str,
        now: datetime | None = None,
        known_expires_on: date | None = None,
    ) -> Verification:
        """Ask RMS about the keys for ``shop_url``; never raises.

        ``now`` (timezone-aware) places the order search and decides whether a date
        has passed; ``known_expires_on`` is the date stored before, which names an
        outright refusal ``expired`` once it has passed.
        """
        now = now or datetime.now(UTC)
        today = now.astimezone(RMS_TZ).date()
        keys = (service_secret, license_key)
        call = _Call(self, shop_url, esa_header(service_secret, license_key), keys)

        expiry = call.ask(Check.EXPIRY, "GET", EXPIRY_PATH, params={"licenseKey": license_key})
        expires_on = expiry.fact if expiry.reason is None else None
        if expires_on is not None and expires_on < today:
            expiry = Verdict(Reason.EXPIRED, expires_on.isoformat(), rule=expiry.rule)
        if expiry.reason is Reason.UNAUTHORISED and known_expires_on and known_expires_on < today:
            expiry = expiry._replace(reason=Reason.EXPIRED)
        facts = Facts(expires_on=expires_on)
        if expiry.reason is not None and expiry.reason is not Reason.UNAUTHORISED:
            return Verification((call.result(Check.EXPIRY, expiry),), facts)

        orders = call.ask(Check.ORDERS, "POST", SEARCH_ORDER_PATH, json=_order_search(now))
        if expiry.reason is Reason.UNAUTHORISED:
            if orders.reason is None:  # the keys work: only the expiry function is missing
                expiry = expiry._replace(reason=Reason.EXPIRY_NOT_ENABLED)
            elif orders.reason is Reason.UNAUTHORISED:  # refused twice: the keys
                return Verification((call.result(Check.EXPIRY, expiry),), facts)
            else:  # no verdict on the keys
                return Verification((call.result(Check.ORDERS, orders),), facts)
        elif orders.reason is Reason.UNAUTHORISED:  # the keys work for the expiry call
            orders = orders._replace(reason=NOT_ENABLED[Check.ORDERS])
        results = [call.result(Check.EXPIRY, expiry), call.result(Check.ORDERS, orders)]
        if orders.reason is not None and orders.reason.outcome is not Outcome.REJECTED:
            return Verification(tuple(results), facts)

        shop = call.ask(Check.SHOP, "GET", SHOP_MASTER_PATH)
        reported = shop.fact if shop.reason is None else ""
        keys_work = expiry.reason is None or orders.reason is None
        if shop.reason is Reason.UNAUTHORISED and keys_work:
            shop = shop._replace(reason=NOT_ENABLED[Check.SHOP])
        elif reported and reported != shop_url:
            shop = Verdict(Reason.OTHER_SHOP, reported, rule=shop.rule, fact=reported)
        results.append(call.result(Check.SHOP, shop))
        return Verification(tuple(results), Facts(expires_on, reported))

    @sensitive_variables()
    def read_expiry(
        self, *, service_secret: str, license_key: str, shop_url: str,
        now: datetime | None = None,
    ) -> Verification:
        """The expiry call alone (the daily re-read): one call, the date as a fact."""
        today = (now or datetime.now(UTC)).astimezone(RMS_TZ).date()
        call = _Call(
            self, shop_url, esa_header(service_secret, license_key), (service_secret, license_key)
        )
        verdict = call.ask(Check.EXPIRY, "GET", EXPIRY_PATH, params={"licenseKey": license_key})
        expires_on = verdict.fact if verdict.reason is None else None
        if expires_on is not None and expires_on < today:
            verdict = Verdict(Reason.EXPIRED, expires_on.isoformat(), rule=verdict.rule)
        return Verification((call.result(Check.EXPIRY, verdict),), Facts(expires_on=expires_on))


class _Call:
    """One verification's calls: the shop, the header, and the keys to scrub."""

    def __init__(self, client: RakutenClient, shop_url: str, authorization: str, keys):
        self.client = client
        self.shop_url = shop_url
        self.headers = {"Authorization": authorization}
        self.secrets = (*keys, authorization.removeprefix("ESA "))

    def ask(self, check: Check, method: str, path: str, **request) -> Verdict:
        """One exchange, turned into a verdict whatever happens. No exception leaves:
        with DEBUG on, Django's error page would show every local of every frame."""
        started = time.monotonic()
        try:
            with self.client.pace(self.shop_url), http.Deadline(self.client.deadline) as deadline:
                try:
                    verdict = self._exchange(deadline, check, method, path, request)
                except _Stop as stop:
                    verdict = stop.verdict
                except OSError as exc:  # requests' exceptions are OSErrors
                    verdict = Verdict(_transport_reason(exc, deadline))
        except throttle.SlotWaitTimeout:  # the shop's other calls kept its slot too long
            verdict = Verdict(Reason.BUSY)
        except Exception as exc:  # see the docstring
            verdict = Verdict(Reason.INTERNAL_ERROR)
            _log_internal_error(exc)
        logger.info(
            "Rakuten %s check for shop %r: %s %s%s (%.2f s)",
            check,
            scrub(self.shop_url, self.secrets),
            verdict.outcome,
            verdict.reason or "-",
            f" {self._clean(verdict.detail, DETAIL_LIMIT)}" if verdict.detail else "",
            time.monotonic() - started,
        )
        return verdict

    def result(self, check: Check, verdict: Verdict) -> CheckResult:
        return CheckResult(
            check=check,
            outcome=verdict.outcome,
            reason=verdict.reason,
            detail=self._clean(verdict.detail, DETAIL_LIMIT),
            message=self._clean(verdict.message, MESSAGE_LIMIT),
        )

    def _clean(self, text: str, limit: int) -> str:
        return scrub(text, self.secrets)[:limit]

    def _exchange(self, deadline, check, method, path, request) -> Verdict:
        client = self.client
        headers = dict(self.headers)
        if check is not Check.SHOP:  # the shop master answers XML
            headers["Accept"] = "application/json"
        if "json" in request:
            headers["Content-Type"] = "application/json; charset=utf-8"
            request = {"data": json.dumps(request.pop("json")).encode("utf-8"), **request}
        response = client._session.request(
            method,
            client.base_url + path,
            headers=headers,
            timeout=client.timeout,
            allow_redirects=False,
            stream=True,
            **request,
        )
        with response:
            head = Reply(response.status_code, response.headers.get("Content-Type", ""), None)
            verdict = answers.read(check, head)
            if verdict is not None:  # a redirect or a 5xx is not worth reading
                return verdict
            body = self._read_body(response, deadline)
        return answers.read(check, Reply(head.status, head.content_type, body))

    def _read_body(self, response, deadline) -> bytes:
        limit = self.client.max_bytes
        declared = response.headers.get("Content-Length", "")
        if declared.isdigit() and int(declared) > limit:
            raise _Stop(Reason.TOO_LARGE)
        body = bytearray()
        for chunk in response.iter_content(_CHUNK_SIZE):
            body += chunk
            if len(body) > limit:
                raise _Stop(Reason.TOO_LARGE)
            if deadline.expired:
                break
        # Once the deadline has cut the socket, what was read may look complete.
        if deadline.expired:
            raise _Stop(Reason.TIMEOUT)
        return bytes(body)


class _Stop(Exception):
    def __init__(self, reason: Reason):
        super().__init__(reason)
        self.verdict = Verdict(reason)


def _transport_reason(exc: OSError, deadline) -> Reason:
    if deadline.expired:
        return Reason.TIMEOUT
    # The transport names the failure from the exception's causes, never its text.
    return Reason.of(http.transport_reason(exc).value) or Reason.CONNECTION


def _order_search(now: datetime) -> dict:
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    end = now.astimezone(RMS_TZ).replace(microsecond=0)
    start = end - ORDER_CHECK_PERIOD
    return {
        "dateType": 1,  # 注文日
        "startDatetime": start.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "endDatetime": end.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "PaginationRequestModel": {"requestRecordsAmount": 30, "requestPage": 1},
    }


def _log_internal_error(exc: BaseException) -> None:
    # The type and the code lines only: exception texts can hold the URL.
    logger.error(
        "Rakuten check failed inside the client: %s\n%s",
        type(exc).__name__,
        "".join(traceback.format_tb(exc.__traceback__)),
    )


@lru_cache(maxsize=4)
def _client_for(base_url: str) -> RakutenClient:
    return RakutenClient(base_url)


def get_client() -> RakutenClient:
    """The shared client for ``settings.RAKUTEN_API_BASE_URL``, read on each call (the
    call slots read the ceiling ``RAKUTEN_MAX_CALLS_PER_SECOND`` on each call too)."""
    return _client_for(settings.RAKUTEN_API_BASE_URL)
