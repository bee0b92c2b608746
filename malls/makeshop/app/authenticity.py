"""Webhook signatures, ready for the day MakeShop's are confirmed (**assumed** algorithm).

A secondary source says MakeShop signs app webhooks: ``x-makeshop-signature``, an
HMAC-SHA256 keyed with the app's API secret (issued with the API key), and
``x-makeshop-request-timestamp``; MakeShop's own public pages do not say. So:

- Every accepted webhook records which of the two headers arrived (names only,
  ``receipts.signatures``): the first real webhook settles whether they exist.
- With ``MAKESHOP_APP_API_SECRET`` set, every webhook must carry both, the timestamp
  (Unix seconds, or milliseconds) within ``TOLERANCE_SECONDS`` of now, and a signature
  that is HMAC-SHA256 of the raw body, or of timestamp + body, or of timestamp + "." +
  body (the usual schemes; which one matched is logged), written as hex or base64,
  optionally prefixed ``sha256=``; compared in constant time. Anything else is refused
  (401) before the body is read as JSON, so nothing is stored. Unset: not checked.

The URL secret stays a second layer either way.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import re
import time

SIGNATURE_HEADER = "x-makeshop-signature"
TIMESTAMP_HEADER = "x-makeshop-request-timestamp"
TOLERANCE_SECONDS = 300
_HEX = re.compile(r"[0-9a-fA-F]{64}", re.ASCII)
_MILLISECONDS = 10**12  # a timestamp this large is in milliseconds


class SignatureRefused(Exception):
    """The webhook's signature is missing, stale or wrong; the message is for our log."""


def verify(*, api_secret: str, headers, body: bytes, now: float | None = None) -> str:
    """Check a webhook's signature; returns which scheme matched, else ``SignatureRefused``."""
    signature = (headers.get(SIGNATURE_HEADER) or "").strip()
    stamp = (headers.get(TIMESTAMP_HEADER) or "").strip()
    if not signature or not stamp:
        raise SignatureRefused("signature or timestamp header missing")
    if not stamp.isascii() or not stamp.isdigit() or len(stamp) > 16:
        raise SignatureRefused("timestamp is not a number")
    seconds = int(stamp) / (1000 if int(stamp) >= _MILLISECONDS else 1)
    now = time.time() if now is None else now
    if abs(now - seconds) > TOLERANCE_SECONDS:
        raise SignatureRefused("timestamp outside the 5-minute window")
    given = _decode(signature.removeprefix("sha256="))
    if given is None:
        raise SignatureRefused("signature is neither hex nor base64 of 32 bytes")
    key = api_secret.encode()
    schemes = {
        "body": body,
        "timestamp+body": stamp.encode() + body,
        "timestamp.body": stamp.encode() + b"." + body,
    }
    matched = ""
    for name, message in schemes.items():  # every one computed: no early exit
        if hmac.compare_digest(hmac.new(key, message, hashlib.sha256).digest(), given):
            matched = matched or name
    if not matched:
        raise SignatureRefused("signature does not match")
    return matched


def _decode(text: str) -> bytes | None:
    if _HEX.fullmatch(text):
        return bytes.fromhex(text)
    try:
        raw = base64.b64decode(text.replace("-", "+").replace("_", "/") + "==", validate=False)
    except (binascii.Error, ValueError):
        return None
    return raw if len(raw) == hashlib.sha256().digest_size else None


def sign(*, api_secret: str, body: bytes, timestamp: int | None = None) -> dict[str, str]:
    """Headers signing ``body`` the assumed way (HMAC of the body, hex): for the sandbox."""
    stamp = str(int(time.time()) if timestamp is None else timestamp)
    digest = hmac.new(api_secret.encode(), body, hashlib.sha256).hexdigest()
    return {SIGNATURE_HEADER: digest, TIMESTAMP_HEADER: stamp}
