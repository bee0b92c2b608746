"""The per-shop call slot: spacing, no overlap, across processes; other shops unaffected."""

import json

import pytest

from malls import throttle
from malls.models import MakeShopCallSlot
from tests.processes import start_python

pytestmark = pytest.mark.django_db(transaction=True)

HOLD = """
import json, os, time
from malls.throttle import makeshop_call_slot
spans = []
for _ in range(int(os.environ["CALLS"])):
    with makeshop_call_slot(os.environ["SHOP"]):
        started = time.time()
        time.sleep(0.05)  # a quick MakeShop answer
        spans.append((started, time.time()))
print(json.dumps(spans))
"""


def run_workers(shop_calls):
    """shop_calls: list of (shop, calls) per process; returns {shop: sorted spans}."""
    workers = [(shop, start_python(HOLD, SHOP=shop, CALLS=calls)) for shop, calls in shop_calls]
    spans = {}
    for shop, proc in workers:
        out, err = proc.communicate(timeout=60)
        assert proc.returncode == 0, err
        spans.setdefault(shop, []).extend(json.loads(out))
    return {shop: sorted(items) for shop, items in spans.items()}


def test_processes_sharing_a_shop_are_spaced_and_never_overlap():
    spans = run_workers([("shop-a", 2), ("shop-a", 2), ("shop-a", 2), ("shop-b", 2)])
    calls = spans["shop-a"]
    assert len(calls) == 6
    for (_, previous_end), (next_start, _) in zip(calls, calls[1:], strict=False):
        assert next_start - previous_end >= throttle.SPACING
    # Shop B ran alongside A, not after it: its first call starts before A's last call.
    assert spans["shop-b"][0][0] < calls[-1][0]
    assert MakeShopCallSlot.objects.get(pk="shop-a").calls == 6


def test_a_dead_holder_frees_the_slot_after_its_lease(monkeypatch):
    now = [1000.0]
    slot_owner = throttle.makeshop_call_slot("shop-c", clock=lambda: now[0])
    slot_owner.__enter__()  # never released: the holder "died"
    waited = []

    def sleep(seconds):
        waited.append(seconds)
        now[0] += seconds

    with throttle.makeshop_call_slot("shop-c", clock=lambda: now[0], sleep=sleep):
        pass
    assert throttle.LEASE_SECONDS <= sum(waited) < throttle.LEASE_SECONDS + 1


def test_waiting_longer_than_allowed_gives_up():
    now = [50.0]

    def sleep(seconds):
        now[0] += seconds

    with throttle.makeshop_call_slot("shop-d", clock=lambda: now[0]):
        with pytest.raises(throttle.SlotWaitTimeout):
            with throttle.makeshop_call_slot(
                "shop-d", clock=lambda: now[0], sleep=sleep, wait_timeout=5
            ):
                pass
