"""Fixtures for the alert tests: a real SMTP server, and the app pointed at it."""

import pytest

from .smtp_server import SmtpServer

DUMMY_TASKS = {"default": {"BACKEND": "django.tasks.backends.dummy.DummyBackend"}}


@pytest.fixture
def smtp(settings):
    """A running SMTP server on 127.0.0.1 that the app sends through."""
    server = SmtpServer().start()
    settings.MAILERS = server.mailer
    settings.ALERTS_SETTLE_SECONDS = 0
    settings.GOQ_BASE_URL = "https://goq.example"
    yield server
    server.stop()


@pytest.fixture
def no_sender(settings):
    """Queued e-mails stay in the outbox until a test sends them (no job runs)."""
    settings.TASKS = DUMMY_TASKS


@pytest.fixture(autouse=True)
def makeshop_mall(request):
    """The MakeShop mall row with its real names (transactional tests flush the seeded one)."""
    if "django_db_blocker" not in request.fixturenames and not any(
        mark.name == "django_db" for mark in request.node.iter_markers()
    ):
        return
    request.getfixturevalue("_django_db_helper")
    from malls.models import Mall

    Mall.objects.update_or_create(
        code=Mall.MAKESHOP, defaults={"name": "MakeShop", "name_en": "MakeShop"}
    )
