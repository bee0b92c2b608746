"""Reading RMS's answers: an HTTP status, content type and body become a ``Verdict``.

Rakuten's own API documentation sits behind the RMS login, so what an answer means
comes from public sources: peers' manuals, public code that calls RMS, and one
public copy of RMS's authentication page (``docs/rakuten.md``; the research it
rests on labels each fact confirmed or inferred). A verdict is given only from that:
"refused" only for answers known to mean it, "accepted" only for the shapes public
clients read, anything else "unexpected" (RMS's words kept, never the merchant's
fault, never success). ``RULES`` is the one table of every rule, in the order they
are tried, each with its evidence; the functions above it are what the table runs.
Untrusted XML is parsed with defusedxml.

A refusal read here is always ``Reason.UNAUTHORISED`` (or ``EXPIRED`` when RMS says
so): which function is missing, or whether the key is merely too new, shows only
across checks, and is decided by the client and ``malls.rakuten.connections``.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, NamedTuple

import defusedxml
import defusedxml.ElementTree

from malls.verdicts import EvidenceRule

from .api import RMS_TZ, Check, Outcome, Reason, normalize_shop_url


class Verdict(NamedTuple):
    """What an answer means; ``reason`` None is a yes. ``rule`` names the row of ``RULES``.

    ``fact`` is what an accepted answer told us: the expiry date (EXPIRY) or the
    shop code RMS reports (SHOP); the shop code also rides on an ``other_shop``.
    """

    reason: Reason | None = None
    detail: str = ""
    message: str = ""
    rule: str = ""
    fact: Any = None

    @property
    def outcome(self) -> Outcome:
        return Outcome.ACCEPTED if self.reason is None else self.reason.outcome


class Words(NamedTuple):
    """An error answer's ``code`` and ``message`` (either may be empty)."""

    code: str
    message: str


@dataclass(frozen=True)
class Reply:
    """One answer as it came: status, ``Content-Type`` header and body.

    ``body`` is None before it is read: only the status rules can decide then.
    """

    status: int
    content_type: str
    body: bytes | None

    @property
    def charset(self) -> str:
        match = re.search(r";\s*charset\s*=\s*[\"']?([A-Za-z0-9._:-]+)", self.content_type or "")
        return match[1] if match else ""

    def text(self) -> str:
        try:
            return (self.body or b"").decode(self.charset or "utf-8-sig", errors="replace")
        except LookupError:
            return (self.body or b"").decode("utf-8", errors="replace")

    def json(self):
        """The body as JSON; None if it is not JSON."""
        try:
            return json.loads(self.text())
        except (ValueError, RecursionError):
            return None

    def xml(self):
        """The body as an XML element; None if it is not XML. Unsafe XML is refused."""
        try:
            return defusedxml.ElementTree.fromstring(self.body or b"")
        except defusedxml.DefusedXmlException:
            raise _Unsafe from None
        except (defusedxml.ElementTree.ParseError, ValueError):
            return None


class _Unsafe(Exception):
    """XML with entities or a DTD: never parsed."""


# --- What the rules look for ----------------------------------------------------------

# The codes public sources tie to refused keys: ES01-01 "Un-Authorised" (raku2han,
# 速販, LOGILESS, 頑張れ店長), GA0001 (bfaith-portal's observation), ES04-01 "Bad
# Request" (速販: a key RMS does not know yet, or an expired or wrong one).
REFUSAL_CODES = frozenset({"ES01-01", "GA0001", "ES04-01"})
# RMS's words for an expired key (TēPs lists 「有効期限のないライセンスキーが指定された」).
_EXPIRED_WORDS = re.compile(r"(?i)有効期限|expired")


def words_of(reply: Reply) -> Words | None:
    """The error code and message an answer carries, in any of RMS's shapes; None if none.

    ES 1.0 ``{"Results": {"errorCode", "message"}}``; order API 2.0
    ``MessageModelList[{messageType: ERROR, messageCode, message}]``; items API
    ``errors[{code, message}]``; inquiry API ``{"error": {code, message}}``; XML
    ``<status><systemStatus>NG</systemStatus><message>`` or ``<errors><element>``.
    """
    if not reply.body:
        return None
    data = reply.json()
    if isinstance(data, dict):
        return _json_words(data)
    try:
        root = reply.xml()
    except _Unsafe:
        return None
    return _xml_words(root) if root is not None else None


