"""Fixtures shared across the test tree."""

from pathlib import Path

import pytest

from malls.makeshop.sandbox import make_server

BROWSER_TESTS = Path(__file__).resolve().parent / "browser"


@pytest.fixture
def makeshop_sandbox(settings):
    """A fresh MakeShop sandbox on a free local port, with the app pointed at it."""
    server = make_server().start_in_thread()
    settings.MAKESHOP_API_BASE_URL = server.url
    yield server
    server.shutdown()


def pytest_collection_modifyitems(items):
    """Browser tests run last: Playwright's sync API keeps an event loop running in the
    main thread for the whole session, and any later test that drives async code from
    that thread (the ASGI entry point's) would find the loop taken."""
    items.sort(key=lambda item: item.path.is_relative_to(BROWSER_TESTS))


@pytest.fixture(autouse=True)
def _no_language_left_active():
    """A test that activates a language (a request through LocaleMiddleware, an e-mail in
    the recipient's language) must not leave it active for the next test in the thread."""
    yield
    from django.utils import translation

    translation.deactivate()
