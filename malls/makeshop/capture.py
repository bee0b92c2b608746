"""Capturing MakeShop's real answers, secrets removed, with the operator's word on the truth.

Most of what ``legacy.answers`` reads is assumed (``docs/makeshop.md``). An operator
with a real MakeShop shop can settle it: ``manage.py makeshop_capture`` makes the
few calls below, writes each answer as MakeShop gave it (status, content type, the
headers that matter, the body as text with its encoding) with every secret, token
and buyer detail replaced, next to what the operator says the right verdict was.
``tests/makeshop/test_captures.py`` replays every file in ``CAPTURES_DIR`` through
the client and fails where a verdict disagrees.

The calls: the right order code over the last minute (usually an empty period), a
deliberately wrong order token, a wrong password, and the product call with the
right code. The right password is sent only when asked for (``--with-login``):
whether a bulk-upload login voids a key another tool holds is not known.

The new API (``--app``, ``capture_app``): the shop's app token with GoQ's key, a
made-up token, a made-up key, and x-timestamps a minute outside the hour either way
(``--app-uninstalled``: a token whose app the shop has uninstalled), each through
GoQ's own client so its verdict is recorded beside MakeShop's answer; files go to
``APP_CAPTURES_DIR``. Webhooks (``--webhooks``, ``record_webhooks``): the latest
receipts (``malls.makeshop.app.receipts``) as header names and body shapes, no value,
in ``WEBHOOK_CAPTURES_DIR``: what MakeShop really sends, for fixtures.
"""

from __future__ import annotations

import json
import re
import secrets as random
import time
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlsplit

from core.redaction import install_log_redaction, redact
from core.redaction import scrub as scrub_secrets
from malls import http as transport

from .api import Check, Outcome
from .app.client import MakeShopAppClient
from .legacy import answers, reading
from .legacy.client import CALLS

CAPTURES_DIR = Path(__file__).resolve().parents[2] / "tests" / "makeshop" / "captures"
# The shop ID in a capture file: the real one identifies a merchant.
CAPTURED_SHOP_ID = "captured-shop"
HEADERS_KEPT = ("Content-Type", "Retry-After", "Location", "WWW-Authenticate")
MAX_BYTES = 2_000_000
REPLACED = "***"


@dataclass(frozen=True)
class Case:
    """One call the capture makes, and the verdict it should get when the codes are right."""

    name: str
    check: Check
    secret: str  # "order", "product", "password", or "wrong" (made up for the call)
    expected: Outcome
    question: str


CASES = (
    Case("order_right_code_last_minute", Check.ORDER_AUTH_CODE, "order", Outcome.ACCEPTED,
         "the right order auth code over the last minute (usually no orders)"),
    Case("order_wrong_token", Check.ORDER_AUTH_CODE, "wrong", Outcome.REJECTED,
         "a deliberately wrong order token"),
    Case("login_wrong_password", Check.PASSWORD, "wrong", Outcome.REJECTED,
         "a deliberately wrong password"),
    Case("product_right_code", Check.PRODUCT_AUTH_CODE, "product", Outcome.ACCEPTED,
         "the right product auth code"),
)
# Only with the operator's consent (see the module docstring).
LOGIN_CASE = Case("login_right_password", Check.PASSWORD, "password", Outcome.ACCEPTED,
                  "the main administrator's right password")


@dataclass
class Captured:
    case: Case
    status: int
    headers: dict[str, str]
    body: bytes
    verdict: answers.Verdict
    made_up: str = ""  # the wrong secret made up for the call, scrubbed like the codes


def capture(
    base_url: str,
    shop_id: str,
    codes: dict[str, str],
    *,
    slot: Callable[[str], AbstractContextManager],
    cases: tuple[Case, ...] = CASES,
    now: datetime | None = None,
) -> list[Captured]:
    """Make each call of ``cases`` through ``slot(shop_id)`` (spacing and ceiling)."""
    base_url = transport.validated_base_url(base_url)
    install_log_redaction()  # urllib3 logs request URLs, the order token included
    session = transport.new_session()
    wrong = {"wrong": _wrong_secret(codes)}
    results = []
    try:
        for case in cases:
            call = CALLS[case.check]
            secret = (codes | wrong)[case.secret]
            request = call.request(shop_id, secret, now or datetime.now(UTC))
            with slot(shop_id), transport.Deadline(20.0):
                response = session.request(
                    call.method, base_url + call.path, timeout=(5, 10),
                    allow_redirects=False, stream=True, **request,
                )
                with response:
                    body = response.raw.read(MAX_BYTES + 1, decode_content=True)[:MAX_BYTES]
                    headers = {
                        name: response.headers[name] for name in HEADERS_KEPT
                        if name in response.headers
                    }
                    status = response.status_code
            reply = answers.Reply(status, headers.get("Content-Type", ""), body)
            verdict = answers.read(case.check, reply)
            made_up = secret if case.secret == "wrong" else ""  # noqa: S105 - names a kind of secret
            results.append(Captured(case, status, headers, body, verdict, made_up))
    finally:
        session.close()
    return results


