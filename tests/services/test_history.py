"""The history of a shop: every door (merchant screens, admin, command, job) records who,
when and what; a secret is only ever "changed"; staff read it newest first."""

import json
from datetime import timedelta
from io import StringIO

import pytest
from django.contrib.admin.models import LogEntry
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from malls.makeshop import services as makeshop_services
from malls.makeshop import tasks
from malls.makeshop.models import MakeShopConnection
from malls.makeshop.sandbox import DEMO_SHOPS
from malls.models import ChangeRecord, MallShop, Membership
from tests.admin_factories import make_demo_connection, make_staff, sandbox_for
from tests.factories import get_mall, make_connection, make_shop, make_store, make_user
from tests.screens_factories import ScriptedMakeShop

Source = ChangeRecord.Source
Status = MakeShopConnection.Status

NEW_CODE = "9a8b7c6d5e4f9a8b7c6d5e4f9a8b7c6d"
NEW_PASSWORD = "brand-new-HISTORY-pw"


def stored_history() -> str:
    """Every history row as stored, to search for leaked values."""
    return json.dumps(
        list(ChangeRecord.objects.values("action", "source", "changes")), ensure_ascii=False
    )


@pytest.mark.django_db(transaction=True)
class TestEveryDoorRecords:
    def test_a_merchant_save_records_the_merchant_and_secrets_as_changed(self):
        merchant = make_user()
        connection = make_connection(makeshop_shop_id="door-merchant")

        result = makeshop_services.apply_makeshop_settings(
            connection=connection, shop_id="door-merchant",
            new_secrets={"order_auth_code": NEW_CODE, "password": NEW_PASSWORD},
            expected_version=connection.version, client=ScriptedMakeShop(), actor=merchant,
        )

        assert result.saved
        record = ChangeRecord.objects.get(action="makeshop.settings_saved")
        assert (record.actor, record.source) == (merchant, Source.MERCHANT)
        assert record.changes["order_auth_code"] == "changed"
        assert record.changes["password"] == "changed"
        assert NEW_CODE not in stored_history() and NEW_PASSWORD not in stored_history()

    def test_a_command_and_a_job_record_the_outcomes_they_change(self, settings):
        connection = make_demo_connection(only_order_code=True, status=Status.PENDING)
        with sandbox_for(settings):
            call_command("verify_makeshop", "--shop", "demo-shop", stdout=StringIO())
            connection.refresh_from_db()
            connection.order_auth_code = "ffffffffffffffffffffffffffffffff"
            connection.save()
            tasks.verify_shop_task.enqueue(str(connection.pk))

        command, job = ChangeRecord.objects.order_by("at", "pk")
        assert (command.source, command.changes["status"]) == (Source.COMMAND,
                                                               ["pending", "verified"])
        assert (job.source, job.changes["status"]) == (Source.TASK, ["verified", "rejected"])
        assert command.actor is None and job.actor is None

    def test_an_unchanged_outcome_adds_no_entry(self, settings):
        make_demo_connection(only_order_code=True, status=Status.VERIFIED)

        with sandbox_for(settings):
            tasks.verify_shop_task.enqueue(
                str(MakeShopConnection.objects.get().pk)
            )

        assert not ChangeRecord.objects.exists()


