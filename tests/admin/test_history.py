"""The history in the admin (malls/admin/history.py): staff's changes are recorded with old
and new values, each shop's page lists its latest entries newest first with who and
through what, the full list filters by shop, nothing can be edited, and a secret is only
ever "changed"."""

import re
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from malls import services
from malls.admin.history import describe_changes
from malls.makeshop.models import MakeShopConnection
from malls.models import ChangeRecord, MallShop

from ..admin_factories import make_staff
from ..factories import make_connection, make_shop

Source = ChangeRecord.Source


@pytest.mark.django_db
class TestAdminDoor:
    def test_staff_edits_of_a_shop_are_recorded_with_old_and_new_values(self, client):
        staff = make_staff()
        client.force_login(staff)
        shop = make_shop(name="旧い名前")

        client.post(reverse("admin:malls_mallshop_change", args=[shop.pk]), {
            "store": shop.store_id, "mall": shop.mall_id, "name": "新しい名前",
        })

        record = ChangeRecord.objects.get()
        assert (record.actor, record.source, record.action) == (staff, Source.ADMIN, "shop.edited")
        assert record.changes == {"name": ["旧い名前", "新しい名前"]}

    def test_staff_adding_a_shop_or_deleting_its_settings_is_recorded(self, client):
        superuser = make_staff(permissions=(), is_superuser=True)
        client.force_login(superuser)
        connection = make_connection(makeshop_shop_id="to-delete")
        store = connection.shop.store

        client.post(reverse("admin:malls_mallshop_add"), {
            "store": store.pk, "mall": connection.shop.mall_id, "name": "新店",
        })
        client.post(
            reverse("admin:malls_makeshopconnection_delete", args=[connection.pk]),
            {"post": "yes"},
        )

        added = ChangeRecord.objects.get(action="shop.created")
        assert added.changes["name"] == [None, "新店"] and added.actor == superuser
        deleted = ChangeRecord.objects.get(action="makeshop.deleted")
        assert deleted.shop_id == connection.shop_id
        assert deleted.changes == {
            "makeshop_shop_id": ["to-delete", None], "status": ["unset", None]
        }
        assert not MakeShopConnection.objects.exists()

    def test_the_change_page_lists_history_newest_first_with_who_and_through_what(self, client):
        staff = make_staff(username="reviewer-kato")
        client.force_login(staff)
        connection = make_connection()
        services.transition_application(shop=connection.shop, action="mark_applied", actor=staff)
        services.transition_application(shop=connection.shop, action="mark_approved", actor=staff)
        ChangeRecord.objects.filter(action="application.mark_applied").update(
            at=timezone.now() - timedelta(hours=1)
        )

        html = client.get(
            reverse("admin:malls_makeshopconnection_change", args=[connection.pk])
        ).text

        approved = str(MallShop.ApplicationStatus.APPROVED.label)
        applied = str(MallShop.ApplicationStatus.APPLIED.label)
        table = html[html.index('<table class="goq-history">'):]
        assert table.index(f"→ {approved}") < table.index(f"→ {applied}")
        assert "reviewer-kato" in table and str(Source.ADMIN.label) in table

    def test_history_is_read_only_in_the_admin(self, client):
        superuser = make_staff(permissions=(), is_superuser=True)
        client.force_login(superuser)
        record = services.record_change(
            shop=make_shop(), source=Source.ADMIN, action="shop.edited",
            changes={"name": ["a", "b"]},
        )

        assert client.get(reverse("admin:malls_changerecord_add")).status_code == 403
        assert client.post(
            reverse("admin:malls_changerecord_delete", args=[record.pk]), {"post": "yes"}
        ).status_code == 403
        assert ChangeRecord.objects.filter(pk=record.pk).exists()

    def test_the_full_history_list_filters_by_shop(self, client):
        client.force_login(make_staff())
        mine, other = make_shop(), make_shop()
        for shop in (mine, other):
            services.record_change(shop=shop, source=Source.ADMIN, action="shop.edited")

        response = client.get(
            reverse("admin:malls_changerecord_changelist"), {"shop__id__exact": mine.pk}
        )

        assert [r.shop_id for r in response.context["cl"].result_list] == [mine.pk]


def test_a_secret_is_described_as_changed_whatever_was_stored():
    lines = describe_changes({"password": ["old-value", "new-value"], "name": ["a", "b"]})

    assert not any(re.search("old-value|new-value", line) for line in lines)
    assert lines[1].endswith("a → b")


def test_app_installation_entries_speak_staffs_words_and_never_show_a_token():
    lines = describe_changes({
        "token": "deleted",
        "state": ["verified", "uninstalled"],
        "how": "assigned",
        "makeshop_shop_id": "app-shop",
    })

    assert lines == [
        "アプリのトークン：削除",
        "インストール状態: インストール済み・接続確認済み → アンインストール済み",
        "方法: スタッフが割り当て",
        "MakeShopショップID: app-shop",
    ]
    assert describe_changes({"token": "changed"}) == ["アプリのトークン：変更あり"]
