"""History and alerts of app installations, shared by installing, linking and verifying.

Every action writes an ``AppInstallationEvent`` (an unclaimed installation has no GoQ
shop to hang a ``ChangeRecord`` on); once an installation serves a shop its actions go
to that shop's ``ChangeRecord`` history too. A linked installation is its shop's
connection for ``malls.alerts``: every state change is passed to
``note_connection_change`` inside the transaction that writes it.
"""

from __future__ import annotations

from malls.alerts.services import note_connection_change
from malls.alerts.states import ConnectionState
from malls.makeshop.models import MakeShopConnection
from malls.models import ChangeRecord
from malls.services import record_change

from ._shared import APP_TOKEN_CHECK
from .models import AppInstallationEvent, MakeShopAppInstallation

State = MakeShopAppInstallation.State
Source = AppInstallationEvent.Source

# How an installation's event source is shown in a shop's ChangeRecord history.
_CHANGE_SOURCE = {
    Source.WEBHOOK: ChangeRecord.Source.NOTIFICATION,
    Source.ADMIN: ChangeRecord.Source.ADMIN,
    Source.TASK: ChangeRecord.Source.TASK,
    Source.COMMAND: ChangeRecord.Source.COMMAND,
    Source.MERCHANT: ChangeRecord.Source.MERCHANT,
}

# Alerts' state of a shop without an app installation (``malls.makeshop.alerts``).
NOT_CONNECTED = ConnectionState("waiting_install")
# Alerts' reason for an uninstalled app (``malls.makeshop.alerts.REASONS``).
UNINSTALLED_REASON = "app_uninstalled"


def record_event(installation, *, action, source, actor=None, changes=None, shop=None):
    """One event on the installation, and on the served shop's history when there is one."""
    changes = {name: _plain(value) for name, value in (changes or {}).items()}
    AppInstallationEvent.objects.create(
        installation=installation,
        actor=actor if getattr(actor, "is_authenticated", False) else None,
        source=source, action=action, changes=changes,
    )
    if shop is None and installation.connection_id is not None:
        shop = shop_of(installation)
    if shop is not None:
        record_change(
            shop=shop, actor=actor, source=_CHANGE_SOURCE[source], action=action,
            changes={"makeshop_shop_id": installation.shop_id, **changes},
        )


def shop_of(installation):
    """The GoQ shop a linked installation serves (one query)."""
    return MakeShopConnection.objects.select_related("shop").get(
        pk=installation.connection_id
    ).shop


def served_shop(installation):
    """The shop of a linked installation, None for an unclaimed one: looked up once per
    action and handed to both ``record_event`` and ``note_alert``."""
    return None if installation.connection_id is None else shop_of(installation)


def alert_state(installation) -> ConnectionState:
    """The installation's state as alerts see it (no secret in it)."""
    reason = installation.failure_reason
    if installation.state == State.UNINSTALLED:
        reason = UNINSTALLED_REASON
    return ConnectionState(
        status=str(installation.state), reason=reason or "", check=str(APP_TOKEN_CHECK)
    )


def note_alert(installation, before, *, after=None, shop=None, ever_worked=None) -> None:
    """Pass a linked installation's change to alerts; call inside the writing transaction.

    "Has it ever worked?" is the installation's ``verified_at`` unless given.
    """
    if shop is None:
        if installation.connection_id is None:
            return  # unclaimed: no shop to alert
        shop = shop_of(installation)
    note_connection_change(
        installation, before, after or alert_state(installation), shop=shop,
        ever_worked=ever_worked,
    )


def _plain(value):
    if isinstance(value, (list, tuple)):
        return [None if v is None else str(v) for v in value]
    return None if value is None else str(value)
