"""The per-shop call slot: spacing, no overlap, across processes; other shops unaffected."""

import json

import pytest

from malls import throttle
from malls.makeshop import throttle as makeshop_throttle
from malls.makeshop.api import RATE
from malls.makeshop.sandbox import make_server
from malls.makeshop.sandbox.shops import DemoShop
from malls.models import CallSlot
from tests.processes import start_python

pytestmark = pytest.mark.django_db(transaction=True)

HOLD = """
import json, os, time
from malls.makeshop.throttle import makeshop_call_slot
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
        assert next_start - previous_end >= RATE.spacing
    # Shop B ran alongside A, not after it: its first call starts before A's last call.
    assert spans["shop-b"][0][0] < calls[-1][0]
    assert CallSlot.objects.get(pk="makeshop:shop-a").calls == 6


def test_a_dead_holder_frees_the_slot_after_its_lease(monkeypatch):
    now = [1000.0]
    slot_owner = makeshop_throttle.makeshop_call_slot("shop-c", clock=lambda: now[0])
    slot_owner.__enter__()  # never released: the holder "died"
    waited = []

    def sleep(seconds):
        waited.append(seconds)
        now[0] += seconds

    with makeshop_throttle.makeshop_call_slot("shop-c", clock=lambda: now[0], sleep=sleep):
        pass
    assert throttle.LEASE_SECONDS <= sum(waited) < throttle.LEASE_SECONDS + 1


def test_waiting_longer_than_allowed_gives_up():
    now = [50.0]

    def sleep(seconds):
        now[0] += seconds

    with makeshop_throttle.makeshop_call_slot("shop-d", clock=lambda: now[0]):
        with pytest.raises(throttle.SlotWaitTimeout):
            with makeshop_throttle.makeshop_call_slot(
                "shop-d", clock=lambda: now[0], sleep=sleep, wait_timeout=5
            ):
                pass


# --- The ceiling on all calls together --------------------------------------------------

CALL_SANDBOX = """
import json, os
from malls.makeshop import MakeShopClient
from malls.makeshop.throttle import makeshop_call_slot
client = MakeShopClient(os.environ["SANDBOX"])
outcomes = []
for shop in os.environ["SHOPS"].split(","):
    with makeshop_call_slot(shop):
        outcomes.append(client.verify_login(shop_id=shop, password="pw").outcome)
print(json.dumps(outcomes))
"""


def busiest_second(starts):
    """The most calls that started within any one second (a window opening at a call)."""
    starts = sorted(starts)
    return max(sum(1 for t in starts if s <= t < s + 1.0) for s in starts)


def test_processes_calling_many_shops_stay_under_the_ceiling_measured_at_makeshop():
    """Four workers, twenty shops, one call each: MakeShop sees at most the ceiling a second."""
    ceiling = 5
    shops = {
        f"ceiling-{n:02d}": DemoShop(f"ceiling-{n:02d}", "t" * 32, "p", "pw") for n in range(20)
    }
    names = list(shops)
    with make_server(shops=shops).start_in_thread() as sandbox:
        workers = [
            start_python(
                CALL_SANDBOX, SANDBOX=sandbox.url, SHOPS=",".join(names[i::4]),
                MAKESHOP_MAX_CALLS_PER_SECOND=ceiling,
            )
            for i in range(4)
        ]
        outcomes = []
        for proc in workers:
            out, err = proc.communicate(timeout=60)
            assert proc.returncode == 0, err
            outcomes += json.loads(out)
        calls = sandbox.calls

    assert outcomes == ["accepted"] * 20
    starts = [call.started_at for call in calls]
    assert len(starts) == 20 and sandbox.violations == 0
    assert busiest_second(starts) <= ceiling
    # Twenty calls at five a second: the ceiling, not the shops, set the pace.
    assert max(starts) - min(starts) >= (20 - 1) / ceiling


def test_the_ceiling_spaces_calls_for_different_shops(settings):
    settings.MAKESHOP_MAX_CALLS_PER_SECOND = 4
    now = [100.0]
    starts = []

    def sleep(seconds):
        now[0] += seconds

    for n in range(6):
        with makeshop_throttle.makeshop_call_slot(f"shop-{n}", clock=lambda: now[0], sleep=sleep):
            starts.append(now[0])

    gaps = [later - earlier for earlier, later in zip(starts, starts[1:], strict=False)]
    assert all(gap >= (1 + throttle.CEILING_MARGIN) / 4 - 1e-9 for gap in gaps), gaps
    assert CallSlot.objects.get(pk="makeshop:*").calls == 6


def test_no_ceiling_when_it_is_turned_off(settings):
    settings.MAKESHOP_MAX_CALLS_PER_SECOND = 0
    now = [100.0]

    for n in range(3):
        with makeshop_throttle.makeshop_call_slot(f"shop-{n}", clock=lambda: now[0], sleep=None):
            pass

    assert not CallSlot.objects.filter(pk="makeshop:*").exists()


def test_a_ceiling_wait_that_times_out_frees_the_shop_slot_without_spacing_it(settings):
    settings.MAKESHOP_MAX_CALLS_PER_SECOND = 0.01  # one call per 100 s
    now = [100.0]

    def sleep(seconds):
        now[0] += seconds

    with makeshop_throttle.makeshop_call_slot("shop-x", clock=lambda: now[0], sleep=sleep):
        pass
    now[0] += 2
    with pytest.raises(throttle.SlotWaitTimeout):
        with makeshop_throttle.makeshop_call_slot(
            "shop-y", clock=lambda: now[0], sleep=sleep, wait_timeout=5
        ):
            pass

    slot = CallSlot.objects.get(pk="makeshop:shop-y")
    assert (slot.holder, slot.busy_until, slot.next_call_at) == ("", 0.0, 0.0)
