"""What the merchant screens show of a shop, in the merchant's words, ready for a template.

A status is a label, a tone (ok, warning, error or neutral; also the CSS modifier),
a moment with its label, and advice. The MakeShop shop page and the list both read
them from here: the legacy connection (auth codes) through ``connection_status``,
the MakeShop app (new API) through ``app_status``, and which one the shop uses now
through ``api_in_use``. Nothing here shows a secret or a token.
"""

from dataclasses import dataclass
from datetime import datetime

from django.urls import reverse
from django.utils.translation import get_language, gettext_lazy
from django.utils.translation import gettext as _

from . import providers
from .makeshop.app import config as app_config
from .makeshop.app import installations
from .makeshop.app.models import MakeShopAppInstallation
from .models import (
    UNREADABLE_REASON,
    MakeShopConnection,
    Mall,
    MallShop,
    NotificationEvent,
    SecretState,
)
from .services.keys import readable_key_ids

Status = MakeShopConnection.Status
AppState = MakeShopAppInstallation.State


@dataclass(slots=True)
class ConnectionStatus:
    """How a connection is shown to the merchant: a label, a tone, when, what to do."""

    label: str
    tone: str  # ok, warning, error or neutral; also the CSS modifier
    at: datetime | None = None
    at_label: str = ""
    advice: str = ""


# --- The legacy connection (auth codes) --------------------------------------------------


def connection_status(connection) -> ConnectionStatus:
    """Describe a legacy connection's verification state in the merchant's words.

    ``connection`` is a ``MakeShopConnection``, a ``ListedConnection`` or None.
    """
    if connection is None or connection.status == Status.UNSET:
        return ConnectionStatus(
            str(Status.UNSET.label), "neutral", advice=_("Enter the shop's MakeShop settings.")
        )
    if connection.has_unreadable_secret:
        advice = _("A saved password or code can no longer be read. Enter it again.")
        return ConnectionStatus(_("Must be entered again"), "error", advice=advice)
    status = Status(connection.status)
    label = str(status.label)
    if status == Status.VERIFIED:
        return ConnectionStatus(label, "ok", connection.verified_at, _("Verified at"))
    if status == Status.PENDING:
        return ConnectionStatus(
            label, "neutral", advice=_("GoQ will check the settings with MakeShop shortly.")
        )
    makeshop = providers.get(Mall.MAKESHOP)
    check, reason = connection.failed_check, connection.failure_reason
    advice = makeshop.advice(check, reason, rejected=status == Status.REJECTED)
    if check_label := makeshop.check_label(check):
        advice = f"{check_label}: {advice}"
    if status == Status.REJECTED:
        return ConnectionStatus(
            label, "error", connection.failing_since, _("Failing since"), advice
        )
    return ConnectionStatus(label, "warning", connection.last_checked_at, _("Last tried at"),
                            advice)


def has_legacy_codes(connection) -> bool:
    """Whether a saved connection holds any auth code or password (readable or not)."""
    if connection is None or connection._state.adding:
        return False
    return any(
        connection.secret_state(name).state != SecretState.UNSET
        for name in MakeShopConnection.SECRET_FIELDS
    )


# --- The MakeShop app (new API) ------------------------------------------------------------

# The states of the app connection as the merchant sees them. The installation's own
# states, plus three that have no installation row serving the shop.
APP_OFF = "off"
APP_NOT_INSTALLED = "not_installed"
APP_AWAITING_STAFF = "awaiting_staff"

_APP_LABELS = {
    APP_OFF: gettext_lazy("Not available yet"),
    APP_NOT_INSTALLED: gettext_lazy("Waiting for the app to be installed"),
    APP_AWAITING_STAFF: gettext_lazy("Installed, waiting for GoQ staff to confirm"),
    AppState.INSTALLED: gettext_lazy("Installed, verifying"),
    AppState.VERIFIED: gettext_lazy("Installed, verified"),
    AppState.REJECTED: gettext_lazy("Refused by MakeShop"),
    AppState.UNREACHABLE: gettext_lazy("Installed, not yet verified"),
    AppState.UNINSTALLED: gettext_lazy("Uninstalled"),
}
_APP_TONES = {
    AppState.VERIFIED: "ok", AppState.REJECTED: "error", AppState.UNREACHABLE: "warning",
    AppState.UNINSTALLED: "warning",
}
_APP_ADVICE = {
    APP_OFF: gettext_lazy(
        "GoQ cannot connect shops through the MakeShop app yet. Connect with the auth codes."
    ),
    APP_NOT_INSTALLED: gettext_lazy("Install GoQ's app in MakeShop's admin: see the steps."),
    APP_AWAITING_STAFF: gettext_lazy(
        "GoQ's app is installed in MakeShop for this shop ID. GoQ staff confirm that it is "
        "this shop before GoQ uses it; you need not do anything."
    ),
    AppState.INSTALLED: gettext_lazy(
        "GoQ is checking the app's access with MakeShop. This takes a moment: reload the page."
    ),
    AppState.REJECTED: gettext_lazy(
        "MakeShop refuses the app's access for this shop. In MakeShop's admin, uninstall "
        "GoQ's app and install it again."
    ),
    AppState.UNREACHABLE: gettext_lazy(
        "MakeShop could not be reached to check the app's access. If this does not change "
        "within a day, contact GoQ support."
    ),
    AppState.UNINSTALLED: gettext_lazy(
        "GoQ's app was removed from this shop in MakeShop. Install it again to connect "
        "through the app."
    ),
}


