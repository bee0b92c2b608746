"""Fixtures for MakeShop's new API: the GraphQL sandbox, scripted servers, GoQ's settings."""

import contextlib
import http.client
import json
import secrets
import socket
import socketserver
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import requests
from django.utils import timezone

from malls.makeshop.app import sandbox
from malls.makeshop.app.client import MakeShopAppClient
from malls.makeshop.sandbox import DEMO_SHOPS
from tests.admin_factories import make_demo_connection, sandbox_for
from tests.factories import make_connection
from tests.processes import ROOT, child_env

ROOMY = {"connect_timeout": 2.0, "read_timeout": 2.0, "deadline": 4.0, "max_bytes": 64_000}


@pytest.fixture
def make_graphql():
    """Start GraphQL sandboxes (``GraphQLSandbox`` options) and stop them after the test."""
    started = []

    def start(**options):
        server = sandbox.make_app_server(**options).start_in_thread()
        started.append(server)
        return server

    yield start
    for server in started:
        server.shutdown()


@pytest.fixture
def graphql(make_graphql):
    return make_graphql()


@pytest.fixture
def app_settings(settings, graphql):
    """The new API on, pointed at a fresh GraphQL sandbox; the settings object is returned."""
    settings.MAKESHOP_APP_GRAPHQL_URL = graphql.url
    settings.MAKESHOP_APP_ID = sandbox.SANDBOX_APP_ID
    settings.MAKESHOP_APP_API_KEY = sandbox.SANDBOX_API_KEY
    settings.MAKESHOP_APP_WEBHOOK_SECRET = secrets.token_urlsafe(32)
    settings.graphql_server = graphql
    return settings


@pytest.fixture
def make_client():
    clients = []

    def build(url, api_key=sandbox.SANDBOX_API_KEY, **options):
        client = MakeShopAppClient(url, api_key, **ROOMY | options)
        clients.append(client)
        return client

    yield build
    for client in clients:
        client.close()


class Scripted(ThreadingHTTPServer):
    """A server answering every request with ``answer(handler) -> (status, headers, body)``."""

    daemon_threads = True

    def __init__(self, answer):
        self.answer = answer
        self.seen = []
        super().__init__(("127.0.0.1", 0), _ScriptedHandler)
        self._thread = threading.Thread(target=self.serve_forever,
                                        kwargs={"poll_interval": 0.01}, daemon=True)

    def server_bind(self):
        socketserver.TCPServer.server_bind(self)
        self.server_name, self.server_port = self.server_address[:2]

    @property
    def url(self):
        return f"http://127.0.0.1:{self.server_address[1]}/v1/graphql"


class _ScriptedHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.0"

    def do_POST(self):
        length = int(self.headers.get("Content-Length") or 0)
        self.server.seen.append((dict(self.headers.items()), self.rfile.read(length)))
        status, headers, body = self.server.answer(self)
        with contextlib.suppress(ConnectionError):
            self.send_response(status)
            for name, value in headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    def log_message(self, format, *args):
        pass


@pytest.fixture
def scripted():
    started = []

    def start(answer):
        server = Scripted(answer)
        server._thread.start()
        started.append(server)
        return server

    yield start
    for server in started:
        server.shutdown()
        server._thread.join()
        server.server_close()


def json_answer(status, data, **headers):
    return lambda handler: (
        status, {"Content-Type": "application/json", **headers}, json.dumps(data).encode()
    )


def stalled(seconds):
    def answer(handler):
        time.sleep(seconds)
        return 200, {}, b"{}"
    return answer


def post_json(url, payload, **kwargs):
    return requests.post(url, json=payload, timeout=30, allow_redirects=False, **kwargs)


@pytest.fixture
def gunicorn_app(app_settings):
    """GoQ under gunicorn (as deployed) on the test database, with ``app_settings``' new API.

    Django's own test server cannot end a chunked body; gunicorn decodes it and says so
    (``wsgi.input_terminated``), which is what production gets. Yields the base URL and
    the webhook secret, like the ``app`` fixtures.
    """
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env = child_env(
        MAKESHOP_APP_GRAPHQL_URL=app_settings.MAKESHOP_APP_GRAPHQL_URL,
        MAKESHOP_APP_ID=app_settings.MAKESHOP_APP_ID,
        MAKESHOP_APP_API_KEY=app_settings.MAKESHOP_APP_API_KEY,
        MAKESHOP_APP_WEBHOOK_SECRET=app_settings.MAKESHOP_APP_WEBHOOK_SECRET,
        MAKESHOP_APP_API_SECRET=getattr(app_settings, "MAKESHOP_APP_API_SECRET", ""),
        ALLOWED_HOSTS="127.0.0.1", LOG_LEVEL="WARNING",
    )
    process = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "goq.wsgi:application", "--bind",
         f"127.0.0.1:{port}", "--workers", "1", "--worker-class", "gthread", "--threads", "2",
         "--no-control-socket", "--log-level", "warning"],
        env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            if process.poll() is not None:
                raise AssertionError(process.communicate())
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise AssertionError("gunicorn did not start") from None
                time.sleep(0.1)
        yield {"app_url": f"http://127.0.0.1:{port}",
               "secret": app_settings.MAKESHOP_APP_WEBHOOK_SECRET}
    finally:
        process.terminate()
        try:
            process.communicate(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.communicate()


def post_chunked(base_url, path, body: bytes, content_type="application/json", pieces=3):
    """POST ``body`` with ``Transfer-Encoding: chunked`` (no Content-Length): (status, text)."""
    host, port = base_url.removeprefix("http://").split(":")
    conn = http.client.HTTPConnection(host, int(port), timeout=30)
    size = max(1, len(body) // pieces)
    chunks = (body[i:i + size] for i in range(0, len(body), size))
    try:
        conn.request("POST", path, body=chunks, encode_chunked=True,
                     headers={"Content-Type": content_type, "Transfer-Encoding": "chunked"})
        answer = conn.getresponse()
        return answer.status, answer.read().decode()
    finally:
        conn.close()


@pytest.fixture
def legacy_sandbox(settings):
    """The legacy API's sandbox, which the linking proof asks (the demo shops' codes)."""
    graphql = getattr(settings, "graphql_server", None)
    with sandbox_for(settings) as server:
        if graphql is not None:  # a new settings layer hides the attribute: set it again
            settings.graphql_server = graphql
        yield server


def proven(shop_id="demo-shop", **extra):
    """A GoQ connection whose order auth code MakeShop accepted for ``shop_id`` (a day ago);
    for a demo shop the code is the legacy sandbox's right one, so a fresh check passes."""
    extra.setdefault("order_auth_code_verified_at", timezone.now())
    if shop_id in DEMO_SHOPS:
        return make_demo_connection(shop_id, only_order_code=True, **extra)
    return make_connection(makeshop_shop_id=shop_id, **extra)
