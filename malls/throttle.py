"""Spacing and serialising calls to a mall: per shop, and a ceiling on all of them.

Malls limit how fast they may be called (MakeShop: one request per second and never
two at once; Rakuten: about one a second per shop); going faster can get us
blocked. Each mall's ``RatePolicy`` (``malls.providers``) says how fast; two limits
apply, both coordinated through the database (every process and machine sees the
same rows), with slots keyed ``"<mall>:<shop id>"`` so malls never share one:

- Per shop: each call first claims the shop's ``CallSlot`` row with
  a single conditional UPDATE (autocommit, no lock held across the call).
  Releasing the slot sets the earliest start of the next call to one second after
  this one finished, so k calls take (k-1) seconds plus MakeShop's answer times,
  and calls for different shops never wait on each other.
- All of a mall's shops together: the setting ``rate.ceiling_setting`` names (the
  ceiling). Once it holds its shop's slot, a call reserves the next tick of the
  mall's ceiling row (``"<mall>:*"``) and waits for it: ticks are
  ``(1 + CEILING_MARGIN) / ceiling`` apart,
  so no second ever sees more calls start than the ceiling, even with some jitter
  between our start and MakeShop's clock. The re-verification batch goes through
  the same slots, so it obeys both.

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

from .models import CallSlot
from .providers import RatePolicy

SPACING_MARGIN = 0.02
# Longer than any single call to a mall may take (the client's overall deadline),
# so a slot whose holder died is freed without ever cutting a live call short.
LEASE_SECONDS = 60.0
DEFAULT_WAIT_TIMEOUT = 120.0
POLL_INTERVAL = 0.05

# The ceiling's row, after the mall's code: "*" is no mall's shop ID.
CEILING_SLOT = "*"
# Ticks are this much wider than 1/ceiling: the gap between our claim and the call
# reaching MakeShop varies by a few milliseconds, and must not let a second in
# MakeShop's eyes hold one call too many.
CEILING_MARGIN = 0.1
DEFAULT_MAX_CALLS_PER_SECOND = 10.0


class SlotWaitTimeout(Exception):
    """The shop's slot (or the ceiling) stayed busy longer than the caller would wait."""


def slot_key(mall: str, shop_id: str) -> str:
    """The call slot's key of a mall's shop (or of the mall's ceiling, ``shop_id="*"``)."""
    return f"{mall}:{shop_id}"


def max_calls_per_second(rate: RatePolicy) -> float:
    """The ceiling on all calls to one mall together; 0 or less turns it off."""
    if not rate.ceiling_setting:
        return 0.0
    return float(getattr(settings, rate.ceiling_setting, rate.default_ceiling))


def ceiling_interval(rate: RatePolicy) -> float | None:
    """Seconds between two calls under the ceiling; None when there is no ceiling."""
    per_second = max_calls_per_second(rate)
    return (1 + CEILING_MARGIN) / per_second if per_second > 0 else None


def _create_slot(key: str) -> None:
    try:
        with transaction.atomic():
            CallSlot.objects.create(pk=key)
    except IntegrityError:
        pass  # another process created it first


def _sleep_until(when, now, give_up_at, sleep) -> None:
    sleep(min(max(when - now, 0.001), POLL_INTERVAL * 5, give_up_at - now + 0.001))


def _claim_shop(key, holder, give_up_at, clock, sleep) -> None:
    while True:
        now = clock()
        claimed = CallSlot.objects.filter(
            pk=key, busy_until__lt=now, next_call_at__lte=now
        ).update(holder=holder, busy_until=now + LEASE_SECONDS, calls=F("calls") + 1)
        if claimed:
            return
        if now >= give_up_at:
            raise SlotWaitTimeout(key)
        slot = CallSlot.objects.filter(pk=key).values_list(
            "busy_until", "next_call_at"
        ).first()
        if slot is None:  # the shop's first call ever
            _create_slot(key)
            continue
        busy_until, next_call_at = slot
        # Free but too early: sleep until it is allowed. Busy: poll, since the
        # holder's release time is not known in advance.
        _sleep_until(
            next_call_at if busy_until < now else now + POLL_INTERVAL, now, give_up_at, sleep
        )


def _claim_ceiling(ceiling_key, rate, give_up_at, clock, sleep) -> None:
    """Reserve the next tick of the ceiling, then wait for it.

    The reservation is a compare-and-set on the ceiling row (no lock, no transaction):
    read the next free tick, move it on by one interval if nobody else did meanwhile.
    Waiting comes after it, so the database's own delays never fall between a tick
    and its call, where they would bunch calls up as MakeShop sees them.
    """
    interval = ceiling_interval(rate)
    if interval is None:
        return
    while True:
        next_tick = CallSlot.objects.filter(pk=ceiling_key).values_list(
            "next_call_at", flat=True
        ).first()
        if next_tick is None:
            _create_slot(ceiling_key)
            continue
        start = max(next_tick, clock())
        if start > give_up_at:
            raise SlotWaitTimeout(ceiling_key)
        reserved = CallSlot.objects.filter(
            pk=ceiling_key, next_call_at=next_tick
        ).update(next_call_at=start + interval, calls=F("calls") + 1)
        if reserved:
            break
    while (now := clock()) < start:
        sleep(start - now)


@contextmanager
def call_slot(
    mall: str,
    shop_id: str,
    *,
    rate: RatePolicy,
    wait_timeout: float = DEFAULT_WAIT_TIMEOUT,
    clock=time.time,
    sleep=time.sleep,
):
    """Hold the shop's call slot and a tick of its mall's ceiling for one request.

    ``rate.spacing`` seconds must pass between the end of one call for the shop and
    the start of the next.
    """
    key = slot_key(mall, shop_id)
    holder = uuid.uuid4().hex
    give_up_at = clock() + wait_timeout
    _claim_shop(key, holder, give_up_at, clock, sleep)
    called = False
    try:
        _claim_ceiling(slot_key(mall, CEILING_SLOT), rate, give_up_at, clock, sleep)
        called = True
        yield
    finally:
        released = {"holder": "", "busy_until": 0.0}
        if called:
            released["next_call_at"] = clock() + rate.spacing + SPACING_MARGIN
        CallSlot.objects.filter(pk=key, holder=holder).update(**released)
