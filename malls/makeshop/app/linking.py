"""Which GoQ shop an app installation serves: linked on proof of control, or by staff.

MakeShop's install webhook names only its ``shop_id``. A token must never be visible
to, or used for, a GoQ shop that does not control that MakeShop shop, so an
installation links itself only to the one GoQ connection with exactly that shop ID
whose legacy credentials MakeShop has accepted (``proven_connection_for``);
otherwise staff assign it (``assign_installation``). Linking and unlinking count,
for alerts, as the shop gaining or losing its app connection (``NOT_CONNECTED``),
never as a break.
"""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from malls.models import MakeShopConnection

from .events import NOT_CONNECTED, Source, alert_state, note_alert, record_event, shop_of
from .models import MakeShopAppInstallation

# Legacy credentials whose "accepted at" time proves control of the shop ID. They are
# cleared when the credential or the shop ID changes and when MakeShop stops accepting
# them; ``verified_at`` is not, so it proves nothing about the current shop ID.
_PROOF_FIELDS = ("order_auth_code_verified_at", "product_auth_code_verified_at",
                 "password_verified_at")


class AssignmentError(Exception):
    """An assignment staff asked for is refused; the message says why (for staff)."""



def proven_connection_for(installation) -> MakeShopConnection | None:
    """The GoQ connection this installation may serve without staff, or None.

    Proof of control: exactly one GoQ connection carries this shop ID (compared
    without regard to case, so "Shop" and "shop" on two stores count as two
    claims), it matches exactly, at least one of its legacy credentials is
    currently accepted by MakeShop for that shop ID, and it has no installation yet.
    """
    candidates = list(
        MakeShopConnection.objects.filter(makeshop_shop_id__iexact=installation.shop_id)
        .select_related("shop")[:2]
    )
    if len(candidates) != 1:
        return None
    (connection,) = candidates
    if connection.makeshop_shop_id != installation.shop_id:
        return None
    if not any(getattr(connection, name) for name in _PROOF_FIELDS):
        return None
    if MakeShopAppInstallation.objects.filter(connection=connection).exclude(
        pk=installation.pk
    ).exists():
        return None
    return connection


def link_if_proven(installation, *, source=Source.TASK, now=None) -> bool:
    """Link an unclaimed installation to its proven connection; True if it was linked."""
    if not installation.is_unclaimed:
        return False
    connection = proven_connection_for(installation)
    if connection is None:
        return False
    _link(installation, connection, actor=None, source=source, now=now,
          how="automatic: legacy settings verified by MakeShop")
    return True


def assign_installation(*, installation, connection, actor, source=Source.ADMIN, now=None):
    """Staff link an unclaimed installation to the GoQ shop that owns the MakeShop shop.

    Refused (``AssignmentError``) when the installation already serves a shop, the
    connection already has an installation, or the connection carries a different
    MakeShop shop ID. A connection without a shop ID takes the installation's.
    """
    with transaction.atomic():
        installation = MakeShopAppInstallation.objects.select_for_update().get(
            pk=installation.pk
        )
        connection = MakeShopConnection.objects.select_for_update().select_related("shop").get(
            pk=connection.pk
        )
        if installation.connection_id == connection.pk:
            return installation
        if installation.connection_id is not None:
            raise AssignmentError("This installation already serves another shop.")
        if MakeShopAppInstallation.objects.filter(connection=connection).exists():
            raise AssignmentError("This shop already has a MakeShop app installation.")
        if connection.makeshop_shop_id is None:
            if MakeShopConnection.objects.filter(
                makeshop_shop_id__iexact=installation.shop_id
            ).exists():
                raise AssignmentError("Another shop uses this MakeShop shop ID.")
            connection.makeshop_shop_id = installation.shop_id
            connection.version += 1
            connection.save(update_fields=["makeshop_shop_id", "version", "updated_at"])
        elif connection.makeshop_shop_id != installation.shop_id:
            raise AssignmentError("The shop's MakeShop shop ID is a different one.")
        _link(installation, connection, actor=actor, source=source, now=now, how="assigned")
    return installation


def _link(installation, connection, *, actor, source, now, how) -> None:
    installation.connection = connection
    installation.linked_by = actor if getattr(actor, "is_authenticated", False) else None
    installation.linked_at = now or timezone.now()
    installation.save(update_fields=["connection", "linked_by", "linked_at", "updated_at"])
    # The shop gains an app connection: a working one closes its open alert (a retired
    # legacy API, say); one that does not work was never this shop's, so no break.
    note_alert(installation, NOT_CONNECTED, shop=connection.shop, ever_worked=False)
    record_event(
        installation, action="makeshop_app.linked", source=source, actor=actor,
        shop=connection.shop,
        changes={
            "how": how, "state": installation.state, "installed_at": installation.installed_at,
        },
    )


def unassign_installation(*, installation, actor, source=Source.ADMIN):
    """Staff take an installation away from a shop; it waits unclaimed again."""
    with transaction.atomic():
        installation = MakeShopAppInstallation.objects.select_for_update().get(
            pk=installation.pk
        )
        if installation.connection_id is None:
            return installation
        shop = shop_of(installation)
        note_alert(installation, alert_state(installation), after=NOT_CONNECTED, shop=shop)
        installation.connection = installation.linked_by = installation.linked_at = None
        installation.save(update_fields=["connection", "linked_by", "linked_at", "updated_at"])
        record_event(installation, action="makeshop_app.unlinked", source=source, actor=actor,
                shop=shop)
    return installation
