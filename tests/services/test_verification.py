"""Saving and re-verifying MakeShop settings against the sandbox over real HTTP."""

import json
from datetime import UTC, datetime

import pytest
import time_machine
from django.utils import timezone

from malls.makeshop import Check, Outcome
from malls.makeshop import services as makeshop_services
from malls.makeshop.api import LEGACY_CHECKS
from malls.makeshop.models import MakeShopConnection
from malls.makeshop.sandbox import DEMO_SHOPS
from malls.models import ChangeRecord
from tests.factories import make_connection, make_shop
from tests.processes import start_python

pytestmark = pytest.mark.django_db(transaction=True)

DEMO = DEMO_SHOPS["demo-shop"]
GOOD = {
    "password": DEMO.password,
    "order_auth_code": DEMO.order_token,
    "product_auth_code": DEMO.product_code,
}


def new_connection():
    return MakeShopConnection(shop=make_shop())


def save(connection, shop_id="demo-shop", version=None, **secrets):
    return makeshop_services.apply_makeshop_settings(
        connection=connection,
        shop_id=shop_id,
        new_secrets=secrets,
        expected_version=version if version is not None else connection.version,
    )


def verified_connection(makeshop_sandbox):
    result = save(new_connection(), **GOOD)
    assert result.saved
    return MakeShopConnection.objects.get(pk=result.connection.pk)


def test_good_settings_are_verified_by_makeshop_and_saved(makeshop_sandbox):
    result = save(new_connection(), **GOOD)
    assert result.saved and result.verification.ok
    assert set(result.verification.results) == set(LEGACY_CHECKS)
    saved = MakeShopConnection.objects.get(pk=result.connection.pk)
    assert saved.status == MakeShopConnection.Status.VERIFIED
    assert saved.verified_at and saved.order_auth_code.reveal() == DEMO.order_token
    # The order check asked for an explicit period: MakeShop's "last fetched" marker
    # (which the order import relies on) never moved.
    assert [fetch.mode for fetch in makeshop_sandbox.order_fetches] == ["period"]
    assert makeshop_sandbox.violations == 0


def test_a_rejected_code_saves_nothing_and_keeps_the_working_settings(makeshop_sandbox):
    connection = verified_connection(makeshop_sandbox)
    before = MakeShopConnection.objects.values().get(pk=connection.pk)
    result = save(connection, order_auth_code="ffffffffffffffffffffffffffffffff")
    assert not result.saved
    assert result.verification.outcome == Outcome.REJECTED
    assert result.verification.first_failure().check == Check.ORDER_AUTH_CODE
    assert MakeShopConnection.objects.values().get(pk=connection.pk) == before


def endpoints(sandbox, since=0):
    return [call.endpoint for call in sandbox.calls[since:]]


def test_a_refused_order_code_sends_neither_the_password_nor_the_product_code(
    makeshop_sandbox,
):
    """N2: the order code proves control of the shop ID; without it, MakeShop hears
    nothing of the admin password, so GoQ is no oracle for it."""
    result = save(
        new_connection(), password=DEMO.password, order_auth_code="f" * 32,
        product_auth_code=DEMO.product_code,
    )

    assert {check: r.outcome for check, r in result.verification.results.items()} == {
        Check.ORDER_AUTH_CODE: Outcome.REJECTED,
    }
    assert result.verification.not_run == (Check.PRODUCT_AUTH_CODE, Check.PASSWORD)
    assert endpoints(makeshop_sandbox) == ["orderinfo"]
    assert not MakeShopConnection.objects.exists()


def test_once_the_order_code_is_accepted_every_refusal_is_reported(makeshop_sandbox):
    result = save(
        new_connection(), password="wrong-pass", order_auth_code=DEMO.order_token,
        product_auth_code="wrong",
    )
    assert {check: r.outcome for check, r in result.verification.results.items()} == {
        Check.ORDER_AUTH_CODE: Outcome.ACCEPTED,
        Check.PRODUCT_AUTH_CODE: Outcome.REJECTED,
        Check.PASSWORD: Outcome.REJECTED,
    }
    assert not MakeShopConnection.objects.exists()


