"""Reading the legacy API's answers: an HTTP status, content type and body become a ``Verdict``.

MakeShop publishes almost nothing about its answers (see ``docs/makeshop.md``, which
marks every fact as known or assumed), so a verdict is given only from what we know:
"rejected" only for an answer known to mean it, "accepted" only for the answer shape
public clients read, and anything else "unexpected" (MakeShop's words kept, never the
merchant's fault, never success). ``RULES`` below is the one table of every rule, in
the order they are tried, each with the evidence or the assumption behind it; the
functions above it are what the table runs. Untrusted XML is parsed with defusedxml.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import cached_property
from typing import NamedTuple

import defusedxml
import defusedxml.ElementTree

from malls.verdicts import EvidenceRule

from ..api import Check, Outcome, Reason
from .reading import codec_for, decoded_text, looks_like_html, mentions_maintenance
from .signs import RETIRED_AFTER_SHOPS, RETIRED_AFTER_STREAK, Signs


class Verdict(NamedTuple):
    """What an answer means; ``reason`` None is a yes. ``rule`` names the row of ``RULES``."""

    reason: Reason | None = None
    detail: str = ""
    message: str = ""
    rule: str = ""

    @property
    def outcome(self) -> Outcome:
        return Outcome.ACCEPTED if self.reason is None else self.reason.outcome


ACCEPTED = Verdict()


class StopCheck(Exception):
    """Ends a check early with its verdict; always caught by the client."""

    def __init__(self, reason: Reason, detail: str = "", message: str = "", *, rule: str = ""):
        super().__init__(reason)
        self.verdict = Verdict(reason, detail, message, rule)


@dataclass(frozen=True)
class Reply:
    """One answer as it came: status, ``Content-Type`` header and body."""

    status: int
    content_type: str
    body: bytes | None  # None: not read yet (only the status rules can decide)

    @cached_property
    def charset(self) -> str:
        match = re.search(r";\s*charset\s*=\s*[\"']?([A-Za-z0-9._:-]+)", self.content_type or "")
        return match[1] if match else ""

    @cached_property
    def xml(self):
        return parse_xml(self.body, self.charset)


class Words(NamedTuple):
    """What an error answer says: its ``code`` and its ``message`` (either may be empty)."""

    code: str
    message: str

    @property
    def text(self) -> str:
        return f"{self.code} {self.message}".casefold()

    def verdict(self, reason: Reason) -> Verdict:
        return Verdict(reason, self.code, self.message)


# --- What the rules look for ----------------------------------------------------------

_NOT_APPROVED = re.compile(r"承認|not approved|not enabled")
# An explicit "wrong code" in Japanese or English; nothing vaguer counts as a refusal.
_AUTH_REFUSAL = re.compile(
    r"認証.{0,12}(失敗|エラー|できません|出来ません|違|誤|不正|無効)"
    r"|(認証コード|トークン|token|auth(entication)?[ _-]?code).{0,20}"
    r"(違|誤|不正|無効|invalid|wrong|incorrect|mismatch)"
    r"|(invalid|wrong|incorrect|bad)[ _-]*(token|auth)"
    r"|unauthori[sz]ed|authentication failed|auth failed"
)
# The children an error answer carries its words in.
_CODE_TAGS = ("code", "error_code", "status_code")
_MESSAGE_TAGS = ("message", "error_message", "error", "errormessage")


def words_of(element) -> Words | None:
    """The code and message an XML element (or its children) carries; None if neither."""
    tag = element.tag.casefold() if isinstance(element.tag, str) else ""
    code = message = ""
    if tag in _MESSAGE_TAGS and len(element) == 0:
        message = (element.text or "").strip()
    for child in element:
        name = child.tag.casefold() if isinstance(child.tag, str) else ""
        text = " ".join("".join(child.itertext()).split())
        if name in _CODE_TAGS and not code:
            code = text
        elif name in _MESSAGE_TAGS and not message:
            message = text
    return Words(code, message) if code or message else None


# --- Decoding (``reading``) ------------------------------------------------------------


def decode_xml(body: bytes, charset: str = "") -> str:
    """The document as text (``reading.decoded_text``); nothing reads it: BAD_XML."""
    text = decoded_text(body, charset)
    if text is None:
        raise StopCheck(Reason.BAD_XML, rule="xml-encoding")
    return text


def parse_xml(body: bytes, charset: str = ""):
    """Parse untrusted XML, decoded by ``decode_xml`` first (expat reads text as given)."""
    document = decode_xml(body, charset)
    try:
        return defusedxml.ElementTree.fromstring(document)
    except defusedxml.DefusedXmlException:
        raise StopCheck(Reason.UNSAFE_XML, rule="unsafe-xml") from None
    except (defusedxml.ElementTree.ParseError, ValueError):
        raise StopCheck(Reason.BAD_XML, rule="bad-xml") from None


def _product_result(reply: Reply) -> dict:
    try:
        # JSON is UTF-8 unless HTTP says otherwise; a stray byte in a message must not
        # hide the status code.
        codec = codec_for(reply.charset) or "utf-8-sig"
        data = json.loads(reply.body.decode(codec, errors="replace"))
    except (ValueError, RecursionError):
        raise StopCheck(Reason.BAD_JSON, rule="bad-json") from None
    result = data.get("result_data") if isinstance(data, dict) else None
    status = result.get("status_code") if isinstance(result, dict) else None
    if isinstance(status, int) and not isinstance(status, bool):
        status = str(status)
    if not isinstance(status, str) or not status.strip().isdigit():
        raise StopCheck(Reason.UNEXPECTED_JSON, rule="json-shape")
    return result | {"status_code": status.strip()}


def _product_words(result: dict) -> Words:
    message = result.get("error_message") or result.get("message") or ""
    return Words(result["status_code"], message if isinstance(message, str) else "")


# --- The rules' tests -----------------------------------------------------------------
# Each returns a verdict, or None to let the next rule of the table try.


def _redirect(reply):
    return Verdict(Reason.REDIRECT) if 300 <= reply.status < 400 else None


def _api_path_gone(reply):
    if reply.status in (404, 410):
        return Verdict(Reason.LEGACY_API_RETIRED, str(reply.status))
    return None


def _too_many_status(reply):
    return Verdict(Reason.RATE_LIMITED) if reply.status == 429 else None


def _other_client_status(reply):
    if reply.status < 500 and reply.status != 200:
        return Verdict(Reason.UNEXPECTED_STATUS, str(reply.status))
    return None


def _maintenance_status(reply):
    if reply.status == 503:
        return Verdict(Reason.MAINTENANCE)
    if reply.status >= 500 and reply.body is not None and mentions_maintenance(reply.body):
        return Verdict(Reason.MAINTENANCE)
    return None


def _server_error(reply):
    if reply.status >= 500 and reply.body is not None:
        return Verdict(Reason.HTTP_5XX, str(reply.status))
    return None


def _empty_body(reply):
    return Verdict(Reason.EMPTY) if not reply.body.strip() else None


def _maintenance_page(reply):
    if looks_like_html(reply.body) and mentions_maintenance(reply.body):
        return Verdict(Reason.MAINTENANCE)
    return None


def _web_page(reply):
    return Verdict(Reason.HTML) if looks_like_html(reply.body) else None


def _orders_with_error(reply):
    root = reply.xml
    if root.tag == "orders" and (words := words_of(root)) is not None:
        return classify(words)
    return None


def _orders(reply):
    return ACCEPTED if reply.xml.tag == "orders" else None


def _ok_response(reply):
    words = words_of(reply.xml)
    if words is not None and words.message.upper() == "OK" and words.code in ("", "0", "200"):
        return Verdict(Reason.UNEXPECTED_XML)
    return None


def _words_document(reply):
    words = words_of(reply.xml)
    return classify(words) if words is not None else None


def _other_xml(reply):
    return Verdict(Reason.UNEXPECTED_XML)


def _product_session(reply):
    result = _product_result(reply)
    if result["status_code"] != "200":
        return None
    error = result.get("error_message")
    if error:  # an error message beside "200" is never success
        return Verdict(Reason.UNKNOWN_MESSAGE, "200", str(error))
    return ACCEPTED  # access_url carries a token: not kept


def _product_error(reply):
    return classify(_product_words(_product_result(reply)))


def _login_failure(reply):
    if reply.body.strip() == b"FAILURE":
        return Verdict(Reason.LOGIN_REFUSED, message="FAILURE")
    return None


def _upload_url_and_key(reply):
    lines = [line.strip() for line in reply.body.splitlines() if line.strip()]
    if (
        len(lines) >= 2
        and re.fullmatch(rb"https?://\S+", lines[0])
        and re.fullmatch(rb"\S+", lines[1])
    ):
        return ACCEPTED  # the upload URL and key are not kept
    return None


def _other_text(reply):
    return Verdict(Reason.UNEXPECTED_TEXT)


def _parsing(reply):
    return None  # these rows are decided inside parse_xml / decode_xml / _product_result


def _words_too_many(words):
    if words.code == "429" or "too many" in words.text:
        return words.verdict(Reason.RATE_LIMITED)
    return None


def _words_maintenance(words):
    return words.verdict(Reason.MAINTENANCE) if mentions_maintenance(words.text.encode()) else None


def _words_not_approved(words):
    if words.code == "403" or _NOT_APPROVED.search(words.text):
        return words.verdict(Reason.NOT_ENABLED)
    return None


def _words_wrong_code(words):
    if words.code == "401" or _AUTH_REFUSAL.search(words.text):
        return words.verdict(Reason.TOKEN_REJECTED)
    return None


def _words_unknown(words):
    return words.verdict(Reason.UNKNOWN_MESSAGE)


# How many "not an API" answers make a web page a retired API (rule "web-pages-again").
def _web_pages_again(verdict: Verdict, signs: Signs | None):
    if verdict.reason is not Reason.HTML or signs is None:
        return None
    if signs.streak >= RETIRED_AFTER_STREAK or signs.shops >= RETIRED_AFTER_SHOPS:
        return Verdict(Reason.LEGACY_API_RETIRED, "html", verdict.message)
    return None


# --- The table ------------------------------------------------------------------------

ALL = frozenset(Check)
ORDER = frozenset({Check.ORDER_AUTH_CODE})
PRODUCT = frozenset({Check.PRODUCT_AUTH_CODE})
LOGIN = frozenset({Check.PASSWORD})


# The table's rows (``malls.verdicts.EvidenceRule``). ``reads`` is "status", "page" (any
# body), "orders", "product", "login", "words" (a code and message found inside an answer,
# see ``classify``) or "history" (what the shop's slot remembers, see ``escalate``).
# ``evidence`` starts with "known:" (public documentation or public client code agree),
# "assumed:" (nobody has published it) or "ours:" (a choice of GoQ's, not a claim about
# MakeShop).
Rule = EvidenceRule


RULES: tuple[Rule, ...] = (
    # The HTTP status, for every call.
    Rule("redirect", "status", ALL, "unreachable: redirect",
         "ours: a redirect is never followed, to any host (it would carry the codes along)",
         _redirect),
    Rule("api-path-gone", "status", ALL, "unexpected: legacy_api_retired",
         "known: MakeShop announced the legacy API's closure for end 2025 - early 2026; "
         "assumed: a closed API answers 404/410 on its documented path", _api_path_gone),
    Rule("too-many-status", "status", ALL, "unreachable: rate_limited",
         "known: going over 1 call/s gets the caller blocked; assumed: a block may be HTTP 429",
         _too_many_status),
    Rule("other-4xx", "status", ALL, "unexpected: unexpected_status",
         "assumed: no other status is published (a 403 may also be a block)",
         _other_client_status),
    Rule("maintenance-status", "status", ALL, "unreachable: maintenance",
         "assumed: maintenance answers 503, or a 5xx page that says メンテナンス",
         _maintenance_status),
    Rule("server-error", "status", ALL, "unreachable: http_5xx",
         "ours: a server error is no verdict; asking later may get one", _server_error),
    # Any body.
    Rule("empty-body", "page", ALL, "unexpected: empty",
         "assumed: no published answer is empty", _empty_body),
    Rule("maintenance-page", "page", ALL, "unreachable: maintenance",
         "assumed: a web page that says メンテナンス/maintenance announces maintenance",
         _maintenance_page),
    Rule("web-page", "page", ALL, "unexpected: html",
         "known: the legacy API answers XML, JSON or plain text, never a web page; "
         "assumed: a page means a block or the API's closure (see web-pages-again)", _web_page),
    # Reading XML and JSON (raised while the rules below read the body).
    Rule("xml-encoding", "parse", ALL,
         "unexpected: bad_xml when no codec reads it, or one declared is no character encoding",
         "assumed: the encoding (EUC-JP parameters suggest an EUC-JP back end): the XML "
         "declaration's codec, then HTTP's charset, then EUC-JP, UTF-8 (XML's default), "
         "CP932, each strictly; never UTF-8 alone", _parsing),
    Rule("unsafe-xml", "parse", ALL, "unexpected: unsafe_xml",
         "ours: XML is hostile until parsed (defusedxml: no DTD entities, no external "
         "references)", _parsing),
    Rule("bad-xml", "parse", ALL, "unexpected: bad_xml", "ours: unreadable XML is no verdict",
         _parsing),
    Rule("bad-json", "parse", ALL, "unexpected: bad_json", "ours: unreadable JSON is no verdict",
         _parsing),
    Rule("json-shape", "parse", ALL, "unexpected: unexpected_json",
         "known: the product answer is {result_data: {status_code, ...}}; any other shape "
         "is no verdict", _parsing),
    # The order API (cmd=get over the last minute, usually an empty period).
    Rule("orders-with-error", "orders", ORDER, "never accepted: the words decide",
         "assumed: error answers are unpublished; an <orders> document carrying code/"
         "message children is an error answer in an orders envelope", _orders_with_error),
    Rule("orders-document", "orders", ORDER, "accepted",
         "known: cmd=get answers a root <orders> holding zero or more <order> (public "
         "clients); assumed: an empty period is an empty <orders/> or <orders></orders>",
         _orders),
    Rule("ok-response", "orders", ORDER, "unexpected: unexpected_xml",
         "known: <response> with message OK answers cmd=deliver/status, not cmd=get",
         _ok_response),
    Rule("words-document", "orders", ORDER, "the words decide",
         "assumed: an error or empty-period answer may be a small document with only "
         "code/message (one production client reads any <message> as 'no orders'), so a "
         "message is a refusal only when recognised below", _words_document),
    Rule("other-xml", "orders", ORDER, "unexpected: unexpected_xml",
         "ours: any other document is not read as a verdict", _other_xml),
    # The product API.
    Rule("product-session", "product", PRODUCT, "accepted",
         "known: a real answer in public code is {result_data: {status_code: \"200\", "
         "error_message: null, access_url, expire_date}} (string status; an integer is "
         "tolerated); ours: an error_message beside 200 is never success", _product_session),
    Rule("product-error", "product", PRODUCT, "the words decide",
         "assumed: errors are another status_code with error_message", _product_error),
    # The bulk upload login.
    Rule("login-failure", "login", LOGIN, "rejected: login_refused",
         "known: the webftp login answers the plain text FAILURE when it refuses the login",
         _login_failure),
    Rule("upload-url-and-key", "login", LOGIN, "accepted",
         "known: a successful login answers an upload URL line and a key line",
         _upload_url_and_key),
    Rule("other-text", "login", LOGIN, "unexpected: unexpected_text",
         "ours: any other text is not read as a verdict", _other_text),
    # The words of an error answer (order XML or product JSON), in this order.
    Rule("words-too-many", "words", ALL, "unreachable: rate_limited",
         "assumed: code 429 or 'too many' means MakeShop's call limit", _words_too_many),
    Rule("words-maintenance", "words", ALL, "unreachable: maintenance",
         "assumed: メンテナンス/maintenance in the words means maintenance", _words_maintenance),
    Rule("words-not-approved", "words", ALL, "rejected: not_enabled",
         "assumed: 承認 ('approval', MakeShop's word for allowing API use), 'not approved'/"
         "'not enabled', or code 403, mean API use is not approved for the shop",
         _words_not_approved),
    Rule("words-wrong-code", "words", ALL, "rejected: token_rejected",
         "assumed: only an explicit refusal of the code (認証…失敗/エラー/違う/不正/無効, "
         "'invalid token', 'unauthorized', 'authentication failed'), or code 401, means "
         "the code was refused", _words_wrong_code),
    Rule("words-unknown", "words", ALL, "unexpected: unknown_message (words shown)",
         "ours: any other words (a 'no orders' message included) are neither a yes nor "
         "the merchant's fault", _words_unknown),
    # What the shop's slot remembers (malls.throttle), after the answer was read.
    Rule("web-pages-again", "history", ALL, "unexpected: legacy_api_retired",
         f"assumed: web pages from the API {RETIRED_AFTER_STREAK} times in a row for a shop, "
         f"or for {RETIRED_AFTER_SHOPS}+ shops within an hour, mean the API is gone "
         "rather than a passing block", _web_pages_again),
)

_KIND = {
    Check.ORDER_AUTH_CODE: "orders",
    Check.PRODUCT_AUTH_CODE: "product",
    Check.PASSWORD: "login",
}
# Rules whose answer shows the legacy API is not answering as an API, and the ones
# whose answer shows it is (they end a shop's streak).
NOT_AN_API = frozenset({"api-path-gone", "web-page"})
AN_API = frozenset(
    rule.name for rule in RULES if rule.reads in ("orders", "product", "login", "words")
)


def _run(rule: Rule, argument) -> Verdict | None:
    try:
        verdict = rule.test(argument)
    except StopCheck as stop:
        verdict = stop.verdict
    return verdict._replace(rule=verdict.rule or rule.name) if verdict is not None else None


def read(check: Check, reply: Reply) -> Verdict | None:
    """The verdict on one answer to ``check``: the first rule of ``RULES`` that decides.

    With ``reply.body`` None only the status is read, and None means "read the body".
    """
    kinds = ("status",) if reply.body is None else ("status", "page", _KIND[check])
    for rule in RULES:
        if rule.reads in kinds and check in rule.checks:
            verdict = _run(rule, reply)
            if verdict is not None:
                return verdict
    if reply.body is None:
        return None
    raise AssertionError(f"no rule read the answer to {check}")  # the last rule always does


def classify(words: Words) -> Verdict:
    """What an error answer's words mean (the "words" rules); never a yes."""
    for rule in RULES:
        if rule.reads == "words":
            verdict = _run(rule, words)
            if verdict is not None:
                return verdict
    raise AssertionError("words-unknown always decides")


def escalate(verdict: Verdict, signs: Signs | None) -> Verdict:
    """The verdict once what the shop's slot remembers is taken into account."""
    for rule in RULES:
        if rule.reads == "history":
            later = rule.test(verdict, signs)
            if later is not None:
                return later._replace(rule=rule.name)
    return verdict
