"""What MakeShop's verdicts are called and what to do about them, in both languages.

The one place for these texts: the names of the checks (the model's choices), a
short label per ``Reason`` for staff, advice for the merchant, and staff's guess at
why a shop that worked is now refused. Reasons may come as ``Reason`` members or as
stored text (rows keep ``failure_reason`` as text); unknown text is shown as is.
"""

from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from .api import LEGACY_CHECKS, Check, Reason

CHECK_LABELS = {
    Check.ORDER_AUTH_CODE: _("Order data auth code"),
    Check.PRODUCT_AUTH_CODE: _("Product data auth code"),
    Check.PASSWORD: _("Password"),
    Check.APP_TOKEN: _("MakeShop app token"),
}
# For ``MakeShopConnection.failed_check``: the legacy checks (the app token's verdict is
# kept on its installation).
CHECK_CHOICES = [(check.value, CHECK_LABELS[check]) for check in LEGACY_CHECKS]

REASON_LABELS = {
    Reason.TOKEN_REJECTED: _("code refused"),
    Reason.NOT_ENABLED: _("API use not approved by MakeShop"),
    Reason.UNREADABLE: _("saved value unreadable: must be entered again"),
    Reason.SHOP_ID_RELEASED: _("shop ID set aside: verified for another shop"),
    Reason.SHOP_ID_TAKEN: _("shop ID held by another verified shop"),
    Reason.LOGIN_REFUSED: _("login refused"),
    Reason.TIMEOUT: _("no answer in time"),
    Reason.REFUSED: _("connection refused"),
    Reason.DNS: _("MakeShop's address not found"),
    Reason.TLS: _("secure connection failed"),
    Reason.CONNECTION: _("connection broken off"),
    Reason.REDIRECT: _("redirected elsewhere"),
    Reason.MAINTENANCE: _("MakeShop under maintenance"),
    Reason.RATE_LIMITED: _("MakeShop asked us to slow down"),
    Reason.HTTP_5XX: _("MakeShop server error"),
    Reason.BUSY: _("shop busy with other calls"),
    Reason.TOO_LARGE: _("answer too large"),
    Reason.EMPTY: _("empty answer"),
    Reason.HTML: _("a web page instead of an answer"),
    Reason.BAD_XML: _("unreadable XML"),
    Reason.UNSAFE_XML: _("unsafe XML refused"),
    Reason.UNEXPECTED_XML: _("unexpected XML"),
    Reason.BAD_JSON: _("unreadable JSON"),
    Reason.UNEXPECTED_JSON: _("unexpected JSON"),
    Reason.UNEXPECTED_TEXT: _("unexpected text"),
    Reason.UNEXPECTED_STATUS: _("unexpected HTTP status"),
    Reason.UNKNOWN_MESSAGE: _("a message from MakeShop GoQ does not know"),
    Reason.LEGACY_API_RETIRED: _("legacy API did not answer as an API (retired?)"),
    Reason.GRAPHQL_ERROR: _("unknown error from the new API"),
    Reason.INTERNAL_ERROR: _("error inside GoQ"),
}

