"""Fixtures shared across the test tree."""

import pytest

from malls.makeshop.sandbox import make_server


@pytest.fixture
def makeshop_sandbox(settings):
    """A fresh MakeShop sandbox on a free local port, with the app pointed at it."""
    server = make_server().start_in_thread()
    settings.MAKESHOP_API_BASE_URL = server.url
    yield server
    server.shutdown()
