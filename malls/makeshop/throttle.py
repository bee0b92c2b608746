"""MakeShop's calls under the generic call slots (``malls.throttle``), with the legacy
API's evidence of retirement noted beside them.

A legacy call is lent a ``SignBook`` (``legacy.signs``) for its duration; the client
notes each answer in it, and the book keeps the shop's recent "not an API" answers in
``MakeShopAnswerEvidence``, where every process sees them.
"""

from __future__ import annotations

import time
from contextlib import contextmanager

from django.db import IntegrityError, transaction
from django.db.models import F

from malls import throttle

from .api import RATE
from .legacy import signs
from .models import MakeShopAnswerEvidence

MALL = "makeshop"


class EvidenceBook:
    """The shop's "not an API" answers, kept in ``MakeShopAnswerEvidence``."""

    def __init__(self, makeshop_shop_id: str, clock=time.time):
        self.makeshop_shop_id = makeshop_shop_id
        self.clock = clock

    def note(self, shop_id: str, *, not_an_api: bool) -> signs.Signs:
        now = self.clock()
        row = MakeShopAnswerEvidence.objects.filter(pk=self.makeshop_shop_id)
        if not_an_api:
            if not row.update(not_api_streak=F("not_api_streak") + 1, not_api_at=now):
                try:
                    with transaction.atomic():
                        MakeShopAnswerEvidence.objects.create(
                            pk=self.makeshop_shop_id, not_api_streak=1, not_api_at=now
                        )
                except IntegrityError:  # another process wrote it first
                    row.update(not_api_streak=F("not_api_streak") + 1, not_api_at=now)
        else:  # an API answered: the shop no longer counts
            row.update(not_api_streak=0, not_api_at=0.0)
        streak = row.values_list("not_api_streak", flat=True).first() or 0
        return signs.Signs(streak, retired_api_signs(now=now))


def retired_api_signs(*, now: float | None = None) -> int:
    """Shops whose latest answer within the window was not an API's (for staff)."""
    now = time.time() if now is None else now
    return MakeShopAnswerEvidence.objects.filter(
        not_api_at__gt=0.0, not_api_at__gte=now - signs.RETIRED_WINDOW_SECONDS
    ).count()


@contextmanager
def makeshop_call_slot(
    makeshop_shop_id: str,
    *,
    wait_timeout: float = throttle.DEFAULT_WAIT_TIMEOUT,
    clock=time.time,
    sleep=time.sleep,
):
    """Hold the MakeShop shop's call slot and a tick of MakeShop's ceiling for one request."""
    with throttle.call_slot(
        MALL, makeshop_shop_id, rate=RATE, wait_timeout=wait_timeout, clock=clock, sleep=sleep
    ):
        with signs.lent(EvidenceBook(makeshop_shop_id, clock)):
            yield
