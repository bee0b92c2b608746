"""Spacing and serialising calls to MakeShop: per shop, and a ceiling on all of them.

MakeShop allows one request per second over its whole API and never two at once;
going faster can get us blocked. It does not say whether it counts per shop, per
token or per calling address, so two limits apply, both coordinated through the
database (every process and machine sees the same rows):

- Per MakeShop shop: each call first claims the shop's ``MakeShopCallSlot`` row with
  a single conditional UPDATE (autocommit, no lock held across the call).
  Releasing the slot sets the earliest start of the next call to one second after
  this one finished, so k calls take (k-1) seconds plus MakeShop's answer times,
  and calls for different shops never wait on each other.
- All shops together: ``settings.MAKESHOP_MAX_CALLS_PER_SECOND`` (the ceiling).
  Once it holds its shop's slot, a call reserves the next tick of the ceiling row
  (``CEILING_SLOT``) and waits for it: ticks are ``(1 + CEILING_MARGIN) / ceiling`` apart,
  so no second ever sees more calls start than the ceiling, even with some jitter
  between our start and MakeShop's clock. The re-verification batch goes through
  the same slots, so it obeys both.

The slot also keeps the shop's recent "not an API" answers (404/410, web pages)
and lends them to the call it admits (``malls.makeshop.legacy.signs``): whether a
page means a passing block or the legacy API's closure only shows over several
answers, from any process.

The clock is the machines' wall clock: hosts that share a database must keep it in
sync (NTP); ``SPACING_MARGIN`` absorbs the usual skew.
"""

from __future__ import annotations

import time
import uuid
from contextlib import contextmanager

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F

from .makeshop.legacy import answers, signs
from .models import MakeShopCallSlot

SPACING = 1.0
SPACING_MARGIN = 0.02
# Longer than any single MakeShop call may take (the client's overall deadline),
# so a slot whose holder died is freed without ever cutting a live call short.
LEASE_SECONDS = 60.0
DEFAULT_WAIT_TIMEOUT = 120.0
POLL_INTERVAL = 0.05

# The ceiling's row: "*" is never a MakeShop shop ID (see makeshop.api.SHOP_ID_RE).
CEILING_SLOT = "*"
# Ticks are this much wider than 1/ceiling: the gap between our claim and the call
# reaching MakeShop varies by a few milliseconds, and must not let a second in
# MakeShop's eyes hold one call too many.
CEILING_MARGIN = 0.1
DEFAULT_MAX_CALLS_PER_SECOND = 10.0


class SlotWaitTimeout(Exception):
    """The shop's slot (or the ceiling) stayed busy longer than the caller would wait."""


def max_calls_per_second() -> float:
    """The ceiling on all calls to MakeShop together; 0 or less turns it off."""
    return float(getattr(settings, "MAKESHOP_MAX_CALLS_PER_SECOND", DEFAULT_MAX_CALLS_PER_SECOND))


def ceiling_interval() -> float | None:
    """Seconds between two calls under the ceiling; None when there is no ceiling."""
    rate = max_calls_per_second()
    return (1 + CEILING_MARGIN) / rate if rate > 0 else None


def _create_slot(key: str) -> None:
    try:
        with transaction.atomic():
            MakeShopCallSlot.objects.create(pk=key)
    except IntegrityError:
        pass  # another process created it first


def _sleep_until(when, now, give_up_at, sleep) -> None:
    sleep(min(max(when - now, 0.001), POLL_INTERVAL * 5, give_up_at - now + 0.001))


def _claim_shop(makeshop_shop_id, holder, give_up_at, clock, sleep) -> None:
    while True:
        now = clock()
        claimed = MakeShopCallSlot.objects.filter(
            pk=makeshop_shop_id, busy_until__lt=now, next_call_at__lte=now
        ).update(holder=holder, busy_until=now + LEASE_SECONDS, calls=F("calls") + 1)
        if claimed:
            return
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
        _sleep_until(
            next_call_at if busy_until < now else now + POLL_INTERVAL, now, give_up_at, sleep
        )


def _claim_ceiling(give_up_at, clock, sleep) -> None:
    """Reserve the next tick of the ceiling, then wait for it.

    The reservation is a compare-and-set on the ceiling row (no lock, no transaction):
    read the next free tick, move it on by one interval if nobody else did meanwhile.
    Waiting comes after it, so the database's own delays never fall between a tick
    and its call, where they would bunch calls up as MakeShop sees them.
    """
    interval = ceiling_interval()
    if interval is None:
        return
    while True:
        next_tick = MakeShopCallSlot.objects.filter(pk=CEILING_SLOT).values_list(
            "next_call_at", flat=True
        ).first()
        if next_tick is None:
            _create_slot(CEILING_SLOT)
            continue
        start = max(next_tick, clock())
        if start > give_up_at:
            raise SlotWaitTimeout(CEILING_SLOT)
        reserved = MakeShopCallSlot.objects.filter(
            pk=CEILING_SLOT, next_call_at=next_tick
        ).update(next_call_at=start + interval, calls=F("calls") + 1)
        if reserved:
            break
    while (now := clock()) < start:
        sleep(start - now)


class SlotSignBook:
    """The shop's "not an API" answers, kept on its slot row (``signs.SignBook``)."""

    def __init__(self, makeshop_shop_id: str, clock=time.time):
        self.makeshop_shop_id = makeshop_shop_id
        self.clock = clock

    def note(self, shop_id: str, *, not_an_api: bool) -> answers.Signs:
        now = self.clock()
        row = MakeShopCallSlot.objects.filter(pk=self.makeshop_shop_id)
        if not_an_api:
            row.update(not_api_streak=F("not_api_streak") + 1, not_api_at=now)
        else:  # an API answered: the shop no longer counts
            row.update(not_api_streak=0, not_api_at=0.0)
        streak = row.values_list("not_api_streak", flat=True).first() or 0
        return answers.Signs(streak, retired_api_signs(now=now))


def retired_api_signs(*, now: float | None = None) -> int:
    """Shops whose latest answer within the window was not an API's (for staff)."""
    now = time.time() if now is None else now
    return MakeShopCallSlot.objects.filter(
        not_api_at__gt=0.0, not_api_at__gte=now - answers.RETIRED_WINDOW_SECONDS
    ).count()


@contextmanager
def makeshop_call_slot(
    makeshop_shop_id: str,
    *,
    wait_timeout: float = DEFAULT_WAIT_TIMEOUT,
    clock=time.time,
    sleep=time.sleep,
):
    """Hold the shop's call slot and a tick of the ceiling for one MakeShop request."""
    holder = uuid.uuid4().hex
    give_up_at = clock() + wait_timeout
    _claim_shop(makeshop_shop_id, holder, give_up_at, clock, sleep)
    called = False
    try:
        _claim_ceiling(give_up_at, clock, sleep)
        called = True
        with signs.lent(SlotSignBook(makeshop_shop_id, clock)):
            yield
    finally:
        released = {"holder": "", "busy_until": 0.0}
        if called:
            released["next_call_at"] = clock() + SPACING + SPACING_MARGIN
        MakeShopCallSlot.objects.filter(pk=makeshop_shop_id, holder=holder).update(**released)
