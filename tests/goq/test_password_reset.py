"""Password reset (N7, N13) over the test client and a real SMTP server: limited per
address, per e-mail address and globally; the same answer for any address; sent by the
background worker through the alert mail settings; the link unlocks a locked account."""

import re
from datetime import timedelta

import pytest
import time_machine
from django.core.management import call_command
from django.tasks import default_task_backend
from django.urls import reverse
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from tests.alerts.smtp_server import SmtpServer
from tests.factories import make_user

pytestmark = pytest.mark.django_db(transaction=True)

PASSWORD = "right-pass-2026"
NEW_PASSWORD = "N3w-pass-phrase!"
SENDER = "GoQ alerts <alerts@goq.example>"
DATABASE_QUEUE = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": ["default"]}}
DUMMY = {"default": {"BACKEND": "django.tasks.backends.dummy.DummyBackend"}}


@pytest.fixture
def smtp(settings):
    server = SmtpServer().start()
    settings.MAILERS = server.mailer
    settings.GOQ_BASE_URL = "https://goq.example"
    settings.ALERTS_FROM_EMAIL = SENDER
    settings.SIGNIN_MAX_FAILURES = 3
    yield server
    server.stop()


def ask(client, email, address="203.0.113.7"):
    return client.post(reverse("password_reset"), {"email": email}, REMOTE_ADDR=address)


def link_in(mail) -> str:
    return re.search(r"https://goq\.example(/accounts/reset/\S+/)", mail.text).group(1)


def test_a_registered_address_gets_one_link_through_the_alert_mail_settings(client, smtp):
    user = make_user(username="shopkeeper", password=PASSWORD, email="shop@example.jp")
    response = ask(client, "SHOP@example.jp")
    assert response.status_code == 302 and response["Location"] == reverse("password_reset_done")

    mail, = smtp.received
    assert mail.rcpt_tos == ["shop@example.jp"] and mail.mail_from == "alerts@goq.example"
    assert mail.subject == "[GoQSystem] パスワードの再設定"
    assert "shopkeeper" in mail.text and mail.message["Auto-Submitted"] == "auto-generated"
    # The link sets a new password once and signs in on this browser.
    form_page = client.get(link_in(mail), follow=True)
    assert form_page.status_code == 200
    done = client.post(
        form_page.redirect_chain[-1][0],
        {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD},
    )
    assert done.status_code == 302
    user.refresh_from_db()
    assert user.check_password(NEW_PASSWORD)
    assert client.session["_auth_user_id"] == str(user.pk)
    again = client.__class__().get(link_in(mail), follow=True)
    assert "form" not in again.context or again.context["form"] is None


def test_an_unknown_address_gets_the_same_answer_and_no_mail(client, smtp, settings):
    make_user(username="shopkeeper", password=PASSWORD, email="shop@example.jp")
    settings.TASKS = DUMMY
    default_task_backend.clear()
    known = ask(client, "shop@example.jp", address="198.51.100.1")
    unknown = ask(client, "nobody@example.jp", address="198.51.100.2")
    assert (known.status_code, known["Location"], known.content) == (
        unknown.status_code, unknown["Location"], unknown.content
    )
    # The same work in the request: one queued job each, nothing sent yet.
    assert [result.task.name for result in default_task_backend.results] == [
        "send_password_reset", "send_password_reset"
    ]
    assert not smtp.received
    for result in default_task_backend.results:
        result.task.call(*result.args, **result.kwargs)
    assert [mail.rcpt_tos for mail in smtp.received] == [["shop@example.jp"]]


def test_the_request_only_queues_the_job_and_the_worker_sends(client, smtp, settings):
    make_user(username="shopkeeper", password=PASSWORD, email="shop@example.jp")
    settings.TASKS = DATABASE_QUEUE
    assert ask(client, "shop@example.jp").status_code == 302
    assert not smtp.received  # no SMTP conversation while the person waits
    job = DBTaskResult.objects.get()
    assert job.args_kwargs["args"] == ["shop@example.jp", "ja"]  # no token is stored
    call_command("db_worker", "--batch", "--no-reload", "--no-startup-delay")
    assert [mail.rcpt_tos for mail in smtp.received] == [["shop@example.jp"]]


@pytest.mark.parametrize(
    ("limit", "requests"),
    [
        # Same address asked for, from different client addresses.
        ("PASSWORD_RESET_MAX_PER_EMAIL",
         [("shop@example.jp", f"198.51.100.{n}") for n in range(4)]),
        # Different registered addresses, from one client address.
        ("PASSWORD_RESET_MAX_PER_ADDRESS",
         [(f"shop{n}@example.jp", "198.51.100.9") for n in range(4)]),
        # Different addresses from different clients: the global ceiling.
        ("PASSWORD_RESET_MAX_PER_HOUR",
         [(f"shop{n}@example.jp", f"192.0.2.{n}") for n in range(4)]),
    ],
)
def test_each_limit_stops_the_mail_but_not_the_answer(client, smtp, settings, limit, requests):
    settings.PASSWORD_RESET_MAX_PER_EMAIL = 10
    settings.PASSWORD_RESET_MAX_PER_ADDRESS = 10
    settings.PASSWORD_RESET_MAX_PER_HOUR = 10
    setattr(settings, limit, 2)
    make_user(username="shopkeeper", password=PASSWORD, email="shop@example.jp")
    for n in range(4):
        make_user(username=f"shop{n}", password=PASSWORD, email=f"shop{n}@example.jp")
    start = timezone.now().replace(minute=0, second=0, microsecond=0) + timedelta(hours=1)
    with time_machine.travel(start, tick=False):
        answers = {ask(client, email, address).status_code for email, address in requests}
    assert answers == {302}
    assert len(smtp.received) == 2
    # The next hour, the same request is sent again.
    with time_machine.travel(start + timedelta(hours=1), tick=False):
        ask(client, *requests[-1])
    assert len(smtp.received) == 3


def test_a_mail_server_failure_is_not_the_requesters_problem(client, smtp):
    make_user(username="shopkeeper", password=PASSWORD, email="shop@example.jp")
    smtp.stop()
    assert ask(client, "shop@example.jp").status_code == 302


def test_the_reset_link_lets_the_owner_in_while_an_attacker_keeps_the_account_locked(
    client, smtp
):
    """N13: new browsers are locked; the e-mailed link clears the failures and signs in,
    and that browser stays known however the attacker goes on."""
    make_user(username="shopkeeper", password=PASSWORD, email="shop@example.jp")
    attacker = client.__class__()

    def attack():
        for n in range(3):
            attacker.post(reverse("login"), {"username": "shopkeeper", "password": f"x{n}"},
                          REMOTE_ADDR=f"198.51.100.{n + 1}")

    attack()
    locked = client.post(reverse("login"), {"username": "shopkeeper", "password": PASSWORD})
    assert locked.status_code == 429

    ask(client, "shop@example.jp")
    form_page = client.get(link_in(smtp.received[0]), follow=True)
    done = client.post(form_page.redirect_chain[-1][0],
                       {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD})
    assert done.status_code == 302 and "_auth_user_id" in client.session
    cookie = client.cookies["signin_device"].value
    client.logout()
    client.cookies["signin_device"] = cookie

    attack()  # the attacker goes on: new browsers are locked again...
    assert client.__class__().post(
        reverse("login"), {"username": "shopkeeper", "password": NEW_PASSWORD}
    ).status_code == 429
    # ...the owner's browser is not.
    assert client.post(
        reverse("login"), {"username": "shopkeeper", "password": NEW_PASSWORD}
    ).status_code == 302
