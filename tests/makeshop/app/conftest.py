"""Fixtures for MakeShop's new API: the GraphQL sandbox, scripted servers, GoQ's settings."""

import contextlib
import json
import secrets
import socketserver
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import requests

from malls.makeshop.app import sandbox
from malls.makeshop.app.client import MakeShopAppClient

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
