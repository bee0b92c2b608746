"""Capturing RMS's real answers, keys removed, to settle what ``answers`` assumes.

Much of what ``answers.RULES`` reads is inferred (``docs/rakuten.md``). An operator with
a real shop's keys can settle it: ``manage.py rakuten_capture`` makes the calls below
and writes each answer as RMS gave it (status, content type, the headers that matter,
the body as text) with both keys, the ESA credentials and the shop's identity
replaced, next to the verdict the call should get. ``tests/rakuten/test_capture.py``
replays every file in ``CAPTURES_DIR`` through the rules and fails where a verdict
disagrees.
"""

from __future__ import annotations

import base64
import json
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from core.redaction import scrub
from malls import http  # the one outgoing transport

from . import answers
from .api import EXPIRY_PATH, SEARCH_ORDER_PATH, SHOP_MASTER_PATH, Check, Outcome
from .client import _order_search, esa_header
from .redaction import install_log_redaction, redact

CAPTURES_DIR = Path(__file__).resolve().parents[2] / "tests" / "rakuten" / "captures"
CAPTURED_SHOP = "captured-shop"
HEADERS_KEPT = ("Content-Type", "Retry-After", "Location", "WWW-Authenticate")
MAX_BYTES = 1_000_000
REPLACED = "***"
# The merchant's identity in a shop master answer, besides its URL.
_IDENTITY = re.compile(
    r"<(shopName|companyName|shopNameKana|representativeName|telephoneNumber|faxNumber"
    r"|mailAddress|zipCode\w*|address\w*|personInCharge\w*)>[^<]*</\1>"
)


@dataclass(frozen=True)
class Case:
    name: str
    check: Check
    right_keys: bool  # False: a deliberately wrong licenseKey
    expected: Outcome


CASES = (
    Case("expiry_right_keys", Check.EXPIRY, True, Outcome.ACCEPTED),
    Case("orders_right_keys_last_minute", Check.ORDERS, True, Outcome.ACCEPTED),
    Case("shop_right_keys", Check.SHOP, True, Outcome.ACCEPTED),
    Case("expiry_wrong_license_key", Check.EXPIRY, False, Outcome.REJECTED),
)
_CALLS = {Check.EXPIRY: ("GET", EXPIRY_PATH), Check.ORDERS: ("POST", SEARCH_ORDER_PATH),
          Check.SHOP: ("GET", SHOP_MASTER_PATH)}


def capture(
    *, base_url: str, service_secret: str, license_key: str, shop_url: str,
    directory: Path = CAPTURES_DIR, now: datetime | None = None, deadline: float = 20.0,
) -> list[Path]:
    """Make every case's call once and write one file per case; returns the files."""
    install_log_redaction()
    base_url = http.validated_base_url(base_url)
    now = now or datetime.now(UTC)
    wrong_key = license_key[:-4] + "ZZZZ" if len(license_key) > 4 else "SLZZZZ"
    secrets = _secrets(service_secret, license_key, wrong_key)
    directory.mkdir(parents=True, exist_ok=True)
    session = http.new_session()
    written = []
    try:
        for case in CASES:
            key = license_key if case.right_keys else wrong_key
            method, path = _CALLS[case.check]
            request = {"headers": {"Authorization": esa_header(service_secret, key),
                                   "Accept": "application/json"}}
            if case.check is Check.EXPIRY:
                request["params"] = {"licenseKey": key}
            if case.check is Check.ORDERS:
                request["json"] = _order_search(now)
            with http.Deadline(deadline):
                response = session.request(method, base_url + path, timeout=(5, 10),
                                           allow_redirects=False, stream=True, **request)
                with response:
                    body = response.raw.read(MAX_BYTES + 1, decode_content=True)
            text = body[:MAX_BYTES].decode(
                _charset(response.headers.get("Content-Type", "")) or "utf-8", errors="replace"
            )
            record = {
                "case": case.name,
                "check": case.check.value,
                "expected": case.expected.value,
                "captured_at": now.isoformat(),
                "status": response.status_code,
                "content_type": response.headers.get("Content-Type", ""),
                "headers": {name: response.headers[name] for name in HEADERS_KEPT
                            if name in response.headers},
                "body": _clean(text, secrets, shop_url),
            }
            path = directory / f"{case.name}.json"
            path.write_text(json.dumps(record, ensure_ascii=False, indent=2) + "\n", "utf-8")
            written.append(path)
    finally:
        session.close()
    return written


def replay(path: Path) -> answers.Verdict | None:
    """The verdict the rules give a captured answer today."""
    record = json.loads(path.read_text("utf-8"))
    reply = answers.Reply(record["status"], record["content_type"], record["body"].encode())
    check = Check(record["check"])
    head = answers.read(check, answers.Reply(reply.status, reply.content_type, None))
    return head or answers.read(check, reply)


def _secrets(service_secret: str, *keys: str) -> list[str]:
    found = [service_secret, *keys]
    for key in keys:
        found.append(esa_header(service_secret, key).removeprefix("ESA "))
    found.append(base64.b64encode(service_secret.encode()).decode().rstrip("="))
    return found


def _clean(text: str, secrets, shop_url: str) -> str:
    text = redact(scrub(text, secrets))
    text = re.sub(rf"(?i)\b{re.escape(shop_url)}\b", CAPTURED_SHOP, text)
    return _IDENTITY.sub(lambda m: f"<{m[1]}>{REPLACED}</{m[1]}>", text)


def _charset(content_type: str) -> str:
    match = re.search(r"charset\s*=\s*[\"']?([A-Za-z0-9._-]+)", content_type)
    return match[1] if match else ""