def _json_words(data: dict) -> Words | None:
    candidates = []
    if isinstance(results := data.get("Results"), dict):
        candidates.append((results.get("errorCode"), results.get("message")))
    if isinstance(error := data.get("error"), dict):
        candidates.append((error.get("code"), error.get("message")))
    for item in _list(data.get("errors")):
        candidates.append((item.get("code"), item.get("message")))
    for item in _list(data.get("MessageModelList")):
        if str(item.get("messageType", "")).upper() == "ERROR":
            candidates.append((item.get("messageCode"), item.get("message")))
    for code, message in candidates:
        if code or message:
            return Words(_text(code), _text(message))
    return None


def _xml_words(root) -> Words | None:
    status = root.find(".//status")
    if status is not None and (status.findtext("systemStatus") or "").strip().upper() == "NG":
        return Words(
            (status.findtext("code") or "").strip(),
            " ".join((status.findtext("message") or "").split()),
        )
    element = root.find(".//errors/element")
    if element is not None:
        return Words(
            (element.findtext("code") or "").strip(),
            " ".join((element.findtext("message") or "").split()),
        )
    return None


def _list(value) -> list[dict]:
    return [item for item in value if isinstance(item, dict)] if isinstance(value, list) else []


def _text(value) -> str:
    return " ".join(str(value).split()) if value is not None else ""


def expiry_date(text: str) -> date | None:
    """The last valid day of a key, in Japan, from RMS's ``expiryDate``.

    RMS writes JST with no zone ("2026-11-28T23:59:59"); should it ever add one, the
    time is moved to Japan first.
    """
    try:
        moment = datetime.fromisoformat(text)
    except (TypeError, ValueError):
        return None
    if moment.tzinfo is not None:
        moment = moment.astimezone(RMS_TZ)
    return moment.date()


def looks_like_html(body: bytes) -> bool:
    head = body[:1024].lstrip().lower()
    return head.startswith((b"<!doctype html", b"<html")) or b"<html" in head


# --- The rules ------------------------------------------------------------------------


def _redirect(check, reply):
    if 300 <= reply.status < 400:
        return Verdict(Reason.REDIRECT, str(reply.status))


def _rate_limited(check, reply):
    if reply.status == 429:
        return Verdict(Reason.RATE_LIMITED, "429")


def _server_error(check, reply):
    if reply.status >= 500:
        return Verdict(Reason.HTTP_5XX, str(reply.status))


def _refused_status(check, reply):
    if reply.status in (401, 403) and reply.body is not None:
        words = words_of(reply) or Words("", "")
        reason = Reason.EXPIRED if _EXPIRED_WORDS.search(words.message) else Reason.UNAUTHORISED
        return Verdict(reason, words.code or str(reply.status), words.message)


def _refusal_code(check, reply):
    if reply.status >= 400 and reply.body is not None:
        words = words_of(reply)
        if words is not None and words.code.upper() in REFUSAL_CODES:
            return Verdict(Reason.UNAUTHORISED, words.code, words.message)


def _other_status(check, reply):
    if reply.status != 200 and reply.body is not None:
        words = words_of(reply)
        if words is not None:
            return Verdict(Reason.UNKNOWN_ERROR, words.code or str(reply.status), words.message)
        return Verdict(Reason.UNEXPECTED_STATUS, str(reply.status))


def _empty(check, reply):
    if reply.body is not None and not reply.body.strip():
        return Verdict(Reason.EMPTY)


def _web_page(check, reply):
    if reply.body is not None and looks_like_html(reply.body):
        return Verdict(Reason.HTML)


def _expiry_date(check, reply):
    data = reply.json()
    if data is None:
        return Verdict(Reason.BAD_JSON)
    value = data.get("expiryDate") if isinstance(data, dict) else None
    if isinstance(value, str) and (day := expiry_date(value)) is not None:
        return Verdict(fact=day)


def _orders(check, reply):
    data = reply.json()
    if data is None:
        return Verdict(Reason.BAD_JSON)
    if not isinstance(data, dict):
        return None
    words = _json_words(data)
    if words is not None:
        if words.code.upper() in REFUSAL_CODES:
            return Verdict(Reason.UNAUTHORISED, words.code, words.message)
        return Verdict(Reason.UNKNOWN_ERROR, words.code, words.message)
    if isinstance(data.get("orderNumberList"), list | type(None)) and (
        "orderNumberList" in data or "MessageModelList" in data
    ):
        return Verdict()


