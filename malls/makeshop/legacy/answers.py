"""Reading the legacy API's answers: an HTTP status and body become a ``Verdict``.

MakeShop publishes no error codes and answers in XML (in the encoding its declaration
names, Japanese ones included), JSON or plain text depending on the API, so matching
is loose where MakeShop's wording may vary and strict about what counts as a yes:
anything we cannot read is ``Outcome.UNEXPECTED``, never success. Untrusted XML is
parsed with defusedxml.
"""

import json
import re
from typing import NamedTuple

import defusedxml
import defusedxml.ElementTree

from ..api import Outcome, Reason


class Verdict(NamedTuple):
    """What an answer means; ``reason`` None is a yes."""

    reason: Reason | None = None
    detail: str = ""
    message: str = ""

    @property
    def outcome(self) -> Outcome:
        return Outcome.ACCEPTED if self.reason is None else self.reason.outcome


ACCEPTED = Verdict()


class StopCheck(Exception):
    """Ends a check early with its verdict; always caught by the client."""

    def __init__(self, reason: Reason, detail: str = "", message: str = ""):
        super().__init__(reason)
        self.verdict = Verdict(reason, detail, message)


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


def screen_status(status: int) -> None:
    """Stop on a status whose body is not worth reading."""
    if 300 <= status < 400:
        raise StopCheck(Reason.REDIRECT)  # never followed, to any host
    if status == 429:
        raise StopCheck(Reason.RATE_LIMITED)
    if status < 500 and status != 200:
        raise StopCheck(Reason.UNEXPECTED_STATUS, str(status))


def screen_body(status: int, body: bytes) -> None:
    """Stop on a server error, an empty body or a web page instead of an API answer."""
    if status == 503 or (status >= 500 and mentions_maintenance(body)):
        raise StopCheck(Reason.MAINTENANCE)
    if status >= 500:
        raise StopCheck(Reason.HTTP_5XX, str(status))
    if not body.strip():
        raise StopCheck(Reason.EMPTY)
    if looks_like_html(body):
        if mentions_maintenance(body):
            raise StopCheck(Reason.MAINTENANCE)
        raise StopCheck(Reason.HTML)


def interpret_orders(body: bytes) -> Verdict:
    """The order API: any ``<orders>`` is a yes; an error answer is classified."""
    root = parse_xml(body)
    if root.tag == "orders":
        return ACCEPTED
    code = (root.findtext("code") or "").strip()
    message = (root.findtext("message") or "").strip()
    if (not code and not message) or message.upper() == "OK":
        # Not an error answer, and not orders: nothing we can read as a verdict.
        raise StopCheck(Reason.UNEXPECTED_XML)
    return refusal(code, message)


def interpret_product_auth(body: bytes) -> Verdict:
    """The product API's JSON: ``status_code`` 200 is a yes."""
    try:
        # JSON is UTF-8; a stray byte in a message must not hide the status code.
        data = json.loads(body.decode("utf-8-sig", errors="replace"))
    except (ValueError, RecursionError):
        raise StopCheck(Reason.BAD_JSON) from None
    result = data.get("result_data") if isinstance(data, dict) else None
    status = result.get("status_code") if isinstance(result, dict) else None
    if isinstance(status, str) and status.isdigit():
        status = int(status)
    if not isinstance(status, int) or isinstance(status, bool):
        raise StopCheck(Reason.UNEXPECTED_JSON)
    if status == 200:
        return ACCEPTED  # access_url is a credential too: not kept
    message = result.get("message") or result.get("error_message") or ""
    return refusal(str(status), message if isinstance(message, str) else "")


def interpret_webftp_login(body: bytes) -> Verdict:
    """The bulk upload login: an upload URL and a key are a yes, ``FAILURE`` a no."""
    if body.strip() == b"FAILURE":
        return Verdict(Reason.LOGIN_REFUSED, message="FAILURE")
    lines = [line.strip() for line in body.splitlines() if line.strip()]
    if (
        len(lines) >= 2
        and re.fullmatch(rb"https?://\S+", lines[0])
        and re.fullmatch(rb"\S+", lines[1])
    ):
        return ACCEPTED  # the upload URL and key are not kept
    raise StopCheck(Reason.UNEXPECTED_TEXT)


def refusal(code: str, message: str) -> Verdict:
    """Classify an error answer; its codes are not published, so match loosely."""
    text = f"{code} {message}".casefold()
    if code == "429" or "too many" in text:
        return Verdict(Reason.RATE_LIMITED, code, message)
    if mentions_maintenance(text.encode()):
        return Verdict(Reason.MAINTENANCE, code, message)
    if code == "403" or any(marker in text for marker in _NOT_ENABLED_MARKERS):
        return Verdict(Reason.NOT_ENABLED, code, message)
    return Verdict(Reason.TOKEN_REJECTED, code, message)


def parse_xml(body: bytes):
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
            raise StopCheck(Reason.BAD_XML) from None
    try:
        return defusedxml.ElementTree.fromstring(document)
    except defusedxml.DefusedXmlException:
        raise StopCheck(Reason.UNSAFE_XML) from None
    except (defusedxml.ElementTree.ParseError, ValueError):
        raise StopCheck(Reason.BAD_XML) from None


def looks_like_html(body: bytes) -> bool:
    head = body[:1024].lstrip().lower()
    return head.startswith((b"<!doctype html", b"<html")) or b"<html" in head


def mentions_maintenance(body: bytes) -> bool:
    return b"maintenance" in body.lower() or any(m in body for m in _MAINTENANCE_MARKERS)
