"""What Rakuten's verdicts are called and what to do about them, in both languages.

The one place for these texts: the checks' names (the model's choices), a short
label per ``Reason`` for staff, advice for the merchant naming the RMS functions to
tick and the screens to use, the renewal guide, and the approval guide for GoQ's
registered product. Which connection model applies comes from settings
(``connection_model``): with ``RAKUTEN_SERVICE_SECRET`` set, GoQ holds the
serviceSecret and the merchant only approves GoQ's product and pastes the licenseKey.
"""

from django.conf import settings
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from .api import (
    CHECKS,
    EXPIRY_FUNCTION,
    ORDER_FUNCTION,
    SHOP_FUNCTION,
    Check,
    KeyFormat,
    Outcome,
    Reason,
)

# The two ways a shop's keys come to GoQ (docs/rakuten.md).
SHOP_KEYS = "shop_keys"  # model A: the shop's own WEB API app; both keys pasted
GOQ_PRODUCT = "goq_product"  # model B: GoQ's registered product; only the licenseKey


def connection_model() -> str:
    return GOQ_PRODUCT if settings.RAKUTEN_SERVICE_SECRET else SHOP_KEYS


CHECK_LABELS = {
    Check.EXPIRY: _("licenseKey expiry date"),
    Check.ORDERS: _("Order search"),
    Check.SHOP: _("Shop identity"),
}
CHECK_CHOICES = [(check.value, CHECK_LABELS[check]) for check in CHECKS]

REASON_LABELS = {
    Reason.UNAUTHORISED: _("keys refused (ES01-01)"),
    Reason.EXPIRED: _("licenseKey expired"),
    Reason.PENDING_ACTIVATION: _("new key not active yet"),
    Reason.ORDERS_NOT_ENABLED: _("order functions not enabled"),
    Reason.EXPIRY_NOT_ENABLED: _("license.expiryDate.get not enabled"),
    Reason.SHOP_NOT_ENABLED: _("shop.shopMaster.get not enabled"),
    Reason.OTHER_SHOP: _("keys of another shop"),
    Reason.UNREADABLE: _("saved value unreadable: must be entered again"),
    Reason.TIMEOUT: _("no answer in time"),
    Reason.REFUSED: _("connection refused"),
    Reason.DNS: _("Rakuten's address not found"),
    Reason.TLS: _("secure connection failed"),
    Reason.CONNECTION: _("connection broken off"),
    Reason.REDIRECT: _("redirected elsewhere"),
    Reason.RATE_LIMITED: _("Rakuten asked us to slow down"),
    Reason.HTTP_5XX: _("Rakuten server error"),
    Reason.BUSY: _("shop busy with other calls"),
    Reason.TOO_LARGE: _("answer too large"),
    Reason.EMPTY: _("empty answer"),
    Reason.HTML: _("a web page instead of an answer"),
    Reason.BAD_JSON: _("unreadable JSON"),
    Reason.UNEXPECTED_JSON: _("unexpected JSON"),
    Reason.BAD_XML: _("unreadable XML"),
    Reason.UNSAFE_XML: _("unsafe XML refused"),
    Reason.UNEXPECTED_XML: _("unexpected XML"),
    Reason.UNEXPECTED_STATUS: _("unexpected HTTP status"),
    Reason.UNKNOWN_ERROR: _("an error from Rakuten GoQ does not know"),
    Reason.INTERNAL_ERROR: _("error inside GoQ"),
}

KEY_FORMAT_MESSAGES = {
    KeyFormat.EMPTY: _("Enter the key."),
    KeyFormat.TOO_LONG: _(
        "Rakuten's keys have at most %(limit)s characters: check what was pasted."
    ),
    KeyFormat.WHITESPACE: _(
        "The key contains a space or a line break: copy it again from RMS, the key alone."
    ),
    KeyFormat.NOT_ASCII: _(
        "The key contains full-width or other characters Rakuten's keys do not have: copy it "
        "again from RMS."
    ),
    KeyFormat.COLON: _("Rakuten's keys do not contain ':': copy the key again from RMS."),
}
SHOP_URL_MESSAGE = _(
    "Enter the shop's URL code: the xxxx of https://www.rakuten.co.jp/xxxx/ (letters, digits, "
    "'-' or '_')."
)