def _shop_master(check, reply):
    try:
        root = reply.xml()
    except _Unsafe:
        return Verdict(Reason.UNSAFE_XML)
    if root is None:
        return Verdict(Reason.BAD_XML)
    words = _xml_words(root)
    if words is not None:
        if words.code.upper() in REFUSAL_CODES:
            return Verdict(Reason.UNAUTHORISED, words.code, words.message)
        return Verdict(Reason.UNKNOWN_ERROR, words.code, words.message)
    url = root.findtext(".//shopMaster/url")
    if url and (code := normalize_shop_url(url)):
        return Verdict(fact=code)


def _unexpected(check, reply):
    return Verdict(
        {
            Check.EXPIRY: Reason.UNEXPECTED_JSON,
            Check.ORDERS: Reason.UNEXPECTED_JSON,
            Check.SHOP: Reason.UNEXPECTED_XML,
        }[check]
    )


ALL = frozenset(Check)


# The table's rows (``malls.verdicts.EvidenceRule``). ``reads`` is "status" (the status
# line only: decided before the body is read) or "body". ``evidence`` starts with
# "confirmed:" (a public source states it), "inferred:" (a reading of several sources; a
# design assumption to test) or "ours:" (a choice of GoQ's, not a claim about RMS), and
# names its source.
Rule = EvidenceRule


RULES: tuple[Rule, ...] = (
    Rule("redirect", "status", ALL, "unreachable: redirect",
         "ours: a redirect is never followed (it would carry the ESA header along)",
         _redirect),
    Rule("rate-limited", "status", ALL, "unreachable: rate_limited",
         "inferred: no published limit; peers retry 429 honouring Retry-After "
         "(bfaith-portal rakuten-client.js)", _rate_limited),
    Rule("server-error", "status", ALL, "unreachable: http_5xx",
         "inferred: peers retry 5xx (bfaith-portal rakuten-client.js)", _server_error),
    Rule("refused-status", "body", ALL, "rejected: unauthorised (expired if RMS says so)",
         "confirmed: 401 ES01-01 Un-Authorised for expired, wrong or not-yet-active keys "
         "(raku2han, 速販, LOGILESS, 頑張れ店長); 401 GA0001 once expired and 401/403 read "
         "as lost rights (bfaith-portal); inferred: the JSON body shape "
         "{Results:{errorCode,message}} (a mock in rms-mcp tests)", _refused_status),
    Rule("refusal-code", "body", ALL, "rejected: unauthorised",
         "confirmed: ES04-01 Bad Request for a key RMS does not recognise yet, or an expired "
         "or wrong one (速販 ufaq); inferred: its HTTP status (400)", _refusal_code),
    Rule("other-status", "body", ALL, "unexpected: unknown_error / unexpected_status",
         "ours: any other status is not a verdict on the keys; RMS's words are kept",
         _other_status),
    Rule("empty", "body", ALL, "unexpected: empty", "ours: an empty 200 says nothing", _empty),
    Rule("web-page", "body", ALL, "unexpected: html",
         "ours: a web page is not the API's answer (a login page, a portal)", _web_page),
    Rule("expiry-date", "body", frozenset({Check.EXPIRY}), "accepted, with the expiry date",
         "confirmed: 200 {\"expiryDate\":\"2026-11-28T23:59:59\"}, JST without a zone "
         "(bfaith-portal notify-rakuten-license-expiry.js, observed; JakeJP "
         "LicenseManagementAPI.cs)", _expiry_date),
    Rule("orders", "body", frozenset({Check.ORDERS}), "accepted (or RMS's ERROR message)",
         "confirmed: searchOrder answers orderNumberList, PaginationResponseModel and "
         "MessageModelList; messageType ERROR is a failure (JakeJP SearchOrderResponse, "
         "RakutenPayOrderService.cs)", _orders),
    Rule("shop-master", "body", frozenset({Check.SHOP}), "accepted, with the shop's code",
         "confirmed: XML shopBizApiResponse/result/shopMaster with url (the 店舗URL), read "
         "by public code (JakeJP ShopAPI.cs, ShopMasterBizModel.cs); status NG with a "
         "message on errors (JakeJP XmlStatus.cs)", _shop_master),
    Rule("unexpected", "body", ALL, "unexpected: unexpected_json / unexpected_xml",
         "ours: an answer in no shape above is never read as success", _unexpected),
)


def read(check: Check, reply: Reply) -> Verdict | None:
    """The verdict of the first rule that decides; None while the body is still unread
    and no status rule applies."""
    for rule in RULES:
        if check not in rule.checks or (reply.body is None and rule.reads != "status"):
            continue
        verdict = rule.test(check, reply)
        if verdict is not None:
            return verdict._replace(rule=rule.name)
    return None