def test_a_password_change_alone_is_checked_while_the_order_codes_acceptance_is_fresh(
    makeshop_sandbox,
):
    """Within a day of MakeShop accepting the unchanged order code for this shop ID,
    the proof stands: only the new password is sent. After that day, the order code
    is asked again first."""
    start = datetime(2026, 11, 30, 3, 0, tzinfo=UTC)
    with time_machine.travel(start, tick=True):
        connection = verified_connection(makeshop_sandbox)
    with time_machine.travel(start + makeshop_services.VERIFICATION_FRESH_FOR / 2, tick=True):
        calls = len(makeshop_sandbox.calls)
        result = save(MakeShopConnection.objects.get(pk=connection.pk), password="changed-pw")
        assert set(result.verification.results) == {Check.PASSWORD}
        assert endpoints(makeshop_sandbox, calls) == ["webftp"]
    with time_machine.travel(start + makeshop_services.VERIFICATION_FRESH_FOR * 2, tick=True):
        calls = len(makeshop_sandbox.calls)
        result = save(MakeShopConnection.objects.get(pk=connection.pk), password="changed-pw")
        assert endpoints(makeshop_sandbox, calls)[0] == "orderinfo"


def test_a_new_order_code_is_no_proof_until_makeshop_accepts_it(makeshop_sandbox):
    connection = verified_connection(makeshop_sandbox)
    calls = len(makeshop_sandbox.calls)

    result = save(connection, order_auth_code="f" * 32, password="guess")

    assert set(result.verification.results) == {Check.ORDER_AUTH_CODE}
    assert endpoints(makeshop_sandbox, calls) == ["orderinfo"]


@time_machine.travel(datetime(2026, 11, 30, 3, 0, 1, tzinfo=UTC), tick=True)
def test_refusals_of_one_shop_id_are_limited_across_all_stores(settings, makeshop_sandbox, caplog):
    """N2: past MAKESHOP_FAILED_CHECKS_PER_SHOP_PER_HOUR refusals of a shop ID, from
    whichever stores, GoQ asks MakeShop nothing more about it for the rest of the
    hour, staff get a warning naming the shop ID and the store, and the owner's saved
    settings are left as they were (not turned red by a stranger's guesses)."""
    settings.MAKESHOP_FAILED_CHECKS_PER_SHOP_PER_HOUR = 2
    owner = verified_connection(makeshop_sandbox)
    for _ in range(2):  # two stores guessing
        save(new_connection(), order_auth_code="f" * 32, password="guess")
    calls = len(makeshop_sandbox.calls)
    third = new_connection()

    with caplog.at_level("WARNING", logger="malls.makeshop"):
        with pytest.raises(makeshop_services.ChecksPaused):
            save(third, order_auth_code=DEMO.order_token, password=DEMO.password)
        assert makeshop_services.verify_connection(connection=owner) is None

    assert len(makeshop_sandbox.calls) == calls  # nothing was sent
    assert makeshop_services.checks_paused("demo-shop")
    assert not makeshop_services.checks_paused("demo-eucjp")  # other shop IDs unaffected
    warnings = [r.getMessage() for r in caplog.records if r.levelname == "WARNING"]
    assert any("'demo-shop' paused" in text for text in warnings)
    assert any(f"store {third.shop.store_id}" in text for text in warnings)
    for text in warnings:
        assert DEMO.password not in text and DEMO.order_token not in text
    owner.refresh_from_db()
    assert owner.status == MakeShopConnection.Status.VERIFIED

    with time_machine.travel(datetime(2026, 11, 30, 4, 0, 1, tzinfo=UTC), tick=True):
        assert not makeshop_services.checks_paused("demo-shop")
        save(new_connection(), order_auth_code="f" * 32)
        assert endpoints(makeshop_sandbox, calls) == ["orderinfo"]  # asked again


def test_api_not_approved_is_told_apart(makeshop_sandbox):
    pending = DEMO_SHOPS["demo-pending"]
    result = save(
        new_connection(), shop_id="demo-pending", password=pending.password,
        order_auth_code=pending.order_token,
    )
    failure = result.verification.first_failure()
    assert not result.saved and failure.reason == "not_enabled"


