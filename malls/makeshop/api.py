"""MakeShop's vocabulary: the API's paths and time zone, what we check, and every verdict.

Everything else in ``malls.makeshop`` (client, sandbox, verdict texts) and the model's
choices read these names, so a reason or a path is spelled once. Nothing here does
I/O or needs Django.

``Reason`` is why a check did not simply pass; its ``outcome`` says what kind of
no it is:

============  =================================================================
outcome       reasons
============  =================================================================
accepted      (none: ``CheckResult.reason`` is None)
rejected      ``token_rejected`` (order or product code refused),
              ``not_enabled`` (MakeShop has not approved API use for the shop),
              ``login_refused`` (the webftp login answered ``FAILURE``),
              ``unreadable`` (GoQ cannot decrypt the saved secret: enter it again),
              ``shop_id_released`` / ``shop_id_taken`` (GoQ's rule: a shop ID belongs to
              the shop MakeShop verified it for)
unreachable   ``timeout``, ``refused``, ``dns``, ``tls``, ``connection``,
              ``redirect``, ``maintenance``, ``rate_limited``, ``http_5xx``,
              ``busy`` (our own call slot for the shop stayed taken)
unexpected    ``too_large``, ``empty``, ``html``, ``bad_xml``, ``unsafe_xml``,
              ``unexpected_xml``, ``bad_json``, ``unexpected_json``,
              ``unexpected_text``, ``unexpected_status``, ``unknown_message``
              (MakeShop's words, not a refusal we recognise), ``legacy_api_retired``
              (the legacy API did not answer as an API: it may have been retired),
              ``graphql_error``, ``internal_error``
============  =================================================================

``http_5xx`` and ``unexpected_status`` carry the HTTP status in
``CheckResult.detail``; a refusal carries MakeShop's own error code there.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum
from zoneinfo import ZoneInfo

from malls import verdicts
from malls.providers import RatePolicy
from malls.verdicts import Outcome

# One call per second per shop, never two at once (MakeShop's published limit), under
# GoQ's own ceiling on all shops together.
RATE = RatePolicy(
    spacing=1.0, ceiling_setting="MAKESHOP_MAX_CALLS_PER_SECOND", default_ceiling=10.0
)

ORDER_INFO_PATH = "/api/orderinfo/index.html"
PRODUCT_AUTH_PATH = "/api/product/auth/"
WEBFTP_LOGIN_PATH = "/api/webftp/index.html"

# MakeShop reads and writes its times in Japan's time zone.
MAKESHOP_TZ = ZoneInfo("Asia/Tokyo")

# MakeShop shop IDs: ASCII letters, digits, '-' and '_', starting with a letter or digit.
# Nothing else is accepted, so a shop ID can never change the shape of a URL or a query
# string we send to MakeShop. The model's validator and notification parsing share it.
SHOP_ID_MAX_LENGTH = 64
SHOP_ID_PATTERN = rf"[A-Za-z0-9][A-Za-z0-9_-]{{1,{SHOP_ID_MAX_LENGTH - 1}}}"
SHOP_ID_RE = re.compile(SHOP_ID_PATTERN, re.ASCII)


class Check(StrEnum):
    """One credential MakeShop is asked about; in the order they are checked."""

    ORDER_AUTH_CODE = "order_auth_code"
    PRODUCT_AUTH_CODE = "product_auth_code"
    PASSWORD = "password"  # noqa: S105 - names the check, holds no secret
    # The new API's per-shop token (malls.makeshop.app), kept on the installation row.
    APP_TOKEN = "app_token"  # noqa: S105 - names the check, holds no secret

    @property
    def secret_field(self) -> str:
        """The connection's field holding the secret this check tries (named alike)."""
        return self.value


# What the legacy API (auth codes and the login) is asked, in this order.
LEGACY_CHECKS = (Check.ORDER_AUTH_CODE, Check.PRODUCT_AUTH_CODE, Check.PASSWORD)