# Where the merchant ticks the API functions (model A), said once for every advice.
_WHERE_FUNCTIONS = _(
    "In RMS: 店舗様向け情報・サービス → WEB APIサービス → アプリ一覧 → the app 「店舗様」 (or "
    "「自店舗利用」) → 詳細 → 利用機能編集. After ticking, press 「確認する」 on the confirmation "
    "page: leaving before it saves nothing, the step most often missed."
)
# The same for GoQ's product (model B): the merchant approves what GoQ requests.
_WHERE_APPROVAL = _(
    "In RMS: 店舗様向け情報・サービス → 各種申請・設定変更 → "
    "「システム開発企業からのAPIアクセス許可設定」 → 設定変更, and approve GoQ's product "
    "(「アクセス承認」, or 「アップデートする」 when it shows 「利用中 更新あり」)."
)

ADVICE = {
    Reason.UNAUTHORISED: _(
        "Rakuten refused these keys (ES01-01 Un-Authorised): the licenseKey or the "
        "serviceSecret is wrong, or the licenseKey was re-issued and this one no longer "
        "works. Copy both again from RMS, whole: a dropped first or last character, or a "
        "capital I read as a small l, is the usual slip."
    ),
    Reason.EXPIRED: _(
        "This licenseKey has expired (Rakuten's keys last about 90 days). Issue a new one in "
        "RMS and paste it here: see 「ライセンスキーの更新方法」 below."
    ),
    Reason.PENDING_ACTIVATION: _(
        "Rakuten does not accept this new licenseKey yet: a freshly issued key can take from "
        "10 minutes to about an hour and a half to work. GoQ checks it again every 10 "
        "minutes; nothing to do for now."
    ),
    Reason.UNREADABLE: _(
        "GoQ can no longer read the key saved here (it must be entered again). Nothing was "
        "sent to Rakuten: enter the key again and save."
    ),
    Reason.RATE_LIMITED: _(
        "Rakuten is busy with other requests for this shop, so it could not check the "
        "settings. They are kept; GoQ will check again later."
    ),
    Reason.UNKNOWN_ERROR: _(
        "Rakuten answered with an error GoQ does not recognise, so the keys are neither "
        "confirmed nor refused. GoQ will check again later; if this goes on, contact GoQ "
        "support with Rakuten's message."
    ),
    "rejected": _("Rakuten did not accept these keys. Check them in RMS and enter them again."),
    "unreachable": _(
        "Rakuten could not be reached. The settings are kept; GoQ will check again later."
    ),
    "unexpected": _(
        "Rakuten gave an answer GoQ did not expect. The settings are kept; GoQ will check "
        "again later; if this goes on, contact GoQ support."
    ),
}

