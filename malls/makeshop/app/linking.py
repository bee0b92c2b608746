"""Which GoQ shop an app installation serves: linked on proof of control, or by staff.

MakeShop's install webhook names only its ``shop_id``. A token must never be visible
to, or used for, a GoQ shop that does not control that MakeShop shop, so an
installation links itself only once its token works for that shop ID, and only to
the one GoQ connection with exactly that shop ID whose legacy credential MakeShop
accepts for it at that moment (``proven_connection_for``, ``link_if_proven``, run by
the verification job outside any transaction); otherwise staff assign it
(``assign_installation``). An automatic link whose proof fails later (MakeShop
refuses the shop's legacy credentials) is held for staff (``review_link``). Linking
and unlinking count, for alerts, as the shop gaining or losing its app connection
(``NOT_CONNECTED``), never as a break.
"""

from __future__ import annotations

from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.views.decorators.debug import sensitive_variables

from malls.makeshop.models import MakeShopConnection
from malls.makeshop.services.verification import (
    CHECK_ORDER,
    check_makeshop_credentials,
    saved_secret,
)

from .events import NOT_CONNECTED, Source, alert_state, note_alert, record_event, shop_of
from .models import MakeShopAppInstallation

State = MakeShopAppInstallation.State

# Legacy credentials whose "accepted at" time proves control of the shop ID. They are
# cleared when the credential or the shop ID changes and when MakeShop stops accepting
# them; ``verified_at`` is not, so it proves nothing about the current shop ID.
_PROOF_FIELDS = ("order_auth_code_verified_at", "product_auth_code_verified_at",
                 "password_verified_at")


class AssignmentError(Exception):
    """An assignment staff asked for is refused; the message says why (for staff)."""



def proven_connection_for(installation) -> MakeShopConnection | None:
    """The GoQ connection this installation may serve without staff, if the proof holds.

    A candidate: exactly one GoQ connection carries this shop ID (compared without
    regard to case, so "Shop" and "shop" on two stores count as two claims) among
    those MakeShop has accepted a legacy credential of for that ID (``_PROOF_FIELDS``:
    a claim MakeShop never accepted, a squatter's say, neither counts nor blocks), it
    matches exactly, and it has no installation yet. That is only the candidate:
    ``link_if_proven`` asks MakeShop again before linking.
    """
    accepted = Q()
    for name in _PROOF_FIELDS:
        accepted |= Q(**{f"{name}__isnull": False})
    candidates = list(
        MakeShopConnection.objects.filter(accepted, makeshop_shop_id__iexact=installation.shop_id)
        .select_related("shop")[:2]
    )
    if len(candidates) != 1:
        return None
    (connection,) = candidates
    if connection.makeshop_shop_id != installation.shop_id:
        return None
    if MakeShopAppInstallation.objects.filter(connection=connection).exclude(
        pk=installation.pk
    ).exists():
        return None
    return connection


@sensitive_variables()
def accepted_now(connection) -> bool:
    """Whether MakeShop accepts one of the connection's legacy credentials for its shop ID
    now (the first saved one, order code first): a fresh proof of control, asked outside
    any transaction, recorded nowhere but in the link."""
    for check in CHECK_ORDER:
        secret = saved_secret(connection, check.secret_field)
        if secret:
            verification = check_makeshop_credentials(
                shop_id=connection.makeshop_shop_id, credentials={check: secret}
            )
            return verification.ok
    return False


def link_if_proven(installation, *, source=Source.TASK, now=None) -> bool:
    """Link an unclaimed installation whose token works to its candidate connection, once
    MakeShop has accepted that connection's legacy credential for the exact shop ID just
    now (not a day ago). Called by the verification job, outside any transaction; True
    if it was linked."""
    if not installation.is_unclaimed or installation.state != State.VERIFIED:
        return False
    candidate = proven_connection_for(installation)
    if candidate is None or not accepted_now(candidate):
        return False
    now = now or timezone.now()
    with transaction.atomic():
        current = MakeShopAppInstallation.objects.select_for_update().filter(
            pk=installation.pk, connection__isnull=True, state=State.VERIFIED
        ).first()
        connection = MakeShopConnection.objects.select_for_update().select_related(
            "shop").filter(pk=candidate.pk, makeshop_shop_id=installation.shop_id).first()
        if current is None or connection is None or MakeShopAppInstallation.objects.filter(
            connection=connection
        ).exists():
            return False
        current.link_proved_at = now
        _link(current, connection, actor=None, source=source, now=now,
              how="automatic: a legacy credential accepted by MakeShop for this shop ID now")
    installation.connection_id, installation.link_proved_at = connection.pk, now
    installation.linked_at, installation.link_held_at = now, None
    return True


def review_link(installation, *, source=Source.TASK, now=None) -> None:
    """Hold an automatic link whose proof has failed since: MakeShop now refuses the
    linked shop's legacy credentials (a sold shop, changed codes). Held, the link stays
    for everyone to see, but the token serves nobody (``is_usable``) until staff assign
    the installation again, or MakeShop accepts the shop's credentials again."""
    if installation.connection_id is None or installation.linked_by_id is not None:
        return
    connection = MakeShopConnection.objects.filter(pk=installation.connection_id).first()
    if connection is None:
        return
    refused = connection.status == MakeShopConnection.Status.REJECTED and (
        connection.failed_check in {check.value for check in CHECK_ORDER}
    )
    proven = any(getattr(connection, name) for name in _PROOF_FIELDS)
    hold = refused and not proven
    if hold == (installation.link_held_at is not None):
        return
    now = now or timezone.now()
    with transaction.atomic():
        updated = MakeShopAppInstallation.objects.filter(
            pk=installation.pk, connection=connection, linked_by__isnull=True,
            link_held_at__isnull=hold,
        ).update(link_held_at=now if hold else None, updated_at=timezone.now())
        if updated:
            installation.link_held_at = now if hold else None
            record_event(
                installation, source=source,
                action="makeshop_app.link_held" if hold else "makeshop_app.link_released",
                changes={"reason": "MakeShop refuses the shop's legacy credentials" if hold
                         else "MakeShop accepts the shop's legacy credentials again"},
            )


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
    installation.link_held_at = None
    installation.save(update_fields=["connection", "linked_by", "linked_at", "link_proved_at",
                                     "link_held_at", "updated_at"])
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
        installation.link_proved_at = installation.link_held_at = None
        installation.save(update_fields=["connection", "linked_by", "linked_at", "link_proved_at",
                                         "link_held_at", "updated_at"])
        record_event(installation, action="makeshop_app.unlinked", source=source, actor=actor,
                shop=shop)
    return installation
