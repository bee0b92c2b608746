"""Which of MakeShop's APIs a GoQ connection uses, as conditions on its rows.

A connection is on the app (new API) once an installation linked to it has been
verified: from then on ``installations.usable_token`` hands out its token. Until
then a connection with saved auth codes is on the legacy API; one with neither uses
no API yet. Staff's list filters and columns and the overview's counts all read
these conditions, so that a number and the list it links to agree.
"""

from django.db.models import Q

from malls.makeshop.models import MakeShopConnection

from .models import MakeShopAppInstallation

APP = "app"
LEGACY = "legacy"

ON_APP = Q(app_installation__state=MakeShopAppInstallation.State.VERIFIED)

HAS_LEGACY_SETTINGS = Q()
for _name in MakeShopConnection.SECRET_FIELDS:
    HAS_LEGACY_SETTINGS |= Q(**{f"{_name}__isnull": False})

ON_LEGACY = HAS_LEGACY_SETTINGS & ~ON_APP

CONDITIONS = {LEGACY: ON_LEGACY, APP: ON_APP}


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