class Reason(verdicts.MallReason):
    """Why a check was not accepted (see the table above); stored in ``failure_reason``."""

    # MakeShop said no.
    TOKEN_REJECTED = "token_rejected"  # noqa: S105 - a reason, not a token
    NOT_ENABLED = "not_enabled"
    LOGIN_REFUSED = "login_refused"
    # Not MakeShop's word: GoQ cannot decrypt the saved secret (key missing, row damaged),
    # so it cannot be checked; the merchant must enter it again.
    UNREADABLE = verdicts.UNREADABLE
    # Not MakeShop's word either: GoQ's rule that a shop ID belongs to the shop MakeShop
    # verified it for (malls.makeshop.services.shop_ids). Set aside from an unverified claim; or
    # already held by a verified connection of another shop.
    SHOP_ID_RELEASED = "shop_id_released"
    SHOP_ID_TAKEN = "shop_id_taken"
    # No usable answer.
    TIMEOUT = "timeout"
    REFUSED = "refused"
    DNS = "dns"
    TLS = "tls"
    CONNECTION = "connection"
    REDIRECT = "redirect"
    MAINTENANCE = "maintenance"
    RATE_LIMITED = verdicts.RATE_LIMITED
    HTTP_5XX = "http_5xx"
    BUSY = verdicts.BUSY
    # An answer we cannot read.
    TOO_LARGE = "too_large"
    EMPTY = "empty"
    HTML = "html"
    BAD_XML = "bad_xml"
    UNSAFE_XML = "unsafe_xml"
    UNEXPECTED_XML = "unexpected_xml"
    BAD_JSON = "bad_json"
    UNEXPECTED_JSON = "unexpected_json"
    UNEXPECTED_TEXT = "unexpected_text"
    UNEXPECTED_STATUS = "unexpected_status"
    # MakeShop answered in words that are not a refusal we recognise (the words are
    # kept in ``CheckResult.message``): never read as the merchant's fault.
    UNKNOWN_MESSAGE = "unknown_message"
    # The legacy API did not answer as an API (404/410 on its path, or web pages again
    # and again): MakeShop announced its closure. See ``legacy.answers``.
    LEGACY_API_RETIRED = "legacy_api_retired"
    GRAPHQL_ERROR = "graphql_error"  # the new API answered with an error we do not know
    INTERNAL_ERROR = "internal_error"

    @classmethod
    def rejections(cls) -> frozenset:
        return _REJECTIONS

    @classmethod
    def unreachable(cls) -> frozenset:
        return _UNREACHABLE

    @classmethod
    def of(cls, text: str | None) -> Reason | None:
        """The reason a stored or given text names; None for none or one unknown.

        Rows saved before the enum existed hold ``http_<status>`` / ``status_<n>``.
        """
        if not text:
            return None
        try:
            return cls(text)
        except ValueError:
            pass
        if re.fullmatch(r"http_5\d\d", text):
            return cls.HTTP_5XX
        if re.fullmatch(r"status_\d{3}", text):
            return cls.UNEXPECTED_STATUS
        return None


_REJECTIONS = frozenset(
    {
        Reason.TOKEN_REJECTED,
        Reason.NOT_ENABLED,
        Reason.LOGIN_REFUSED,
        Reason.UNREADABLE,
        Reason.SHOP_ID_RELEASED,
        Reason.SHOP_ID_TAKEN,
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
        Reason.MAINTENANCE,
        Reason.RATE_LIMITED,
        Reason.HTTP_5XX,
        Reason.BUSY,
    }
)


@dataclass(frozen=True)
class CheckResult:
    """What one check found; safe to log, show and store (it holds no secret).

    ``reason`` is None when accepted; a reason given as text is read as a ``Reason``.
    ``detail`` is the number behind the reason, if any (see the module docstring).
    """

    check: Check
    outcome: Outcome
    reason: Reason | None = None
    detail: str = ""
    message: str = ""
    elapsed: float = 0.0

    def __post_init__(self):
        if isinstance(self.reason, str) and not isinstance(self.reason, Reason):
            object.__setattr__(self, "reason", Reason(self.reason) if self.reason else None)

    @property
    def ok(self) -> bool:
        return self.outcome is Outcome.ACCEPTED