@pytest.mark.django_db(transaction=True)
class TestOneEntryPerChange:
    """Each change through each door (merchant screens, admin, command, job) writes
    exactly one history entry, written by the service that made the change."""

    def test_a_merchant_adding_a_shop(self, client):
        merchant = make_user()
        store = make_store(members=[merchant])
        get_mall()
        client.force_login(merchant)

        client.post(reverse("malls:makeshop_add"), {"name": "本店"})

        record = ChangeRecord.objects.get()
        shop = MallShop.objects.get(store=store)
        assert (record.action, record.source, record.actor) == (
            "shop.created", Source.MERCHANT, merchant
        )
        assert (record.shop, record.store) == (shop, store)
        assert record.changes["name"] == [None, "本店"]

    def test_a_merchant_saving_settings(self, client, makeshop_sandbox):
        merchant = make_user()
        shop = make_shop(store=make_store(members=[merchant]))
        client.force_login(merchant)
        demo = DEMO_SHOPS["demo-shop"]

        client.post(reverse("malls:makeshop_settings", args=[shop.pk]), {
            "shop_id": "demo-shop", "password": demo.password,
            "order_auth_code": demo.order_token, "product_auth_code": "", "version": "",
        })

        record = ChangeRecord.objects.get()
        assert (record.action, record.source, record.actor) == (
            "makeshop.created", Source.MERCHANT, merchant
        )
        assert record.changes["status"] == ["unset", "verified"]

    def test_staff_adding_editing_and_deleting_a_shop(self, client):
        superuser = make_staff(permissions=(), is_superuser=True)
        client.force_login(superuser)
        store = make_store()
        mall = get_mall()

        client.post(reverse("admin:malls_mallshop_add"), {
            "store": store.pk, "mall": mall.pk, "name": "新店",
        })
        shop = MallShop.objects.get()
        client.post(reverse("admin:malls_mallshop_change", args=[shop.pk]), {
            "store": store.pk, "mall": mall.pk, "name": "改名",
        })
        client.post(reverse("admin:malls_mallshop_delete", args=[shop.pk]), {"post": "yes"})

        assert not MallShop.objects.exists()
        records = list(ChangeRecord.objects.order_by("pk"))
        assert [r.action for r in records] == ["shop.created", "shop.edited", "shop.deleted"]
        assert {(r.source, r.actor, r.store) for r in records} == {
            (Source.ADMIN, superuser, store)
        }
        assert records[1].changes == {"name": ["新店", "改名"]}
        # The history outlives the shop, and Django's own LogEntry is not a second trail.
        assert not LogEntry.objects.exists()

    def test_staff_saving_and_deleting_settings(self, client):
        superuser = make_staff(permissions=(), is_superuser=True)
        client.force_login(superuser)
        connection = make_connection(makeshop_shop_id="staff-door")

        client.post(
            reverse("admin:malls_makeshopconnection_change", args=[connection.pk]),
            {"makeshop_shop_id": "staff-door-2", "expected_version": connection.version},
        )
        client.post(
            reverse("admin:malls_makeshopconnection_delete", args=[connection.pk]),
            {"post": "yes"},
        )

        # The job queued by the save ran too (MakeShop is not there: "not yet verified").
        by_staff = ChangeRecord.objects.filter(source=Source.ADMIN).order_by("pk")
        saved, deleted = by_staff
        assert (saved.action, deleted.action) == ("makeshop.settings_saved", "makeshop.deleted")
        assert saved.changes["makeshop_shop_id"] == ["staff-door", "staff-door-2"]
        assert [r.action for r in ChangeRecord.objects.filter(source=Source.TASK)] == [
            "makeshop.verified"
        ]
        assert not LogEntry.objects.exists()

    def test_staff_adding_changing_and_removing_members(self, client):
        superuser = make_staff(permissions=(), is_superuser=True)
        client.force_login(superuser)
        store = make_store()
        alice, bob = make_user(username="alice"), make_user(username="bob")
        url = reverse("admin:malls_store_change", args=[store.pk])
        form = {
            "name": store.name,
            "memberships-TOTAL_FORMS": "1", "memberships-INITIAL_FORMS": "0",
            "memberships-0-user": alice.pk, "memberships-0-store": store.pk,
        }

        client.post(url, form)
        membership = Membership.objects.get(store=store)
        client.post(url, {
            **form, "memberships-INITIAL_FORMS": "1",
            "memberships-0-id": membership.pk, "memberships-0-user": bob.pk,
        })
        membership = Membership.objects.get(store=store)
        client.post(url, {
            **form, "memberships-INITIAL_FORMS": "1", "memberships-0-id": membership.pk,
            "memberships-0-user": bob.pk, "memberships-0-DELETE": "on",
        })

        assert not Membership.objects.filter(store=store).exists()
        records = ChangeRecord.objects.filter(store=store).order_by("pk")
        assert [(r.action, r.changes["user"]) for r in records] == [
            ("membership.added", [None, "alice"]),
            ("membership.removed", ["alice", None]),
            ("membership.added", [None, "bob"]),
            ("membership.removed", ["bob", None]),
        ]
        assert {(r.shop, r.actor, r.source) for r in records} == {(None, superuser, Source.ADMIN)}
        # The full history list shows store-wide entries too.
        assert client.get(reverse("admin:malls_changerecord_changelist")).status_code == 200

    def test_the_housekeeping_command_forgetting_a_retired_notification_url(self):
        connection = make_connection()
        rotated = makeshop_services.rotate_notification_token(connection=connection)
        MakeShopConnection.objects.filter(pk=connection.pk).update(
            previous_token_expires_at=timezone.now() - timedelta(seconds=1)
        )
        ChangeRecord.objects.all().delete()

        call_command("housekeeping", stdout=StringIO())
        call_command("housekeeping", stdout=StringIO())  # nothing left to forget

        record = ChangeRecord.objects.get()
        assert (record.action, record.source, record.shop) == (
            "notification_url.old_forgotten", Source.COMMAND, rotated.shop
        )
        assert MakeShopConnection.objects.get(pk=connection.pk).previous_notification_token == ""

    def test_a_job_verifying_settings_staff_saved(self, settings):
        connection = make_demo_connection(only_order_code=True, status=Status.VERIFIED)
        with sandbox_for(settings):
            makeshop_services.apply_makeshop_settings(
                connection=connection, shop_id="demo-shop",
                new_secrets={"order_auth_code": "ffffffffffffffffffffffffffffffff"},
                expected_version=connection.version, verify=makeshop_services.Verify.LATER,
                source=Source.ADMIN,
            )

        saved, verified = ChangeRecord.objects.order_by("pk")
        assert (saved.source, saved.changes["status"]) == (Source.ADMIN, ["verified", "pending"])
        assert (verified.source, verified.action) == (Source.TASK, "makeshop.verified")
        assert verified.changes["status"] == ["pending", "rejected"]

    def test_seeding_the_demo_twice_records_its_shops_and_members_once(self):
        from malls.makeshop.demo import APP_SHOPS

        get_mall()
        for code in ("rakuten", "yahoo", "amazon"):
            get_mall(code)

        call_command("seed_demo", "--force", stdout=StringIO())
        first = ChangeRecord.objects.count()
        call_command("seed_demo", "--force", stdout=StringIO())

        assert ChangeRecord.objects.count() == first
        # Each shop and member once, and each app-connected shop's link to its installation.
        linked = ChangeRecord.objects.filter(action="makeshop_app.linked").count()
        assert linked == len(APP_SHOPS)
        assert first == MallShop.objects.count() + Membership.objects.count() + linked
        assert set(ChangeRecord.objects.values_list("source", flat=True)) == {Source.COMMAND}
