"""What MakeShop's screens show of a shop, in the merchant's words, ready for a template.

The MakeShop shop page, the merchant's list (through the provider's ``list_rows``)
and staff's lists read a shop's state from here: the legacy connection (auth codes)
through ``connection_status``, the MakeShop app (new API) through ``app_status``, and
which one the shop uses now through ``api_in_use``; ``shop_status`` is the one state
of the API in use that every list shows. Nothing here shows a secret or a token.
"""

from dataclasses import dataclass
from datetime import datetime

from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from malls import providers
from malls.models import Mall, SecretState
from malls.presenters import ConnectionStatus, LastNotification, MallRow
from malls.verdicts import UNREADABLE

from .app import config as app_config
from .app import installations
from .models import MakeShopAppInstallation, MakeShopConnection, NotificationEvent
from .services.verification import stored_secrets_unreadable

Status = MakeShopConnection.Status
AppState = MakeShopAppInstallation.State


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


def app_state_label(state: str) -> str:
    """The merchant's words for an app state (staff's lists say the same)."""
    return str(_APP_LABELS[state])


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
    def from_values(cls, values: dict) -> "ListedConnection":
        """Read from a ``MakeShopConnection.values()`` row (with ``id`` and the secrets)."""
        secrets = {name: values[name] for name in _SECRET_KEYS}
        return cls(
            *(values[key] for key in _LISTED_FIELDS),
            # Each row's ciphertexts are authenticated (a key no longer configured, a
            # value damaged or swapped from another row), before any check ran.
            has_unreadable_secret=values["failure_reason"] == UNREADABLE
            or stored_secrets_unreadable(values["id"], secrets),
            has_legacy_codes=any(token is not None for token in secrets.values()),
        )


_LISTED_FIELDS = ListedConnection.FIELDS
_SECRET_KEYS = MakeShopConnection.SECRET_FIELDS
_APP_KEYS = {
    name: f"app_installation__{name}"
    for name in ("state", "verified_at", "last_checked_at", "uninstalled_at", "last_update_at")
}


def list_rows(shop_pks) -> dict:
    """``MallRow`` per MakeShop shop pk, in one query whatever the number of shops."""
    rows = MakeShopConnection.objects.filter(shop_id__in=shop_pks).values(
        "id", "shop_id", "makeshop_shop_id", *_LISTED_FIELDS, *MakeShopConnection.SECRET_FIELDS,
        *_APP_KEYS.values(),
    )
    app_enabled = app_config.is_enabled()
    found = {row["shop_id"]: _mall_row(row, app_enabled) for row in rows}
    for pk in shop_pks:
        if pk not in found:
            found[pk] = _mall_row(None, app_enabled, pk=pk)
    return found


def _mall_row(values, app_enabled, *, pk=None) -> MallRow:
    connection = app = None
    if values is not None:
        pk = values["shop_id"]
        connection = ListedConnection.from_values(values)
        if app_enabled and values[_APP_KEYS["state"]] is not None:
            app = _app_status(**{name: values[key] for name, key in _APP_KEYS.items()})
    api = api_in_use(app, connection is not None and connection.has_legacy_codes)
    return MallRow(
        shop_id=(values or {}).get("makeshop_shop_id") or "",
        settings_url=reverse("malls:makeshop_settings", args=[pk]),
        api_label=API_LABELS[api],
        status=app if api == API_APP else connection_status(connection),
        extra=app if app is not None and api != API_APP else None,
        notification=last_notification(connection),
    )


def shop_status(connection) -> ConnectionStatus:
    """The one state every list shows for a saved connection: the API in use's."""
    app = app_status(connection)
    if api_in_use(app, has_legacy_codes(connection)) == API_APP:
        return app
    return connection_status(connection)
