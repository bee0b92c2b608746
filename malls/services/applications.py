"""The API-use application's workflow: the only moves staff can make, each recorded."""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from ..models import ChangeRecord, MallShop
from .history import field_changes, record_change

Application = MallShop.ApplicationStatus

# The only moves staff can make; anything else is refused, whatever a request says.
APPLICATION_TRANSITIONS = {
    "mark_applied": ({Application.NOT_APPLIED, Application.WITHDRAWN}, Application.APPLIED),
    "mark_approved": ({Application.APPLIED}, Application.APPROVED),
    "withdraw": ({Application.APPLIED, Application.APPROVED}, Application.WITHDRAWN),
}


class InvalidTransition(Exception):
    """The shop's application is not in a state this move starts from."""


def allowed_application_actions(shop) -> list[str]:
    return [
        action
        for action, (sources, _target) in APPLICATION_TRANSITIONS.items()
        if shop.application_status in sources
    ]


def transition_application(*, shop, action: str, actor=None, source=ChangeRecord.Source.ADMIN):
    """Move a shop's API-use application one step, atomically, and record it.

    Approval switches the shop's order retrieval to API; withdrawing an approved
    application switches it back to CSV.
    """
    if action not in APPLICATION_TRANSITIONS:
        raise InvalidTransition(action)
    sources, target = APPLICATION_TRANSITIONS[action]
    with transaction.atomic():
        locked = MallShop.objects.select_for_update().get(pk=shop.pk)
        if locked.application_status not in sources:
            raise InvalidTransition(action)
        before = {
            "application_status": locked.application_status,
            "order_retrieval": locked.order_retrieval,
        }
        locked.application_status = target
        if target == Application.APPROVED:
            locked.order_retrieval = MallShop.OrderRetrieval.API
        elif target == Application.WITHDRAWN:
            locked.order_retrieval = MallShop.OrderRetrieval.CSV
        locked.application_updated_at = timezone.now()
        locked.save(update_fields=[*before, "application_updated_at", "updated_at"])
        record_change(
            shop=locked, actor=actor, source=source, action=f"application.{action}",
            changes=field_changes(before, locked),
        )
    return locked
