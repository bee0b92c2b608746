"""Reminders while a shop stays broken (then they stop), and the daily staff digest."""

from datetime import timedelta

import pytest
import time_machine
from django.db import connection as db
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from malls.alerts import digest, outbox, services
from malls.alerts.models import AlertMessage, AlertPreference, ShopAlert
from malls.alerts.services import note_connection_change
from malls.alerts.states import ConnectionState
from malls.makeshop.models import MakeShopConnection
from tests.factories import make_connection, make_store, make_user

from .helpers import digest_staff, member

pytestmark = pytest.mark.django_db(transaction=True)
Status = MakeShopConnection.Status
Kind = AlertMessage.Kind
WORKING = ConnectionState("verified")
TOKEN = ConnectionState("rejected", "token_rejected", "order_auth_code")
LOGIN = ConnectionState("rejected", "login_refused", "password")


def break_shop(state=TOKEN, *, now=None, store=None, name=None):
    connection = make_connection(status=Status.VERIFIED, verified_at=timezone.now())
    if store is not None or name is not None:
        shop = connection.shop
        shop.store = store or shop.store
        shop.name = name or shop.name
        shop.save()
    note_connection_change(connection, WORKING, state, now=now)
    return connection


class TestReminders:
    def test_a_shop_that_stays_broken_is_reminded_then_no_more(self, smtp, no_sender, settings):
        settings.ALERTS_REMIND_AFTER_DAYS = 3
        settings.ALERTS_MAX_REMINDERS = 2
        start = timezone.now()
        connection = break_shop(now=start)
        someone = member(connection.shop.store)
        day = timedelta(days=1)

        assert services.queue_reminders(now=start + 2 * day) == 0
        assert services.queue_reminders(now=start + 3 * day + timedelta(seconds=1)) == 1
        assert services.queue_reminders(now=start + 3 * day + timedelta(seconds=2)) == 0
        assert services.queue_reminders(now=start + 6 * day + timedelta(seconds=2)) == 1
        for days in (9, 12, 30, 365):
            assert services.queue_reminders(now=start + days * day) == 0

        outbox.send_due(now=start + 400 * day)
        subjects = [mail.subject for mail in smtp.to(someone.email)]
        assert subjects == [
            "[GoQSystem] 再通知: " + connection.shop.name + ": MakeShopとの接続が切れたままです"
        ] * 2
        alert = ShopAlert.objects.get()
        assert alert.closed_at is None and alert.reminders_sent == 2
        assert alert.next_reminder_at is None

    def test_a_fixed_shop_is_not_reminded(self, smtp, no_sender):
        start = timezone.now()
        connection = break_shop(now=start)
        note_connection_change(connection, TOKEN, WORKING, now=start + timedelta(days=1))
        assert services.queue_reminders(now=start + timedelta(days=30)) == 0

    def test_a_shop_waiting_for_a_verdict_is_reminded_later(self, smtp, no_sender):
        start = timezone.now()
        connection = break_shop(now=start)
        member(connection.shop.store)
        note_connection_change(connection, TOKEN, ConnectionState("unverified", "timeout"))
        due = start + timedelta(days=3, seconds=1)

        assert services.queue_reminders(now=due) == 0
        assert ShopAlert.objects.get().next_reminder_at == due + timedelta(days=3)
        assert not AlertMessage.objects.filter(kind=Kind.REMINDER).exists()