# What to do about a verdict, keyed by (check, reason) or by reason alone, with one
# text per kind of verdict besides. Shown on the field after a refused save and under
# the shop's status in the list.
ADVICE = {
    # MakeShop's current console first, the older one's menu as the alternative.
    (Check.ORDER_AUTH_CODE, Reason.TOKEN_REJECTED): _(
        "MakeShop did not accept this order data auth code. If 変更 was pressed next to the "
        "code in MakeShop, a new code was issued and the old one stopped working: copy the "
        "code MakeShop shows now (設定 → API → 注文; in the older admin: ショップ作成 → "
        "外部システム連携 → 注文データ連携設定) and enter it again."
    ),
    (Check.PRODUCT_AUTH_CODE, Reason.TOKEN_REJECTED): _(
        "MakeShop did not accept this product data auth code. If 変更 was pressed next to the "
        "code in MakeShop, a new code was issued and the old one stopped working: copy the "
        "code MakeShop shows now (設定 → API → 商品; in the older admin: ショップ作成 → "
        "外部システム連携 → 商品データ連携設定) and enter it again."
    ),
    Reason.UNREADABLE: _(
        "GoQ can no longer read the value saved here (it must be entered again). Nothing "
        "was sent to MakeShop: enter the value again and save."
    ),
    Reason.SHOP_ID_RELEASED: _(
        "MakeShop did not confirm this shop ID for this shop, so GoQ set it aside. Check the "
        "shop ID and save the settings again."
    ),
    Reason.SHOP_ID_TAKEN: _(
        "This shop ID cannot be connected to this shop. If it is your shop's ID, contact "
        "GoQ support."
    ),
    Reason.NOT_ENABLED: _(
        "MakeShop has not approved API use for this shop yet. GoQ applies to MakeShop on your "
        "behalf; approval takes from a few days to about a week. Save again once it is approved."
    ),
    Reason.LOGIN_REFUSED: _(
        "MakeShop refused this shop ID and password. Use the login of the shop's main "
        "administrator: sub-administrator logins are not accepted. Check that the whole "
        "password was entered."
    ),
    Reason.MAINTENANCE: _(
        "MakeShop is under maintenance, so it could not check the settings. GoQ will check "
        "again later."
    ),
    Reason.BUSY: _(
        "MakeShop is busy with other requests for this shop, so it could not check the "
        "settings. GoQ will check again later."
    ),
    Reason.LEGACY_API_RETIRED: _(
        "MakeShop's legacy API did not answer as an API; it may have been retired: connect "
        "this shop through the MakeShop app (new API) instead of auth codes, or contact GoQ "
        "support."
    ),
    Reason.UNKNOWN_MESSAGE: _(
        "MakeShop answered with a message GoQ does not recognise, so the setting is neither "
        "confirmed nor refused. GoQ will check again later; if this goes on, contact GoQ "
        "support with MakeShop's message."
    ),
    "rejected": _("MakeShop did not accept this value. Check it in MakeShop and enter it again."),
    "unreachable": _("MakeShop could not be reached. GoQ will check again later."),
    "unexpected": _(
        "MakeShop gave an answer GoQ did not expect. GoQ will check again later; if this "
        "goes on, contact GoQ support."
    ),
}


def check_label(check: str) -> str:
    """The name of a check (a ``Check`` or its text); "" for anything else."""
    label = CHECK_LABELS.get(check)
    return str(label) if label is not None else ""


def reason_label(reason: str) -> str:
    """Staff's short label for a reason; unknown text is shown as it is."""
    known = Reason.of(reason)
    return str(REASON_LABELS[known]) if known is not None else reason or ""


def advice(check: str | None, reason: str | None, *, rejected: bool) -> str:
    """Plain advice for one of MakeShop's verdicts on ``check`` (None: on no check in particular).

    ``rejected`` says whether MakeShop refused (the merchant must act) rather than
    gave no verdict; it comes from the stored status, so it is not read off the reason.
    """
    known = Reason.of(reason)
    if rejected:
        return str(ADVICE.get((check, known)) or ADVICE.get(known) or ADVICE["rejected"])
    if known in (Reason.MAINTENANCE, Reason.LEGACY_API_RETIRED, Reason.UNKNOWN_MESSAGE):
        return str(ADVICE[known])
    if known is not None and known.is_busy:
        return str(ADVICE[Reason.BUSY])
    if not reason or (known is not None and known.is_unreachable):
        return str(ADVICE["unreachable"])
    return str(ADVICE["unexpected"])


def likely_cause(connection) -> str:
    """Staff's one-line guess at why a shop that worked is now rejected."""
    if not connection.is_broken:
        return ""
    if Reason.of(connection.failure_reason) is Reason.UNREADABLE:
        return gettext(
            "A saved secret can no longer be decrypted (a retired key, or damaged data): the "
            "merchant must enter it again."
        )
    if Reason.of(connection.failure_reason) is Reason.NOT_ENABLED:
        return gettext("MakeShop seems to have withdrawn the shop's API use.")
    if connection.failed_check == Check.PASSWORD:
        return gettext("The MakeShop main administrator password was probably changed.")
    return gettext(
        "The auth code was probably re-issued in MakeShop (変更 pressed), which voids the "
        "old one: the merchant must enter the new code."
    )


# Where the merchant finds each code in MakeShop's admin: the current console first, the
# older one as an alternative (the settings form's help texts).
WHERE_TO_FIND = {
    Check.ORDER_AUTH_CODE: _(
        "In MakeShop: 設定 → API → 注文 (older admin: ショップ作成 → 外部システム連携 → "
        "注文データ連携設定). The code appears next to 認証コード once 注文情報参照 is set to "
        "許可する and the page is saved."
    ),
    Check.PRODUCT_AUTH_CODE: _(
        "Optional. In MakeShop: 設定 → API → 商品 (older admin: ショップ作成 → 外部システム連携 "
        "→ 商品データ連携設定), next to 認証コード. Needed only for working with your products "
        "from GoQ."
    ),
}