def _wrong_secret(codes: dict[str, str]) -> str:
    """A made-up token of the real shape (32 lowercase hex), never one of the codes."""
    while True:
        made_up = random.token_hex(16)
        if made_up not in codes.values():
            return made_up


def record(
    captured: list[Captured],
    *,
    shop_id: str,
    codes: dict[str, str],
    truths: dict[str, str],
    statement: dict,
    base_url: str,
) -> dict:
    """The capture file's content: every secret, token, shop ID and buyer detail replaced.

    ``truths`` maps a case name to the verdict (outcome) the operator says is right.
    """
    secrets = [value for value in codes.values() if value]
    answers_ = []
    for item in captured:
        request_secrets = [*secrets, item.made_up]
        encoding, text = decode_for_record(item.body, item.headers.get("Content-Type", ""))
        answers_.append({
            "case": item.case.name,
            "check": str(item.case.check),
            "status": item.status,
            "headers": {
                name: scrub(value, request_secrets, shop_id)
                for name, value in item.headers.items()
            },
            "body_encoding": encoding,
            "body_text": scrub(text, request_secrets, shop_id),
            "verdict_at_capture": {
                "outcome": str(item.verdict.outcome),
                "reason": str(item.verdict.reason or ""),
                "rule": item.verdict.rule,
            },
            "expected": {"outcome": truths.get(item.case.name, str(item.case.expected))},
        })
    return {
        "synthetic": False,
        "captured_at": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "captured_with": "manage.py makeshop_capture",
        "base_url": f"{urlsplit(base_url).scheme}://{urlsplit(base_url).hostname}",
        "operator_statement": statement,
        "answers": answers_,
    }


_HEX_TOKEN = re.compile(r"(?<![0-9a-f])[0-9a-f]{32}(?![0-9a-f])")
_ACCESS_TOKEN = re.compile(r"(?i)(access_token|token|key|auth_code|pw|password)=[^&\s'\"<]*")


def scrub(text: str, secrets: list[str], shop_id: str) -> str:
    """Remove what a capture file must not hold: the codes, every token-like value,
    query values that carry credentials, and the shop ID."""
    text = scrub_secrets(text, secrets)
    text = redact(text)
    text = _ACCESS_TOKEN.sub(lambda m: f"{m[1]}={REPLACED}", text)
    text = _HEX_TOKEN.sub(REPLACED, text)
    text = _redact_buyers(text)
    if shop_id:
        text = re.sub(re.escape(shop_id), CAPTURED_SHOP_ID, text, flags=re.IGNORECASE)
    return text


def _redact_buyers(text: str) -> str:
    """Orders in the period carry buyers' names and addresses: keep the tags only."""
    return re.sub(
        r"<order>.*?</order>",
        lambda m: re.sub(r">[^<]+<", f">{REPLACED}<", m[0]),
        text,
        flags=re.DOTALL,
    )


def decode_for_record(body: bytes, content_type: str) -> tuple[str, str]:
    """The body as text and the codec that gives its bytes back (latin-1 when none reads it)."""
    charset = answers.Reply(200, content_type, body).charset
    candidates = []
    declared = re.match(rb"^\s*<\?xml[^>]*?encoding\s*=\s*[\"']([\w.:-]+)", body)
    for label in (declared[1].decode() if declared else "", charset):
        if label and (codec := reading.codec_for(label)):
            candidates.append(codec)
    for codec in dict.fromkeys([*candidates, *reading.UNDECLARED_CODECS]):
        try:
            text = body.decode(codec)
        except UnicodeDecodeError:
            continue
        if text.encode(codec) == body:
            return codec, text
    return "latin-1", body.decode("latin-1")