@dataclass(slots=True)
class AppStatus(ConnectionStatus):
    """The MakeShop app connection: a ``ConnectionStatus`` plus its state and last update."""

    state: str = APP_NOT_INSTALLED
    last_update_at: datetime | None = None

    @property
    def in_use(self) -> bool:
        """The app's access was verified: GoQ uses it for this shop."""
        return self.state == AppState.VERIFIED

    @property
    def installed(self) -> bool:
        return self.state in (AppState.INSTALLED, AppState.VERIFIED, AppState.REJECTED,
                              AppState.UNREACHABLE)


def _app_status(state, *, verified_at=None, last_checked_at=None, uninstalled_at=None,
                last_update_at=None) -> AppStatus:
    at, at_label = None, ""
    if state == AppState.VERIFIED:
        at, at_label = verified_at, _("Verified at")
    elif state in (AppState.REJECTED, AppState.UNREACHABLE):
        at, at_label = last_checked_at, _("Last tried at")
    elif state == AppState.UNINSTALLED:
        at, at_label = uninstalled_at, _("Uninstalled at")
    return AppStatus(
        label=str(_APP_LABELS[state]), tone=_APP_TONES.get(state, "neutral"), at=at,
        at_label=at_label, advice=str(_APP_ADVICE.get(state, "")), state=state,
        last_update_at=last_update_at,
    )


def app_status(connection) -> AppStatus:
    """The MakeShop app connection of a shop's (saved or new) legacy connection.

    Only the installation serving this very connection is read. "Waiting for GoQ
    staff" is said only when an unclaimed installation has exactly this shop ID and
    MakeShop has accepted one of this connection's credentials for that shop ID, so
    typing someone else's shop ID tells nobody whether they installed the app.
    """
    if not app_config.is_enabled():
        return _app_status(APP_OFF)
    installation = None if connection._state.adding else installations.installation_for(
        connection
    )
    if installation is not None:
        return _app_status(
            installation.state, verified_at=installation.verified_at,
            last_checked_at=installation.last_checked_at,
            uninstalled_at=installation.uninstalled_at,
            last_update_at=installation.last_update_at,
        )
    if _proves_shop_id(connection) and installations.unclaimed_installations().filter(
        shop_id=connection.makeshop_shop_id
    ).exists():
        return _app_status(APP_AWAITING_STAFF)
    return _app_status(APP_NOT_INSTALLED)


def _proves_shop_id(connection) -> bool:
    # The same proof as installations.proven_connection_for: a credential MakeShop
    # currently accepts for this shop ID (cleared when either changes).
    return bool(connection.makeshop_shop_id) and any(
        getattr(connection, f"{name}_verified_at") for name in MakeShopConnection.SECRET_FIELDS
    )


# --- Which API a shop uses ---------------------------------------------------------------

API_APP = "app"
API_LEGACY = "legacy"
API_LABELS = {
    API_APP: gettext_lazy("MakeShop app (new API)"),
    API_LEGACY: gettext_lazy("Auth codes (legacy API)"),
    "": gettext_lazy("None yet"),
}


def api_in_use(app: AppStatus | None, legacy_codes: bool) -> str:
    """``API_APP`` once the app's access is verified, else ``API_LEGACY`` if auth codes
    are saved, else ""."""
    if app is not None and app.in_use:
        return API_APP
    return API_LEGACY if legacy_codes else ""


# --- The last update ---------------------------------------------------------------------


@dataclass(slots=True)
class LastNotification:
    """The last update notification MakeShop sent for a shop, if any."""

    at: datetime | None = None
    event: str = ""


def last_notification(connection) -> LastNotification:
    if connection is None or not connection.last_notification_at:
        return LastNotification()
    kind = connection.last_notification_kind
    kinds = dict(NotificationEvent.Kind.choices)
    return LastNotification(connection.last_notification_at, str(kinds.get(kind, kind)))


