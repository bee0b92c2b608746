"""Fixtures for Rakuten: the RMS sandbox on a free loopback port, never the Internet."""

from contextlib import nullcontext

import pytest

from malls.rakuten.client import RakutenClient
from malls.rakuten.sandbox import DEMO_SHOPS, SandboxServer, make_server
from tests.log_capture import logs  # noqa: F401  (the canary tests' log capture)

ROOMY = {"connect_timeout": 2.0, "read_timeout": 2.0, "deadline": 4.0, "max_bytes": 64_000}


@pytest.fixture
def make_sandbox():
    """Start sandboxes (``make_server`` options) and stop them after the test."""
    started = []

    def start(**options):
        server = make_server(**options).start_in_thread()
        started.append(server)
        return server

    yield start
    for server in started:
        server.shutdown()


@pytest.fixture
def sandbox(make_sandbox):
    """A fresh sandbox with the demo shops; no spacing, so a check's three calls run at
    once (the spacing has its own test)."""
    return make_sandbox(min_interval=0)


@pytest.fixture
def serve():
    """Serve any WSGI app on a loopback port (answers RMS never gave, on purpose)."""
    started = []

    def start(app):
        server = SandboxServer(app).start_in_thread()
        started.append(server)
        return server

    yield start
    for server in started:
        server.shutdown()


def no_spacing(shop_url):
    """A client's ``pace`` that never waits: the database call slots have their own tests."""
    return nullcontext()


@pytest.fixture
def make_client():
    """Clients that never wait between calls, unless given ``pace=client.call_slot``."""
    clients = []

    def build(base_url, **options):
        client = RakutenClient(base_url, **(ROOMY | {"pace": no_spacing} | options))
        clients.append(client)
        return client

    yield build
    for client in clients:
        client.close()


@pytest.fixture
def rms(sandbox, make_client):
    return make_client(sandbox.url)


@pytest.fixture
def rakuten_sandbox(sandbox, settings):
    """The sandbox, with the app's settings pointed at it."""
    settings.RAKUTEN_API_BASE_URL = sandbox.url
    return sandbox


def keys_of(shop_url: str) -> dict:
    shop = DEMO_SHOPS[shop_url]
    return {"service_secret": shop.service_secret, "license_key": shop.license_key}
