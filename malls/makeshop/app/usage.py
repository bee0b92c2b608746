"""Which of MakeShop's APIs a GoQ connection uses, and so its state, as conditions on its rows.

A connection is on the app (new API) once an installation linked to it has been
verified: from then on ``installations.usable_token`` hands out its token. Until
then a connection with saved auth codes is on the legacy API; one with neither uses
no API yet. Staff's list filters and columns, the overview's counts and the merchant's
list all read these conditions (``status_is``), so that a number, the list it links
to and what the merchant sees agree.
"""

from django.db.models import Q

from malls.makeshop.models import MakeShopConnection

from . import config
from .models import MakeShopAppInstallation

APP = "app"
LEGACY = "legacy"

ON_APP = Q(app_installation__state=MakeShopAppInstallation.State.VERIFIED)

HAS_LEGACY_SETTINGS = Q()
for _name in MakeShopConnection.SECRET_FIELDS:
    HAS_LEGACY_SETTINGS |= Q(**{f"{_name}__isnull": False})

ON_LEGACY = HAS_LEGACY_SETTINGS & ~ON_APP

CONDITIONS = {LEGACY: ON_LEGACY, APP: ON_APP}

_Status = MakeShopConnection.Status


def status_is(status: str) -> Q:
    """Connections whose status *in use* is ``status``: the one state every list shows.

    A shop on the app is working whatever its legacy row says (the merchant may even
    have removed the auth codes), so it counts as verified and as nothing else. With
    the new API turned off (``config``) no shop is on the app, as the screens say.
    """
    if not config.is_enabled():
        return Q(status=status)
    if status == _Status.VERIFIED:
        return Q(status=status) | ON_APP
    return Q(status=status) & ~ON_APP


def status_in_use(connection) -> str:
    """``status_is`` for one connection (reads a prefetched installation)."""
    if config.is_enabled() and api_of(connection) == APP:
        return _Status.VERIFIED
    return connection.status


def installation_of(connection) -> MakeShopAppInstallation | None:
    """The connection's installation, or None (reads a prefetched one without a query)."""
    try:
        return connection.app_installation
    except MakeShopAppInstallation.DoesNotExist:
        return None


def api_of(connection) -> str | None:
    """``APP``, ``LEGACY`` or None for one connection, by the conditions above."""
    installation = installation_of(connection)
    if installation is not None and installation.state == MakeShopAppInstallation.State.VERIFIED:
        return APP
    # The stored values, still encrypted: whether a secret is saved needs no decryption.
    if any(connection.__dict__.get(name) is not None
           for name in MakeShopConnection.SECRET_FIELDS):
        return LEGACY
    return None