def test_makeshop_down_asks_before_saving_unverified(makeshop_sandbox):
    maint = DEMO_SHOPS["demo-maint"]
    secrets = {"password": maint.password, "order_auth_code": maint.order_token}
    result = save(new_connection(), shop_id="demo-maint", **secrets)
    assert not result.saved and result.needs_decision
    assert result.verification.outcome == Outcome.UNREACHABLE
    assert result.verification.not_run == (Check.PASSWORD,)  # no use waiting twice
    assert not MakeShopConnection.objects.exists()

    calls = len(makeshop_sandbox.calls)
    kept = makeshop_services.apply_makeshop_settings(
        connection=new_connection(), shop_id="demo-maint", new_secrets=secrets,
        expected_version=None, verify=makeshop_services.Verify.LATER, no_verdict=True,
    )
    assert kept.saved and kept.verification is None
    saved = MakeShopConnection.objects.get(pk=kept.connection.pk)
    assert saved.status == MakeShopConnection.Status.UNVERIFIED and saved.verified_at is None
    # The background job (run at once in tests) tried again, still found MakeShop
    # down, and said why.
    assert len(makeshop_sandbox.calls) == calls + 1
    assert saved.failure_reason == "maintenance"


def test_unreachable_makeshop_never_marks_anything_verified(settings, makeshop_sandbox):
    connection = verified_connection(makeshop_sandbox)
    settings.MAKESHOP_API_BASE_URL = "http://127.0.0.1:9"  # nothing listens there
    verification = makeshop_services.verify_connection(connection=connection)
    assert verification.outcome == Outcome.UNREACHABLE
    saved = MakeShopConnection.objects.get(pk=connection.pk)
    assert saved.status == MakeShopConnection.Status.UNVERIFIED
    assert saved.order_auth_code_verified_at is None


def test_an_unchanged_recently_verified_save_costs_no_call(makeshop_sandbox):
    connection = verified_connection(makeshop_sandbox)
    calls = len(makeshop_sandbox.calls)
    result = save(connection)  # every secret left empty: keep the saved ones
    assert result.saved and result.verification is None
    assert len(makeshop_sandbox.calls) == calls


def test_only_the_changed_credential_is_checked(makeshop_sandbox):
    connection = verified_connection(makeshop_sandbox)
    calls = len(makeshop_sandbox.calls)
    result = save(connection, product_auth_code=DEMO.product_code + "x")
    assert list(result.verification.results) == [Check.PRODUCT_AUTH_CODE]
    assert len(makeshop_sandbox.calls) == calls + 1


def test_a_stale_form_cannot_overwrite_a_newer_save(makeshop_sandbox):
    connection = verified_connection(makeshop_sandbox)
    opened_at = connection.version
    assert save(connection, version=opened_at, password=DEMO.password).saved
    with pytest.raises(makeshop_services.ConcurrentEditError):
        save(connection, version=opened_at, password="something-else")
    saved = MakeShopConnection.objects.get(pk=connection.pk)
    assert saved.password.reveal() == DEMO.password and saved.version == opened_at + 1


def test_a_shop_id_belongs_to_one_shop_only(makeshop_sandbox):
    verified_connection(makeshop_sandbox)
    with pytest.raises(makeshop_services.ShopIdTakenError):
        save(new_connection(), **GOOD)


def test_reverification_records_a_broken_connection_and_its_history(makeshop_sandbox):
    connection = make_connection(
        makeshop_shop_id="demo-shop", password=DEMO.password,
        order_auth_code="ffffffffffffffffffffffffffffffff", product_auth_code=DEMO.product_code,
        status=MakeShopConnection.Status.VERIFIED, verified_at=timezone.now(),
    )
    verification = makeshop_services.verify_connection(connection=connection)
    assert verification.outcome == Outcome.REJECTED
    saved = MakeShopConnection.objects.get(pk=connection.pk)
    assert saved.status == MakeShopConnection.Status.REJECTED
    assert saved.failed_check == "order_auth_code" and saved.failing_since
    assert saved.verified_at  # the last success is kept: it shows the shop used to work
    record = ChangeRecord.objects.get(shop=connection.shop, action="makeshop.verified")
    assert record.changes["status"] == ["verified", "rejected"]


def test_a_verification_outcome_is_dropped_if_the_settings_changed_meanwhile(makeshop_sandbox):
    connection = verified_connection(makeshop_sandbox)
    MakeShopConnection.objects.filter(pk=connection.pk).update(version=connection.version + 1)
    connection.order_auth_code = "ffffffffffffffffffffffffffffffff"  # what the stale copy holds
    makeshop_services.verify_connection(connection=connection)
    assert (
        MakeShopConnection.objects.get(pk=connection.pk).status
        == MakeShopConnection.Status.VERIFIED
    )