def write(content: dict, out_dir: Path, shop_label: str = "") -> Path:
    """Write one capture file; never overwrites an earlier one."""
    out_dir.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    path = out_dir / f"real-{stamp}{shop_label}.json"
    n = 1
    while path.exists():
        n += 1
        path = out_dir / f"real-{stamp}{shop_label}-{n}.json"
    path.write_text(json.dumps(content, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    return path


def replayed_body(answer: dict) -> bytes:
    """The bytes to serve for a recorded answer."""
    return answer["body_text"].encode(answer["body_encoding"])


# --- The new API (GraphQL) and its webhooks -------------------------------------------------

APP_CAPTURES_DIR = CAPTURES_DIR / "app"
WEBHOOK_CAPTURES_DIR = CAPTURES_DIR / "webhooks"
APP_HEADERS_KEPT = (*HEADERS_KEPT, "X-Amzn-ErrorType", "X-Amzn-RequestId")
# x-timestamp is valid for an hour (known); a minute past it either way.
TIMESTAMP_OFFSET = 3660


@dataclass(frozen=True)
class AppCase:
    """One call to the GraphQL endpoint, and the verdict expected when the token is right."""

    name: str
    question: str
    expected: Outcome
    token: str = "right"  # noqa: S105 - "right" or "wrong" (made up), names a kind of token
    key: str = "right"  # "right" or "wrong" (made up)
    clock_offset: int = 0


APP_CASES = (
    AppCase("app_right_token", "the shop's token, GoQ's key, x-timestamp now", Outcome.ACCEPTED),
    AppCase("app_wrong_token", "a made-up token", Outcome.REJECTED, token="wrong"),  # noqa: S106
    AppCase("app_wrong_key", "GoQ's API key replaced by a made-up one", Outcome.UNEXPECTED,
            key="wrong"),
    AppCase("app_stale_timestamp", "x-timestamp 61 minutes old", Outcome.UNEXPECTED,
            clock_offset=-TIMESTAMP_OFFSET),
    AppCase("app_future_timestamp", "x-timestamp 61 minutes ahead", Outcome.UNEXPECTED,
            clock_offset=TIMESTAMP_OFFSET),
)
# With a token whose app the merchant has uninstalled (``--app-uninstalled``).
APP_UNINSTALLED_CASE = AppCase(
    "app_token_after_uninstall", "the token of an app the shop has uninstalled",
    Outcome.REJECTED,
)


@dataclass
class AppCaptured:
    case: AppCase
    status: int
    headers: dict[str, str]
    body: bytes
    outcome: str
    reason: str
    made_up: tuple[str, ...] = ()


def capture_app(
    graphql_url: str, api_key: str, shop_id: str, token: str, *,
    slot: Callable[[str], AbstractContextManager], cases: tuple[AppCase, ...] = APP_CASES,
) -> list[AppCaptured]:
    """Make each call of ``cases`` with GoQ's own client (so its verdict is recorded too),
    keeping MakeShop's answer as it came; through ``slot(shop_id)``."""
    results = []
    for case in cases:
        made_up = []
        use_token, use_key = token, api_key
        if case.token == "wrong":  # noqa: S105 - names a kind of token
            use_token = "goq-capture-" + random.token_hex(16)
            made_up.append(use_token)
        if case.key == "wrong":
            use_key = "goq-capture-key-" + random.token_hex(12)
            made_up.append(use_key)
        session = _recording_session()
        offset = case.clock_offset
        client = MakeShopAppClient(graphql_url, use_key, session=session,
                                   clock=lambda offset=offset: time.time() + offset)
        with client, slot(shop_id):
            result = client.verify_token(shop_id=shop_id, token=use_token)
        status, headers, body = session.seen or (0, {}, b"")
        results.append(AppCaptured(case, status, headers, body, str(result.outcome),
                                   str(result.reason or ""), tuple(made_up)))
    return results


def record_app(captured: list[AppCaptured], *, shop_id: str, secrets: list[str],
               truths: dict[str, str], statement: dict, graphql_url: str) -> dict:
    """An app capture file's content: the token, the key and the shop ID replaced."""
    answers_ = []
    for item in captured:
        request_secrets = [*secrets, *item.made_up]
        answers_.append({
            "case": item.case.name,
            "clock_offset": item.case.clock_offset,
            "status": item.status,
            "headers": {name: scrub(value, request_secrets, shop_id)
                        for name, value in item.headers.items()},
            "body_text": scrub(item.body.decode("utf-8", errors="replace"), request_secrets,
                               shop_id),
            "verdict_at_capture": {"outcome": item.outcome, "reason": item.reason},
            "expected": {"outcome": truths.get(item.case.name, str(item.case.expected))},
        })
    parts = urlsplit(graphql_url)
    return {
        "synthetic": False,
        "captured_at": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "captured_with": "manage.py makeshop_capture --app",
        "graphql_url": f"{parts.scheme}://{parts.hostname}{parts.path}",
        "operator_statement": statement,
        "answers": answers_,
    }


def record_webhooks(receipts) -> dict:
    """Recent webhook receipts as a fixture file: kinds, header names and body shapes (key
    names and sizes), never a value: shop IDs and order numbers are left out too."""
    return {
        "synthetic": False,
        "captured_at": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "captured_with": "manage.py makeshop_capture --webhooks",
        "webhooks": [
            {
                "kind": receipt.kind,
                "received_at": receipt.received_at.strftime("%Y-%m-%dT%H:%M:%SZ"),
                "answered": receipt.status,
                "recognised": receipt.recognised,
                "order_count": len(receipt.order_numbers),
                "header_names": receipt.header_names,
                "signature_headers": receipt.signature_headers,
                "shape": receipt.shape,
            }
            for receipt in receipts
        ],
    }


def _recording_session():
    """A no-cookie session (``transport``) that keeps the last answer as it came: status,
    the headers that matter and the body (read here, at most ``MAX_BYTES``)."""
    session = transport.new_session()
    session.seen = None

    def keep(response, *args, **kwargs):
        body = response.raw.read(MAX_BYTES + 1, decode_content=True)[:MAX_BYTES]
        response._content, response._content_consumed = body, True
        headers = {name: response.headers[name] for name in APP_HEADERS_KEPT
                   if name in response.headers}
        session.seen = (response.status_code, headers, body)
        return response

    session.hooks["response"].append(keep)
    return session