class TestStaffDigest:
    # Mid-day in Japan: "the same day" five minutes later must not cross midnight JST.
    @time_machine.travel("2026-12-05 12:00 +0900", tick=True)
    def test_staff_get_shops_grouped_by_cause_once_a_day(self, smtp, no_sender):
        now = timezone.now()
        staff = digest_staff(email="staff@goq.example")
        english_staff = digest_staff(email="staff-en@goq.example")
        AlertPreference.objects.create(user=english_staff, language="en")
        digest_staff(email="off@goq.example", is_active=False)
        opted_out = digest_staff(email="quiet@goq.example")
        AlertPreference.objects.create(user=opted_out, alerts_enabled=False)
        make_user(email="merchant@shop.example")  # not staff
        store = make_store(name="集計店舗")
        for index in range(3):
            break_shop(TOKEN, now=now - timedelta(hours=2), store=store, name=f"注文{index}")
        break_shop(LOGIN, now=now - timedelta(days=5), store=store, name="古いショップ")
        fixed = break_shop(LOGIN, now=now - timedelta(hours=5), store=store, name="直った")
        note_connection_change(fixed, LOGIN, WORKING, now=now - timedelta(hours=1))
        gone = break_shop(LOGIN, now=now - timedelta(days=3), name="前に直った")
        note_connection_change(gone, LOGIN, WORKING, now=now - timedelta(days=2))

        assert digest.queue_staff_digest(now=now) == 2
        assert digest.queue_staff_digest(now=now + timedelta(minutes=5)) == 0  # same day
        outbox.send_due(now=now)

        ja, = smtp.to(staff.email)
        en, = smtp.to(english_staff.email)
        assert len(smtp.received) == 2
        assert ja.subject == "[GoQSystem] 日次まとめ: 新たに切断 4 件、切断中 1 件"
        assert en.subject == "[GoQSystem] Daily digest: 4 shops broke, 1 still broken"
        text = ja.text
        token_block = text.split("■")[1]
        assert "token_rejected" in token_block and "過去24時間に切断: 3" in token_block
        assert "集計店舗 / 注文0" in token_block
        login_block = text.split("■")[2]
        assert "login_refused" in login_block
        assert "過去24時間に切断: 1" in login_block and "以前から切断中: 1" in login_block
        assert "切断後に復旧済み: 1" in login_block
        assert "前に直った" not in text
        assert "https://goq.example/admin/malls/shopalert/?closed_at__isnull=True" in text

    def test_nothing_broken_sends_nothing(self, smtp, no_sender):
        digest_staff(email="staff@goq.example")
        assert digest.queue_staff_digest() == 0

    def test_the_digest_costs_the_same_queries_for_10_or_60_shops(self, no_sender):
        digest_staff(email="staff@goq.example")
        counts = []
        for shops in (10, 60):
            ShopAlert.objects.all().delete()
            AlertMessage.objects.all().delete()
            for index in range(shops):
                break_shop(TOKEN if index % 2 else LOGIN)
            with CaptureQueriesContext(db) as queries:
                assert digest.queue_staff_digest() == 1
            counts.append(len(queries))
        assert counts[0] == counts[1] <= 8, counts

    def test_only_staff_who_may_view_connections_get_it(self, smtp, no_sender):
        from django.contrib.auth.models import Group, Permission

        allowed = digest_staff(email="viewer@goq.example")
        boss = make_user(is_staff=True, is_superuser=True, email="boss@goq.example")
        in_group = make_user(is_staff=True, email="grouped@goq.example")
        group = Group.objects.create(name="GoQ staff")
        group.permissions.add(
            Permission.objects.get(
                content_type__app_label="malls", codename="view_makeshopconnection"
            )
        )
        in_group.groups.add(group)
        make_user(is_staff=True, email="nothing@goq.example")  # no permission at all
        other = make_user(is_staff=True, email="installs@goq.example")
        other.user_permissions.add(
            Permission.objects.get(content_type__app_label="malls", codename="view_mallshop")
        )
        make_user(email="merchant@shop.example")
        break_shop(TOKEN, name="壊れたショップ")

        digest.queue_staff_digest()
        outbox.send_due()

        received = sorted(rcpt for mail in smtp.received for rcpt in mail.rcpt_tos)
        assert received == sorted([allowed.email, boss.email, in_group.email])
        for user in (allowed, boss, in_group):
            assert user.has_perm(digest.VIEW_CONNECTIONS)

    def test_merchant_names_cannot_add_lines_to_the_digest(self, smtp, no_sender):
        staff = digest_staff(email="staff@goq.example")
        evil = "Evil\r\nBcc: attacker@evil.test\u2028L2\x85L3\u202eRTL http://phish.example/login"
        store = make_store(name="店\n偽のお知らせ: http://phish.example/")
        break_shop(TOKEN, store=store, name=evil)

        digest.queue_staff_digest()
        outbox.send_due()

        mail, = smtp.to(staff.email)
        line = next(line for line in mail.text.splitlines() if "Evil" in line)
        assert "Bcc: attacker@evil.test" in line and "http://phish.example/login" in line
        assert "店 偽のお知らせ: http://phish.example/ / Evil Bcc:" in line
        assert not any(line.startswith(("Bcc:", "偽のお知らせ")) for line in
                       mail.text.splitlines())
        for char in ("\u2028", "\x85", "\u202e"):
            assert char not in mail.text
        assert "Evil\r" not in mail.text

