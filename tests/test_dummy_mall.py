"""A mall the generic core has never seen (``tests/dummymall``), added without touching
one generic file: two secrets per check, an expiry fact, a pending state.

Each test is a generic feature serving it: the merchant's list, history masking,
the call slots' key space, key rotation, housekeeping, the encrypted field.
"""

from datetime import date, timedelta

import pytest
from django.core.management import call_command

from malls import presenters, providers, services, throttle
from malls.models import CallSlot, ChangeRecord, Mall, MallShop, SecretState
from tests.dummymall.models import DummyConnection
from tests.dummymall.provider import DUMMY, RATE, verify
from tests.factories import make_store
from tests.management.test_credentials import run

pytestmark = pytest.mark.django_db


@pytest.fixture
def shop():
    mall = Mall.objects.create(code="dummymall", name="ダミーモール", name_en="Dummy mall")
    return MallShop.objects.create(store=make_store(), mall=mall, name="ダミー店")


def connect(shop, license_key="good-key", **extra):
    return DummyConnection.objects.create(
        shop=shop, shop_code="dm-1", service_secret="svc-secret-1", license_key=license_key,
        **extra,
    )


def test_the_provider_is_found_through_the_registry():
    assert providers.get("dummymall") is DUMMY
    assert isinstance(DUMMY, providers.MallProvider)


def test_one_check_sends_both_secrets_and_learns_the_expiry(shop):
    today = date(2026, 12, 5)
    verdict = verify(connect(shop), today=today)
    assert verdict.ok and verdict.facts == {"expires_on": today + timedelta(days=60)}
    assert verify(connect(make_other_shop(shop), "new-key"), today=today).reason == "key_refused"


def make_other_shop(shop):
    return MallShop.objects.create(store=shop.store, mall=shop.mall, name="二号店")


def test_the_merchants_list_shows_its_state_words_including_one_the_core_never_named(shop):
    connect(shop, status=DummyConnection.Status.PENDING_ACTIVATION)
    (row,) = presenters.shop_rows(shop.store)
    assert row.status.label == "Waiting for the key to become active"
    assert row.shop_id == "dm-1"
    assert row.settings_url == f"/settings/malls/dummy/{shop.pk}/"


def test_its_secrets_show_only_their_state_and_are_masked_in_history(shop):
    connection = connect(shop)
    assert DummyConnection.secret_fields() == ("service_secret", "license_key")
    assert connection.secret_state("license_key").state == SecretState.SET
    record = services.record_change(
        shop=shop, source=ChangeRecord.Source.COMMAND, action="dummy.saved",
        changes={"license_key": ["good-key", "new-key"], "shop_code": ["a", "b"]},
    )
    assert record.changes == {"license_key": "changed", "shop_code": ["a", "b"]}


def test_its_call_slots_never_share_a_key_with_another_malls_shop_of_the_same_id():
    now = [1_000.0]
    with throttle.call_slot("dummymall", "abc", rate=RATE, clock=lambda: now[0]):
        pass
    with throttle.call_slot("makeshop", "abc", rate=RATE, clock=lambda: now[0]):
        pass  # not kept waiting by the dummy mall's spacing
    assert set(CallSlot.objects.values_list("pk", flat=True)) >= {"dummymall:abc", "makeshop:abc"}
    slot = CallSlot.objects.get(pk="dummymall:abc")
    assert slot.next_call_at == pytest.approx(1_000.0 + RATE.spacing + throttle.SPACING_MARGIN)


def test_its_secrets_are_rotated_and_checked_with_everyone_elses(shop, settings):
    from malls import crypto

    connect(shop)
    new = crypto.generate_key_spec("new")
    settings.CREDENTIALS_KEYS = f"{new},{settings.CREDENTIALS_KEYS}"
    assert run("rotate_credentials_keys")[0] == 0
    settings.CREDENTIALS_KEYS = new
    code, out, _ = run("check_credentials")
    assert code == 0 and "key new (primary): 2 secrets" in out


def test_housekeeping_runs_its_periodic_jobs():
    DUMMY.jobs_run.clear()
    call_command("housekeeping", stdout=__import__("io").StringIO())
    assert DUMMY.jobs_run == ["re-read"]
