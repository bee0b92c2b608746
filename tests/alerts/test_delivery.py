"""Sending the outbox through a real SMTP server: exactly once with two worker processes,
kept and retried when the server fails, never a secret in any message or header."""

import subprocess
import sys
import threading
import time
from collections import Counter
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from malls.alerts import digest, outbox, services
from malls.alerts.models import AlertMessage, AlertPreference
from malls.alerts.services import note_connection_change
from malls.alerts.states import ConnectionState
from malls.makeshop.models import MakeShopConnection
from tests.factories import make_connection
from tests.processes import ROOT, child_env

from .helpers import (
    CANARIES,
    digest_staff,
    enter_new_code,
    member,
    recheck,
    reissue_code_in_makeshop,
    sandbox,
    working_shop,
)

pytestmark = pytest.mark.django_db(transaction=True)
Delivery = AlertMessage.Status
Status = MakeShopConnection.Status
WORKING = ConnectionState("verified")
BROKEN = ConnectionState("rejected", "token_rejected", "order_auth_code")


def broken_shops(count, members=1):
    """``count`` shops that just broke, each with ``members`` members: queued e-mails."""
    users = []
    for _ in range(count):
        connection = make_connection(status=Status.VERIFIED, verified_at=timezone.now())
        users += [member(connection.shop.store) for _ in range(members)]
        note_connection_change(connection, WORKING, BROKEN)
    return users


class TestExactlyOnce:
    def test_two_worker_processes_send_each_e_mail_once(self, smtp, no_sender):
        broken_shops(15, members=2)
        queued = AlertMessage.objects.count()
        assert queued == 30

        workers = [
            subprocess.Popen(
                [sys.executable, "manage.py", "send_alerts", "--no-reminders",
                 "--worker-id", name],
                env=child_env(EMAIL_URL=f"smtp://127.0.0.1:{smtp.port}"),
                cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
            )
            for name in ("worker-a", "worker-b")
        ]
        outputs = [worker.communicate(timeout=120) for worker in workers]
        assert all(worker.returncode == 0 for worker in workers), outputs

        delivered = Counter((mail.rcpt_tos[0], mail.subject) for mail in smtp.received)
        assert len(smtp.received) == queued
        assert set(delivered.values()) == {1}
        assert AlertMessage.objects.filter(status=Delivery.SENT).count() == queued
        # Both took part (each claims a batch at a time), and neither sent the other's.
        sent = [int(out.split("sent ")[1].split(",")[0]) for out, _err in outputs]
        assert sum(sent) == queued

    def test_two_senders_claiming_at_once_never_share_a_message(self, no_sender, settings):
        settings.ALERTS_SETTLE_SECONDS = 0
        broken_shops(10)
        now = timezone.now()
        first = outbox.claim(worker="a", now=now, limit=100)
        second = outbox.claim(worker="b", now=now, limit=100)
        assert len(first) == 10 and second == []
        # Once the lease runs out (the holder died), another sender may take them.
        later = now + outbox._lease() + timedelta(seconds=1)
        assert len(outbox.claim(worker="b", now=later, limit=100)) == 10


    def test_two_sender_threads_at_once_send_each_e_mail_once(self, smtp, no_sender):
        broken_shops(20, members=2)
        barrier = threading.Barrier(2)
        reports = {}

        def sender(name):
            try:
                barrier.wait()
                reports[name] = outbox.send_due(worker=name)
            finally:
                connection.close()

        threads = [threading.Thread(target=sender, args=(name,)) for name in ("a", "b")]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=120)

        assert sum(report.sent for report in reports.values()) == 40
        delivered = Counter((mail.rcpt_tos[0], mail.subject) for mail in smtp.received)
        assert len(smtp.received) == 40 and set(delivered.values()) == {1}


