"""Who holds a MakeShop shop ID: the connection MakeShop verified for it, and no one else.

A shop ID is unique only among connections MakeShop verified for it (``verified_at``
set; a database constraint, cleared when the ID changes). A claim MakeShop never
verified blocks no one: when the owner's settings are verified, every unverified
claim on the same ID loses it, with a line in its history and a notice on its
page. Whether an ID is taken is told only to someone whose settings MakeShop just
accepted, so nobody can use GoQ to learn which shops are its customers.
"""

from __future__ import annotations

from malls.makeshop.api import Reason
from malls.makeshop.models import MakeShopConnection
from malls.services.history import record_change

Status = MakeShopConnection.Status

# Failure reasons recorded on a connection (folded into the shared vocabulary later).
# An unverified claim lost the ID to its verified owner.
SHOP_ID_RELEASED = Reason.SHOP_ID_RELEASED.value
# MakeShop accepted, but a verified connection holds the ID.
SHOP_ID_TAKEN = Reason.SHOP_ID_TAKEN.value


class ShopIdTakenError(Exception):
    """The MakeShop shop ID is held by another connection MakeShop verified."""


def verified_holder_exists(connection, shop_id) -> bool:
    return (
        MakeShopConnection.objects.filter(makeshop_shop_id=shop_id, verified_at__isnull=False)
        .exclude(pk=connection.pk)
        .exists()
    )


def claim_shop_id(connection, shop_id, *, now, source) -> None:
    """Make ``connection`` the holder of ``shop_id``: MakeShop just verified it for that ID.

    Must run inside the transaction that marks ``connection`` verified. Raises
    ShopIdTakenError if another verified connection holds the ID; otherwise every
    unverified claim on it is released (the database constraint catches a verified
    claim racing this one).
    """
    others = list(
        MakeShopConnection.objects.select_for_update()
        .select_related("shop")
        .filter(makeshop_shop_id=shop_id)
        .exclude(pk=connection.pk)
    )
    if any(other.verified_at is not None for other in others):
        raise ShopIdTakenError(shop_id)
    for other in others:
        _release(other, now=now, source=source)


def _release(claim, *, now, source) -> None:
    """Take the shop ID away from an unverified claim; its store sees why on its page."""
    before = {"makeshop_shop_id": claim.makeshop_shop_id, "status": claim.status}
    claim.makeshop_shop_id = None
    claim.status = Status.REJECTED
    claim.failed_check = claim.makeshop_message = ""
    claim.failure_reason = SHOP_ID_RELEASED
    claim.failing_since = now
    claim.last_checked_at = now
    for name in MakeShopConnection.SECRET_FIELDS:
        setattr(claim, f"{name}_verified_at", None)
    claim.version += 1  # a form opened on the old claim must not save over this
    claim.save(update_fields=[
        "makeshop_shop_id", "status", "failed_check", "makeshop_message", "failure_reason",
        "failing_since", "last_checked_at", "password_verified_at",
        "order_auth_code_verified_at", "product_auth_code_verified_at", "version", "updated_at",
    ])
    # No actor: the claim's store must not learn who took the ID.
    record_change(
        shop=claim.shop, source=source, action="makeshop.shop_id_released",
        changes={name: [old, getattr(claim, name)] for name, old in before.items()},
    )


def mark_taken(connection, *, now) -> None:
    """Record on ``connection`` (not saved here) that a verified connection holds its ID.

    MakeShop accepted the credentials, but the connection is not verified and holds
    nothing; its credentials are checked again on the next save.
    """
    connection.status = Status.REJECTED
    connection.verified_at = None
    connection.failing_since = connection.failing_since or now
    connection.failed_check = connection.makeshop_message = ""
    connection.failure_reason = SHOP_ID_TAKEN
    for name in MakeShopConnection.SECRET_FIELDS:
        setattr(connection, f"{name}_verified_at", None)
