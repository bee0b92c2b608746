"""Fixtures for the fuzz tests."""

import django.test.client
import pytest

# Nothing listens on the discard port, so every MakeShop call fails at once as
# "refused" (UNREACHABLE): saves are decided in microseconds, never by the network.
UNREACHABLE_MAKESHOP = "http://127.0.0.1:9"


@pytest.fixture(autouse=True)
def production_request_class(monkeypatch):
    """Build requests with the class production serves them with, not Django's default.

    The test client makes a plain ``WSGIRequest``; ``goq.wsgi`` swaps in its own class
    (one that ignores charsets Django would crash on), and fuzzing must meet what the
    server meets.
    """
    from goq.wsgi import application

    monkeypatch.setattr(django.test.client, "WSGIRequest", application.request_class)


@pytest.fixture
def offline_makeshop(settings):
    """MakeShop refuses every connection; the per-store verification limit never bites."""
    settings.MAKESHOP_API_BASE_URL = UNREACHABLE_MAKESHOP
    settings.VERIFICATIONS_PER_STORE_PER_MINUTE = 10**9
