"""Spacing and serialising calls to MakeShop, per MakeShop shop, across machines.

MakeShop allows one request per second per shop over its whole API and never two
at once; going faster can get the shop blocked. Each call first claims the shop's
``MakeShopCallSlot`` row with a single conditional UPDATE (autocommit, no lock held
across the call). Releasing the slot sets the earliest start of the next call to
one second after this one finished, so k calls take (k-1) seconds plus MakeShop's
answer times, and calls for different shops never wait on each other.

The clock is the machines' wall clock: hosts that share a database must keep it in
sync (NTP); ``SPACING_MARGIN`` absorbs the usual skew.
"""

from __future__ import annotations

import time
import uuid
from contextlib import contextmanager

from django.db import IntegrityError, transaction
from django.db.models import F

from .models import MakeShopCallSlot

SPACING = 1.0
SPACING_MARGIN = 0.02
# Longer than any single MakeShop call may take (the client's overall deadline),
# so a slot whose holder died is freed without ever cutting a live call short.
LEASE_SECONDS = 60.0
DEFAULT_WAIT_TIMEOUT = 120.0
POLL_INTERVAL = 0.05


class SlotWaitTimeout(Exception):
    """The shop's slot stayed busy longer than the caller was willing to wait."""


def _create_slot(makeshop_shop_id: str) -> None:
    try:
        with transaction.atomic():
            MakeShopCallSlot.objects.create(pk=makeshop_shop_id)
    except IntegrityError:
        pass  # another process created it first


@contextmanager
def makeshop_call_slot(
    makeshop_shop_id: str,
    *,
    wait_timeout: float = DEFAULT_WAIT_TIMEOUT,
    clock=time.time,
    sleep=time.sleep,
):
    """Hold the shop's call slot for the duration of one MakeShop request."""
    holder = uuid.uuid4().hex
    give_up_at = clock() + wait_timeout
    while True:
        now = clock()
        claimed = MakeShopCallSlot.objects.filter(
            pk=makeshop_shop_id, busy_until__lt=now, next_call_at__lte=now
        ).update(holder=holder, busy_until=now + LEASE_SECONDS, calls=F("calls") + 1)
        if claimed:
            break
        if now >= give_up_at:
            raise SlotWaitTimeout(makeshop_shop_id)
        slot = MakeShopCallSlot.objects.filter(pk=makeshop_shop_id).values_list(
            "busy_until", "next_call_at"
        ).first()
        if slot is None:  # the shop's first call ever
            _create_slot(makeshop_shop_id)
            continue
        busy_until, next_call_at = slot
        # Free but too early: sleep until it is allowed. Busy: poll, since the
        # holder's release time is not known in advance.
        wait = next_call_at - now if busy_until < now else POLL_INTERVAL
        sleep(min(max(wait, 0.001), POLL_INTERVAL * 5, give_up_at - now + 0.001))
    try:
        yield
    finally:
        finished = clock()
        MakeShopCallSlot.objects.filter(pk=makeshop_shop_id, holder=holder).update(
            holder="", busy_until=0.0, next_call_at=finished + SPACING + SPACING_MARGIN
        )

