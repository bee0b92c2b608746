"""Rakuten RMS's vocabulary: paths, time zone, the checks, every verdict, and the input rules.

Everything else in ``malls.rakuten`` (client, answers, sandbox, verdict texts, the
model's choices) reads these names, so a reason or a path is spelled once. Nothing
here does I/O or needs Django.

``Reason`` is why a check did not simply pass; its ``outcome`` says what kind of no:

============  =================================================================
outcome       reasons
============  =================================================================
accepted      (none)
rejected      ``unauthorised`` (ES01-01 / GA0001: wrong, mistyped or revoked keys),
              ``expired`` (the key's expiry date has passed),
              ``pending_activation`` (refused, but the key was changed so recently
              that RMS may not know it yet: see ``malls.rakuten.connections``),
              ``orders_not_enabled`` (``rpay.order.searchOrder`` not ticked),
              ``expiry_not_enabled`` (``license.expiryDate.get`` not ticked),
              ``shop_not_enabled`` (``shop.shopMaster.get`` not ticked),
              ``other_shop`` (the keys belong to another shop than the 店舗URL typed),
              ``unreadable`` (GoQ cannot decrypt a saved key: enter it again)
unreachable   ``timeout``, ``refused``, ``dns``, ``tls``, ``connection``,
              ``redirect``, ``rate_limited`` (429), ``http_5xx``, ``busy`` (our own
              call slot for the shop stayed taken)
unexpected    ``too_large``, ``empty``, ``html``, ``bad_json``, ``unexpected_json``,
              ``bad_xml``, ``unsafe_xml``, ``unexpected_xml``, ``unexpected_status``,
              ``unknown_error`` (an RMS error code we do not know; kept in the
              message), ``internal_error``
============  =================================================================
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum
from zoneinfo import ZoneInfo

from malls.verdicts import MallReason, Outcome  # noqa: F401  (Outcome: the package's vocabulary)

EXPIRY_PATH = "/es/1.0/license-management/license-key/expiry-date"
SEARCH_ORDER_PATH = "/es/2.0/order/searchOrder/"
SHOP_MASTER_PATH = "/es/1.0/shop/shopMaster"

DEFAULT_BASE_URL = "https://api.rms.rakuten.co.jp"

# RMS reads and writes Japan's time; the expiry date comes without a zone.
RMS_TZ = ZoneInfo("Asia/Tokyo")

# The RMS functions each check needs ticked (model A) or granted to the product (model B).
EXPIRY_FUNCTION = "license.expiryDate.get"
ORDER_FUNCTION = "rpay.order.searchOrder"
SHOP_FUNCTION = "shop.shopMaster.get"

# --- What the merchant types ----------------------------------------------------------

# "serviceSecret、licenseKey それぞれ、最大値は 50 文字" (RMS's authentication page).
KEY_MAX_LENGTH = 50

# The shop code of https://www.rakuten.co.jp/<code>/: ASCII letters, digits, '-' and
# '_'. Nothing else, so a 店舗URL can never change the shape of what we send or show.
SHOP_URL_MAX_LENGTH = 64
SHOP_URL_PATTERN = rf"[a-z0-9][a-z0-9_-]{{0,{SHOP_URL_MAX_LENGTH - 1}}}"
SHOP_URL_RE = re.compile(SHOP_URL_PATTERN, re.ASCII)
# What merchants paste instead of the bare code: the shop's top page, or the host form.
_SHOP_PAGE = re.compile(
    r"(?:https?://)?(?:www\.)?rakuten\.(?:co|ne)\.jp/([^/?#\s]+)/?(?:[?#].*)?", re.ASCII
)
_SHOP_HOST = re.compile(r"(?:https?://)?([^./?#\s]+)\.rakuten\.(?:co|ne)\.jp/?", re.ASCII)


class KeyFormat(StrEnum):
    """Why a typed serviceSecret or licenseKey cannot be a key (the error's code)."""

    EMPTY = "empty"
    TOO_LONG = "too_long"
    WHITESPACE = "whitespace"  # spaces or line breaks inside: they would break the header
    NOT_ASCII = "not_ascii"  # full-width characters from a Japanese IME, say
    COLON = "colon"  # ':' separates the two keys in the ESA header


class InvalidKey(ValueError):
    def __init__(self, problem: KeyFormat):
        super().__init__(problem.value)
        self.problem = problem


def clean_key(text: str) -> str:
    """A typed key with its outer whitespace trimmed, or ``InvalidKey``.

    Peers report pasted keys failing on a leading or trailing space (速販), and RMS
    warns that a line break inside breaks the Base64 header. The character set is
    not published, so only what cannot work is refused.
    """
    key = (text or "").strip()
    if not key:
        raise InvalidKey(KeyFormat.EMPTY)
    if any(char.isspace() for char in key):
        raise InvalidKey(KeyFormat.WHITESPACE)
    if not key.isascii() or not key.isprintable():
        raise InvalidKey(KeyFormat.NOT_ASCII)
    if ":" in key:
        raise InvalidKey(KeyFormat.COLON)
    if len(key) > KEY_MAX_LENGTH:
        raise InvalidKey(KeyFormat.TOO_LONG)
    return key


def normalize_shop_url(text: str) -> str | None:
    """The shop code in what a merchant typed (the code, the shop's URL, or its host
    form), lower-cased; None if it is none of those."""
    text = (text or "").strip()
    for pattern in (_SHOP_PAGE, _SHOP_HOST):
        if match := pattern.fullmatch(text):
            text = match[1]
            break
    code = text.strip("/").lower()
    return code if SHOP_URL_RE.fullmatch(code) else None


# --- Checks and verdicts --------------------------------------------------------------


class Check(StrEnum):
    """One question put to RMS; in the order they are asked."""

    EXPIRY = "expiry"  # the licenseKey's expiry date (and: are the keys accepted at all)
    ORDERS = "orders"  # a one-minute order search: order import will work
    SHOP = "shop"  # the shop RMS says the keys belong to

    @property
    def function(self) -> str:
        """The RMS function this check needs."""
        return {
            Check.EXPIRY: EXPIRY_FUNCTION,
            Check.ORDERS: ORDER_FUNCTION,
            Check.SHOP: SHOP_FUNCTION,
        }[self]


CHECKS = (Check.EXPIRY, Check.ORDERS, Check.SHOP)


class Reason(MallReason):
    """Why a check was not accepted (see the table above); stored in ``failure_reason``."""

    UNAUTHORISED = "unauthorised"
    EXPIRED = "expired"
    PENDING_ACTIVATION = "pending_activation"
    ORDERS_NOT_ENABLED = "orders_not_enabled"
    EXPIRY_NOT_ENABLED = "expiry_not_enabled"
    SHOP_NOT_ENABLED = "shop_not_enabled"
    OTHER_SHOP = "other_shop"
    UNREADABLE = "unreadable"
    TIMEOUT = "timeout"
    REFUSED = "refused"
    DNS = "dns"
    TLS = "tls"
    CONNECTION = "connection"
    REDIRECT = "redirect"
    RATE_LIMITED = "rate_limited"
    HTTP_5XX = "http_5xx"
    BUSY = "busy"
    TOO_LARGE = "too_large"
    EMPTY = "empty"
    HTML = "html"
    BAD_JSON = "bad_json"
    UNEXPECTED_JSON = "unexpected_json"
    BAD_XML = "bad_xml"
    UNSAFE_XML = "unsafe_xml"
    UNEXPECTED_XML = "unexpected_xml"
    UNEXPECTED_STATUS = "unexpected_status"
    UNKNOWN_ERROR = "unknown_error"
    INTERNAL_ERROR = "internal_error"

    @classmethod
    def rejections(cls) -> frozenset:
        return _REJECTIONS

    @classmethod
    def unreachable(cls) -> frozenset:
        return _UNREACHABLE

    @property
    def not_enabled(self) -> bool:
        """The keys work, but an RMS function a check needs is not enabled."""
        return self in (
            Reason.ORDERS_NOT_ENABLED, Reason.EXPIRY_NOT_ENABLED, Reason.SHOP_NOT_ENABLED
        )



_REJECTIONS = frozenset(
    {
        Reason.UNAUTHORISED,
        Reason.EXPIRED,
        Reason.PENDING_ACTIVATION,
        Reason.ORDERS_NOT_ENABLED,
        Reason.EXPIRY_NOT_ENABLED,
        Reason.SHOP_NOT_ENABLED,
        Reason.OTHER_SHOP,
        Reason.UNREADABLE,
    }
)
_UNREACHABLE = frozenset(
    {
        Reason.TIMEOUT,
        Reason.REFUSED,
        Reason.DNS,
        Reason.TLS,
        Reason.CONNECTION,
        Reason.REDIRECT,
        Reason.RATE_LIMITED,
        Reason.HTTP_5XX,
        Reason.BUSY,
    }
)
# Which check a "not enabled" reason belongs to, and back.
NOT_ENABLED = {
    Check.EXPIRY: Reason.EXPIRY_NOT_ENABLED,
    Check.ORDERS: Reason.ORDERS_NOT_ENABLED,
    Check.SHOP: Reason.SHOP_NOT_ENABLED,
}


@dataclass(frozen=True)
class CheckResult:
    """What one check found; safe to log, show and store (it holds no secret).

    ``detail`` is RMS's error code or the HTTP status behind the reason, if any;
    ``message`` RMS's own words, secrets removed.
    """

    check: Check
    outcome: Outcome
    reason: Reason | None = None
    detail: str = ""
    message: str = ""

    @property
    def ok(self) -> bool:
        return self.outcome is Outcome.ACCEPTED


@dataclass(frozen=True)
class Facts:
    """What RMS told us about the keys, besides yes or no."""

    expires_on: date | None = None  # the licenseKey's last valid day, in Japan
    reported_shop: str = ""  # the 店舗URL RMS says the keys belong to


@dataclass(frozen=True)
class Verification:
    """One verification of a shop's keys: every check asked, in order, and the facts.

    The first check not accepted decides (``failed``); checks after a verdict that
    makes them pointless are not asked and not listed.
    """

    results: tuple[CheckResult, ...]
    facts: Facts = field(default_factory=Facts)

    @property
    def failed(self) -> CheckResult | None:
        """The check that decides: the first not accepted, except that a function
        merely not enabled gives way to a worse verdict on a later check (keys of
        another shop, say)."""
        failures = [result for result in self.results if not result.ok]
        worse = [result for result in failures if not (result.reason and result.reason.not_enabled)]
        return (worse or failures or [None])[0]

    @property
    def outcome(self) -> Outcome:
        failed = self.failed
        return Outcome.ACCEPTED if failed is None else failed.outcome

    @property
    def ok(self) -> bool:
        """Every check was asked and accepted (a lone expiry re-read is never "ok")."""
        return self.failed is None and len(self.results) == len(CHECKS)

    @property
    def reason(self) -> Reason | None:
        failed = self.failed
        return failed.reason if failed is not None else None