_NOT_ENABLED = {
    Reason.ORDERS_NOT_ENABLED: (
        ORDER_FUNCTION,
        _("The keys work, but Rakuten does not let them search orders, so order import would "
          "fail. Enable the order functions (%(function)s, and rpay.order.getOrder for the "
          "import)."),
    ),
    Reason.EXPIRY_NOT_ENABLED: (
        EXPIRY_FUNCTION,
        _("The keys work, but Rakuten does not let GoQ read the licenseKey's expiry date, so GoQ "
          "cannot warn before it lapses. Enable %(function)s (LicenseManagementAPI)."),
    ),
    Reason.SHOP_NOT_ENABLED: (
        SHOP_FUNCTION,
        _("The keys work, but Rakuten does not let GoQ read which shop they belong to. Enable "
          "%(function)s (ShopAPI)."),
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


def advice(reason: str | None, *, rejected: bool, reported_shop: str = "") -> str:
    """Plain advice for one of Rakuten's verdicts.

    ``rejected`` says whether RMS refused (the merchant must act) rather than gave no
    verdict; it comes from the stored status. ``reported_shop`` is the shop RMS says
    the keys belong to (for ``other_shop``).
    """
    known = Reason.of(reason)
    if known is Reason.PENDING_ACTIVATION:
        return str(ADVICE[known])
    if rejected:
        if known is Reason.OTHER_SHOP:
            return gettext(
                "These keys belong to another Rakuten shop: RMS reports 「%(reported)s」. Check "
                "the shop URL entered here, or paste the keys of this shop (each shop has its "
                "own keys)."
            ) % {"reported": reported_shop or "?"}
        if known in _NOT_ENABLED:
            function, text = _NOT_ENABLED[known]
            where = _WHERE_APPROVAL if connection_model() == GOQ_PRODUCT else _WHERE_FUNCTIONS
            return f"{text % {'function': function}} {where}"
        return str(ADVICE.get(known) or ADVICE["rejected"])
    if known is Reason.UNKNOWN_ERROR:
        return str(ADVICE[known])
    if known is not None and known.is_busy:
        return str(ADVICE[Reason.RATE_LIMITED])
    if not reason or (known is not None and known.outcome is Outcome.UNREACHABLE):
        return str(ADVICE["unreachable"])
    return str(ADVICE["unexpected"])


def likely_cause(connection) -> str:
    """Staff's one-line guess at why a shop that worked is now rejected."""
    if not connection.is_broken:
        return ""
    known = Reason.of(connection.failure_reason)
    if known is Reason.EXPIRED:
        return gettext("The licenseKey expired: the merchant must issue a new one and paste it.")
    if known is not None and known.not_enabled:
        return gettext("An RMS function GoQ needs was switched off for the keys.")
    return gettext(
        "The licenseKey was probably re-issued in RMS, which can void the old one at once: "
        "the merchant must paste the new key."
    )


# --- Guides shown on the settings page ------------------------------------------------


def renewal_steps() -> list[str]:
    """How to issue a new licenseKey in RMS, for the connection model in use."""
    if connection_model() == GOQ_PRODUCT:
        return [
            gettext("RMS: 店舗様向け情報・サービス → 各種申請・設定変更 → 「システム開発企業からの"
                    "APIアクセス許可設定」 → 設定変更."),
            gettext("In GoQ's row: 確認 / 詳細 → 「新しいキーを発行」."),
            gettext("Paste the new licenseKey here at once: the old one may stop working as "
                    "soon as the new one is issued."),
        ]
    return [
        gettext("RMS: 店舗様向け情報・サービス → WEB APIサービス → アプリ一覧 → the 「店舗様」 "
                "row → 詳細 (before April 2025: WEB APIサービス → 2-1 WEB API → 利用設定)."),
        gettext("「ライセンスキーの確認・変更」 → tick 「ロボットによる操作ではありません」 → "
                "「新しいライセンスキーを発行」."),
        gettext("The serviceSecret does not change: only the licenseKey is new."),
        gettext("Paste the new licenseKey here at once: the old one may stop working as soon "
                "as the new one is issued."),
    ]


def setup_steps() -> list[str]:
    """What the merchant does in RMS before pasting anything here."""
    if connection_model() == GOQ_PRODUCT:
        return [
            gettext("Enter your shop URL here and save: GoQ asks Rakuten for access to your "
                    "shop, and Rakuten e-mails you 「【楽天市場】開発企業様からのAPI利用申請 承認の"
                    "お願い」."),
            str(_WHERE_APPROVAL),
            gettext("Then issue the licenseKey in GoQ's row (確認 / 詳細 → 「新しいキーを発行」) "
                    "and paste it here."),
        ]
    return [
        gettext("RMS: 店舗様向け情報・サービス → WEB APIサービス → アプリ一覧 (create the app "
                "「自店舗利用」 under 2-2 アプリ登録 if there is none) → 詳細."),
        gettext("Tick these functions: %(functions)s.")
        % {"functions": ", ".join((EXPIRY_FUNCTION, ORDER_FUNCTION, "rpay.order.getOrder",
                                   SHOP_FUNCTION))},
        gettext("Press 「確認する」 on the confirmation page: leaving before it saves nothing."),
        gettext("Copy the serviceSecret (starts with SP) and the licenseKey (starts with SL) "
                "and paste them here."),
    ]
