"""Moving a shop off MakeShop's legacy API: removing its auth codes once the app serves it.

MakeShop is closing the legacy API (auth codes) in favour of its app (new API). Once
GoQ's app is installed for a shop and its access verified, the shop no longer needs
the legacy secrets; keeping them only keeps secrets GoQ does not use. The shop ID
stays, and so does "verified at": the shop ID's claim (``shop_ids``) and the link to
the app installation rest on it.

It lives with the app's installations, which it needs; MakeShop's services need the
app for nothing, so the app may use them without a cycle.
"""

from __future__ import annotations

from django.db import transaction

from malls.alerts.services import note_connection_change
from malls.alerts.states import state_of as alert_state
from malls.makeshop.models import MakeShopConnection
from malls.models import ChangeRecord
from malls.services.history import SECRET_DELETED, record_change

from . import installations

Status = MakeShopConnection.Status


class AppNotInUse(Exception):
    """The shop's MakeShop app connection is not verified: its auth codes are still needed."""


def remove_legacy_codes(
    *, connection: MakeShopConnection, actor=None, source=ChangeRecord.Source.MERCHANT
) -> MakeShopConnection:
    """Delete a shop's legacy password and auth codes; the shop keeps using the app.

    Refused (``AppNotInUse``) unless the app installation serving this connection is
    verified. The legacy status becomes 未設定 (nothing left to check, so no
    re-verification is queued), the version moves on (a settings form opened before
    is stale) and one history entry says which secrets were removed. Removing from a
    connection that has none left records nothing.
    """
    with transaction.atomic():
        target = MakeShopConnection.objects.select_for_update().select_related("shop").get(
            pk=connection.pk
        )
        installation = installations.installation_for(target)
        if installation is None or not installation.is_usable:
            raise AppNotInUse(str(target.pk))
        present = [
            name for name in MakeShopConnection.SECRET_FIELDS
            if target.__dict__.get(name) is not None
        ]
        if not present:
            return target
        alert_before = alert_state(target)
        before_status = target.status
        for name in MakeShopConnection.SECRET_FIELDS:
            setattr(target, name, None)
            setattr(target, f"{name}_verified_at", None)
        target.status = Status.UNSET
        target.failed_check = target.failure_reason = target.makeshop_message = ""
        target.failing_since = None
        target.version += 1
        target.save()
        note_connection_change(target, alert_before, alert_state(target))
        changes = {name: SECRET_DELETED for name in present}
        if before_status != target.status:
            changes["status"] = [before_status, target.status]
        record_change(
            shop=target.shop, actor=actor, source=source, action="makeshop.legacy_codes_removed",
            changes=changes,
        )
    return target