class TestFailingMailServer:
    @pytest.mark.parametrize("mode", ["tempfail_data", "tempfail_rcpt", "drop", "refused"])
    def test_a_failing_server_leaves_the_e_mails_pending_and_they_go_later(
        self, smtp, no_sender, mode
    ):
        users = broken_shops(3)
        if mode == "refused":
            smtp.stop()
        else:
            smtp.mode = mode
        start = timezone.now()

        report = outbox.send_due(now=start)

        assert report.sent == 0 and report.retrying == 1
        rows = list(AlertMessage.objects.order_by("pk"))
        assert {row.status for row in rows} == {Delivery.PENDING}
        # The first was attempted; the others wait as long without an attempt counted.
        assert [row.attempts for row in rows] == [1, 0, 0]
        assert all(row.next_attempt_at == start + timedelta(minutes=1) for row in rows)
        assert rows[0].last_error and all(c not in rows[0].last_error for c in "@:")
        assert outbox.send_due(now=start + timedelta(seconds=30)).sent == 0  # not yet

        if mode == "refused":
            smtp.start()
        smtp.mode = "ok"
        report = outbox.send_due(now=start + timedelta(minutes=1))

        assert report.sent == 3
        assert sorted(mail.rcpt_tos[0] for mail in smtp.received) == sorted(
            user.email for user in users
        )
        assert set(AlertMessage.objects.values_list("status", flat=True)) == {Delivery.SENT}

    def test_back_off_doubles_and_gives_up_after_the_last_attempt(self, smtp, no_sender,
                                                                  settings):
        settings.ALERTS_MAX_ATTEMPTS = 4
        broken_shops(1)
        smtp.stop()
        moment = timezone.now()
        waits = []
        for _ in range(4):
            outbox.send_due(now=moment)
            row = AlertMessage.objects.get()
            if row.status != Delivery.PENDING:
                break
            waits.append(row.next_attempt_at - moment)
            moment = row.next_attempt_at
        assert waits == [timedelta(minutes=1), timedelta(minutes=2), timedelta(minutes=4)]
        row = AlertMessage.objects.get()
        assert (row.status, row.attempts) == (Delivery.FAILED, 4)

        smtp.start()
        outbox.retry_now(AlertMessage.objects.all())  # staff's "send again now"
        assert outbox.send_due().sent == 1

    def test_a_refused_recipient_fails_that_e_mail_only(self, smtp, no_sender):
        broken_shops(2)
        smtp.mode = "reject_rcpt"
        report = outbox.send_due()
        assert (report.failed, report.retrying) == (2, 0)
        assert set(AlertMessage.objects.values_list("last_error", flat=True)) == {
            "SMTPRecipientsRefused 550"
        }

    def test_a_job_run_by_the_worker_sends_what_was_queued(self, smtp, settings):
        # With the immediate backend the job runs as soon as the change commits.
        users = broken_shops(2)
        assert len(smtp.received) == 2
        assert {mail.rcpt_tos[0] for mail in smtp.received} == {user.email for user in users}


class TestChoices:
    def test_opting_out_stops_e_mails_even_already_queued_ones(self, smtp, no_sender):
        connection = make_connection(status=Status.VERIFIED, verified_at=timezone.now())
        stays, leaves, later = (member(connection.shop.store) for _ in range(3))
        AlertPreference.objects.create(user=leaves, alerts_enabled=False)
        note_connection_change(connection, WORKING, BROKEN)
        AlertPreference.objects.create(user=later, alerts_enabled=False)  # after queueing

        outbox.send_due()

        assert [mail.rcpt_tos for mail in smtp.received] == [[stays.email]]
        assert AlertMessage.objects.get(recipient=later).status == Delivery.CANCELLED
        assert not AlertMessage.objects.filter(recipient=leaves).exists()

        # Back on: the next transition reaches them again.
        AlertPreference.objects.filter(user=later).update(alerts_enabled=True)
        note_connection_change(connection, BROKEN, WORKING)
        outbox.send_due()
        assert len(smtp.to(later.email)) == 1


def test_no_secret_reaches_any_e_mail_header_or_outbox_row(smtp, settings):
    server = sandbox(settings)
    try:
        connection = working_shop(all_secrets=True)
        someone = member(connection.shop.store)
        english = member(connection.shop.store)
        AlertPreference.objects.create(user=english, language="en")
        staff = digest_staff(email="staff@goq.example")
        # The secrets also sit in places a careless template might reach for.
        MakeShopConnection.objects.filter(pk=connection.pk).update(
            makeshop_message=f"echo {CANARIES[0]}"
        )

        reissue_code_in_makeshop(server)
        recheck(connection)  # broken
        later = timezone.now() + timedelta(days=settings.ALERTS_REMIND_AFTER_DAYS, seconds=5)
        services.queue_reminders(now=later)  # reminder
        digest.queue_staff_digest()  # digest
        outbox.send_due(now=later)
        enter_new_code(connection)  # fixed
        outbox.send_due(now=later)
    finally:
        server.shutdown()

    kinds = Counter(AlertMessage.objects.values_list("kind", flat=True))
    assert kinds == {"broken": 2, "reminder": 2, "digest": 1, "fixed": 2}
    assert len(smtp.received) == 7
    assert smtp.to(someone.email) and smtp.to(staff.email)
    for mail in smtp.received:
        everything = mail.everything()
        for canary in CANARIES:
            assert canary not in everything
    for row in AlertMessage.objects.values("subject", "body", "last_error"):
        for canary in CANARIES:
            assert canary not in str(row)


def test_the_send_alerts_command_reports_what_it_did(smtp, no_sender):
    broken_shops(1)
    result = subprocess.run(
        [sys.executable, "manage.py", "send_alerts", "--no-reminders"],
        env=child_env(EMAIL_URL=f"smtp://127.0.0.1:{smtp.port}"),
        cwd=ROOT, capture_output=True, text=True, timeout=60, check=True,
    )
    assert "sent 1," in result.stdout
    deadline = time.monotonic() + 5
    while not smtp.received and time.monotonic() < deadline:
        time.sleep(0.05)
    assert len(smtp.received) == 1