# --- 出店中のモール一覧 ----------------------------------------------------------------------


@dataclass(slots=True)
class ListedConnection:
    """What the list needs of a MakeShop connection, read as plain values.

    Has the attributes ``connection_status`` and ``last_notification`` read, so a
    list of many shops costs one query and no model instances per row.
    """

    status: str
    failed_check: str
    failure_reason: str
    verified_at: datetime | None
    failing_since: datetime | None
    last_checked_at: datetime | None
    last_notification_at: datetime | None
    last_notification_kind: str
    has_unreadable_secret: bool
    has_legacy_codes: bool

    FIELDS = (
        "status", "failed_check", "failure_reason", "verified_at", "failing_since",
        "last_checked_at", "last_notification_at", "last_notification_kind",
    )

    @classmethod
    def from_values(cls, values: dict, readable_kids) -> "ListedConnection":
        """Read from a ``MallShop.values()`` row that joined the connection as ``makeshop__``."""
        # Flags a secret whose key is no longer configured (the way secrets become
        # unreadable in practice) without decrypting 3 values per row; the settings
        # page decrypts, and so catches any other damage too.
        secrets = [values[key] for key in _SECRET_KEYS]
        return cls(
            *(values[key] for key in _LISTED_KEYS),
            has_unreadable_secret=values["makeshop__failure_reason"] == UNREADABLE_REASON or any(
                token is not None and token.kid not in readable_kids for token in secrets
            ),
            has_legacy_codes=any(token is not None for token in secrets),
        )


_LISTED_KEYS = tuple(f"makeshop__{name}" for name in ListedConnection.FIELDS)
_SECRET_KEYS = tuple(f"makeshop__{name}" for name in MakeShopConnection.SECRET_FIELDS)
_APP_KEYS = {
    name: f"makeshop__app_installation__{name}"
    for name in ("state", "verified_at", "last_checked_at", "uninstalled_at", "last_update_at")
}


@dataclass(slots=True)
class ShopRow:
    """One line of 出店中のモール一覧, ready to print."""

    name: str
    mall_name: str
    shop_id: str
    application: str
    settings_url: str  # empty for malls not set up on these screens
    api: str  # API_APP, API_LEGACY or "" (MakeShop shops only)
    status: ConnectionStatus | None  # of the API in use; None for other malls
    app: AppStatus | None  # an app installed but not (yet) in use, shown beside
    notification: LastNotification

    @property
    def api_label(self) -> str:
        return str(API_LABELS[self.api]) if self.settings_url else ""


def shop_rows(store) -> list[ShopRow]:
    """The store's shops in one query, joined with their mall, MakeShop connection and app."""
    # Ordered explicitly: the model's default ordering starts with "store", a join to
    # the store table that a list of one store's shops does not need.
    shops = MallShop.objects.filter(store=store).order_by("mall__sort_order", "name", "pk")
    shops = shops.values(
        "pk", "name", "application_status", "mall__code", "mall__name", "mall__name_en",
        "makeshop__makeshop_shop_id", *_LISTED_KEYS, *_SECRET_KEYS, *_APP_KEYS.values(),
    )
    in_japanese = (get_language() or "").startswith("ja")
    readable_kids = readable_key_ids()
    app_enabled = app_config.is_enabled()
    applications = dict(MallShop.ApplicationStatus.choices)
    return [
        _shop_row(shop, in_japanese, readable_kids, app_enabled, applications) for shop in shops
    ]


def _shop_row(shop, in_japanese, readable_kids, app_enabled, applications) -> ShopRow:
    is_makeshop = shop["mall__code"] == Mall.MAKESHOP
    connection = None
    # status is never NULL in a saved connection: NULL means the join found none.
    if is_makeshop and shop["makeshop__status"] is not None:
        connection = ListedConnection.from_values(shop, readable_kids)
    app = None
    if app_enabled and shop[_APP_KEYS["state"]] is not None:
        app = _app_status(**{name: shop[key] for name, key in _APP_KEYS.items()})
    api = api_in_use(app, connection is not None and connection.has_legacy_codes)
    status = None
    if is_makeshop:
        status = app if api == API_APP else connection_status(connection)
    return ShopRow(
        name=shop["name"],
        mall_name=(
            shop["mall__name"] if in_japanese or not shop["mall__name_en"]
            else shop["mall__name_en"]
        ),
        shop_id=shop["makeshop__makeshop_shop_id"] or "",
        application=str(applications.get(shop["application_status"], "")),
        settings_url=(
            reverse("malls:makeshop_settings", args=[shop["pk"]]) if is_makeshop else ""
        ),
        api=api,
        status=status,
        app=app if app is not None and api != API_APP else None,
        notification=last_notification(connection),
    )