def test_history_of_a_save_names_secrets_but_never_their_values(makeshop_sandbox):
    connection = verified_connection(makeshop_sandbox)
    save(connection, product_auth_code=DEMO.product_code)
    records = ChangeRecord.objects.filter(shop=connection.shop)
    dump = json.dumps([r.changes for r in records], ensure_ascii=False)
    assert '"order_auth_code": "changed"' in dump
    for secret in GOOD.values():
        assert secret not in dump


def test_calls_inside_a_transaction_are_refused():
    from django.db import transaction

    with transaction.atomic(), pytest.raises(RuntimeError):
        makeshop_services.check_makeshop_credentials(
            shop_id="demo-shop", credentials={Check.ORDER_AUTH_CODE: DEMO.order_token}
        )


VERIFY_IN_CHILD = """
import json, os
from malls.makeshop import Check
from malls.makeshop import services as makeshop_services
result = makeshop_services.check_makeshop_credentials(
    shop_id=os.environ["SHOP"],
    credentials={Check.ORDER_AUTH_CODE: os.environ["CODE"], Check.PASSWORD: os.environ["PW"]},
)
print(json.dumps({str(k): str(v.outcome) for k, v in result.results.items()}))
"""


def test_processes_verifying_one_shop_are_spaced_and_never_overlap(makeshop_sandbox):
    """Three processes verify demo-shop at once, one verifies demo-eucjp alongside."""
    env = {"MAKESHOP_API_BASE_URL": makeshop_sandbox.url}
    eucjp = DEMO_SHOPS["demo-eucjp"]
    procs = [
        start_python(VERIFY_IN_CHILD, SHOP="demo-shop", CODE=DEMO.order_token,
                     PW=DEMO.password, **env)
        for _ in range(3)
    ]
    procs.append(start_python(VERIFY_IN_CHILD, SHOP="demo-eucjp", CODE=eucjp.order_token,
                              PW=eucjp.password, **env))
    outputs = []
    for proc in procs:
        out, err = proc.communicate(timeout=90)
        assert proc.returncode == 0, err
        outputs.append(json.loads(out))
    assert all(set(o.values()) == {"accepted"} for o in outputs)
    assert makeshop_sandbox.violations == 0
    calls = sorted(
        (c for c in makeshop_sandbox.calls if c.shop_id == "demo-shop"),
        key=lambda c: c.started_at,
    )
    assert len(calls) == 6
    for previous, following in zip(calls, calls[1:], strict=False):
        assert following.started_at - previous.finished_at >= 1.0
    other = [c for c in makeshop_sandbox.calls if c.shop_id == "demo-eucjp"]
    # The other shop's two checks ran while demo-shop's six were still queued.
    assert max(c.finished_at for c in other) < calls[-1].started_at


@time_machine.travel(datetime(2026, 11, 30, 3, 0, 1, tzinfo=UTC), tick=True)
def test_the_stores_verification_budget_is_charged_only_when_makeshop_is_asked(
    settings, makeshop_sandbox
):
    # The budget counts per minute: the clock starts just after a minute begins, so the
    # test's few seconds never straddle two windows.
    connection = verified_connection(makeshop_sandbox)  # one check run: the budget is spent
    settings.VERIFICATIONS_PER_STORE_PER_MINUTE = 1
    calls = len(makeshop_sandbox.calls)

    unchanged = save(connection)  # nothing MakeShop needs to check: costs nothing
    with pytest.raises(makeshop_services.VerificationBudgetExceeded):
        save(MakeShopConnection.objects.get(pk=connection.pk), password="another-password")

    assert unchanged.saved and unchanged.verification is None
    assert len(makeshop_sandbox.calls) == calls
    saved = MakeShopConnection.objects.get(pk=connection.pk)
    assert saved.password.reveal() == DEMO.password


def test_a_save_that_changes_nothing_is_still_one_history_entry(makeshop_sandbox):
    """It bumps the version (a form opened before it is stale), so it is recorded, once."""
    connection = verified_connection(makeshop_sandbox)
    ChangeRecord.objects.all().delete()

    save(connection)

    record = ChangeRecord.objects.get()
    assert (record.action, record.changes) == ("makeshop.settings_saved", {})
