"""Fail closed on unreadable secrets: a secret nobody can decrypt fails its check with its
own reason, is never skipped, and no door ever marks such a connection verified."""

import io
import re

import pytest
from django.core.management import CommandError, call_command
from django.db import connection as db
from django.urls import reverse

from malls.makeshop import services as makeshop_services
from malls.makeshop import tasks
from malls.makeshop.models import MakeShopConnection
from malls.models import ChangeRecord
from malls.verdicts import UNREADABLE
from tests.admin_factories import make_demo_connection, make_staff, sandbox_for
from tests.factories import make_store, make_user

Status = MakeShopConnection.Status
pytestmark = pytest.mark.django_db(transaction=True)


def swap_secrets(first, second):
    """Swap two rows' stored ciphertexts with raw SQL (each is bound to its own row)."""
    table = db.ops.quote_name(MakeShopConnection._meta.db_table)
    columns = [db.ops.quote_name(name) for name in MakeShopConnection.SECRET_FIELDS]
    pk = db.ops.quote_name("id")
    rows = {
        row.pk: MakeShopConnection.objects.values_list(
            *MakeShopConnection.SECRET_FIELDS
        ).get(pk=row.pk)
        for row in (first, second)
    }
    sets = ", ".join(f"{column} = %s" for column in columns)
    with db.cursor() as cursor:
        for mine, theirs in ((first, second), (second, first)):
            cursor.execute(
                f"UPDATE {table} SET {sets} WHERE {pk} = %s",  # noqa: S608 (names from the model)
                [*(None if t is None else str(t) for t in rows[theirs.pk]),
                 MakeShopConnection._meta.pk.get_db_prep_value(mine.pk, db)],
            )


def swapped_pair(**extra):
    first = make_demo_connection("demo-shop", status=Status.VERIFIED, **extra)
    second = make_demo_connection("demo-eucjp", status=Status.VERIFIED, **extra)
    swap_secrets(first, second)
    return first, second


def test_the_command_never_reports_swapped_secrets_as_accepted(settings):
    first, second = swapped_pair()
    out = io.StringIO()

    with sandbox_for(settings) as sandbox, pytest.raises(CommandError) as exit_:
        call_command("verify_makeshop", "--all", stdout=out)

    assert exit_.value.returncode == 1  # a rejected shop: cron notices
    assert "accepted" not in out.getvalue()
    assert "demo-shop: rejected (order_auth_code unreadable)" in out.getvalue()
    assert not sandbox.calls  # nothing worth asking MakeShop
    for row in MakeShopConnection.objects.all():
        assert row.status == Status.REJECTED
        assert (row.failed_check, row.failure_reason) == ("order_auth_code", UNREADABLE)
        assert row.has_unreadable_secret
    records = ChangeRecord.objects.filter(action="makeshop.verified")
    assert {tuple(r.changes["status"]) for r in records} == {("verified", "rejected")}


def test_the_job_never_marks_an_unreadable_secret_verified_even_when_the_others_work(settings):
    first, second = swapped_pair()
    # Only the password is swapped back: the codes stay unreadable, the password works.
    with db.cursor() as cursor:
        table = db.ops.quote_name(MakeShopConnection._meta.db_table)
        cursor.execute(f"UPDATE {table} SET password = NULL")  # noqa: S608

    with sandbox_for(settings):
        result = tasks.verify_shop_task.enqueue(str(first.pk))
        batch = tasks.verify_batch_task.enqueue([str(first.pk), str(second.pk)])

    assert result.return_value["outcome"] == "rejected"
    assert result.return_value["reason"] == UNREADABLE
    assert batch.return_value["outcomes"] == {"rejected": 2}
    assert not MakeShopConnection.objects.filter(status=Status.VERIFIED).exists()


def test_a_save_without_re_entering_an_unreadable_secret_is_refused(settings):
    first, _ = swapped_pair()
    connection = MakeShopConnection.objects.get(pk=first.pk)

    with sandbox_for(settings) as sandbox:
        result = makeshop_services.apply_makeshop_settings(
            connection=connection, shop_id="demo-shop", new_secrets={},
            expected_version=connection.version,
        )

    assert not result.saved and not result.needs_decision
    assert {r.reason for r in result.verification.results.values()} == {UNREADABLE}
    assert not sandbox.calls


def test_a_staff_save_queues_a_check_that_fails_closed(settings):
    first, _ = swapped_pair()
    connection = MakeShopConnection.objects.get(pk=first.pk)

    with sandbox_for(settings):
        makeshop_services.apply_makeshop_settings(
            connection=connection, shop_id="demo-shop", new_secrets={},
            expected_version=connection.version, verify=makeshop_services.Verify.LATER,
            source=ChangeRecord.Source.ADMIN,
        )

    saved = MakeShopConnection.objects.get(pk=first.pk)
    assert (saved.status, saved.failure_reason) == (Status.REJECTED, UNREADABLE)


def test_lists_and_admin_show_must_be_entered_again(client, settings):
    merchant = make_user()
    first, _ = swapped_pair(store_name=None)
    first.shop.store = make_store(members=[merchant])
    first.shop.save()
    with sandbox_for(settings), pytest.raises(CommandError):
        call_command("verify_makeshop", "--all", stdout=io.StringIO())

    client.force_login(merchant)
    merchant_list = client.get(reverse("malls:mall_list")).text
    client.force_login(make_staff())
    admin_list = client.get(reverse("admin:malls_makeshopconnection_changelist")).text

    assert "再入力が必要" in merchant_list and "接続確認済み" not in merchant_list
    assert "保存済みの値を読み取れません" in admin_list


def verification_cells(admin_html) -> list[str]:
    return re.findall(r'<td class="field-verification[^"]*">(.*?)</td>', admin_html, re.S)


def test_before_any_check_neither_list_says_verified_for_swapped_secrets(client):
    """The M3 residual: ciphertexts under a configured key but bound to another row fail
    authentication; both lists say so before any check has run."""
    merchant = make_user()
    first, second = swapped_pair(store_name=None)
    first.shop.store = make_store(members=[merchant])
    first.shop.save()

    client.force_login(merchant)
    merchant_list = client.get(reverse("malls:mall_list")).text
    client.force_login(make_staff())
    admin_list = client.get(reverse("admin:malls_makeshopconnection_changelist")).text

    assert "再入力が必要" in merchant_list and "接続確認済み" not in merchant_list
    cells = verification_cells(admin_list)
    assert len(cells) == 2
    for cell in cells:
        assert "再入力が必要" in cell and "接続確認済み" not in cell
    assert {row.status for row in MakeShopConnection.objects.all()} == {Status.VERIFIED}


def test_readable_secrets_are_still_listed_as_verified(client):
    connection = make_demo_connection("demo-shop", status=Status.VERIFIED)
    client.force_login(make_staff())

    (cell,) = verification_cells(
        client.get(reverse("admin:malls_makeshopconnection_changelist")).text
    )

    assert "接続確認済み" in cell
    assert not connection.has_unreadable_secret
