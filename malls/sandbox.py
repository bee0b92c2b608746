"""One bundled sandbox for every mall: each installed mall's stand-in on the same port.

``make run`` serves one sandbox server; every installed mall whose provider has the
optional ``sandbox_routes()`` contributes ``(path prefix, WSGI application)`` pairs
to it (``mall_routes``). The serving sandbox hands a request whose path starts with
a prefix to that application (``route_for`` then ``serve_wsgi``), with the whole
path as ``PATH_INFO``, so a mall's stand-in answers the same paths whether it is
served alone or mounted. Each application is made once per server: it keeps its own
state (rate limits, what it recorded).

Nothing here names a mall, and only the standard library is imported at module
level: a sandbox server may use ``serve_wsgi`` without Django.
"""

from __future__ import annotations

import contextlib
import io
import sys
from collections.abc import Callable, Sequence
from typing import NamedTuple

# Bodies a mounted stand-in is given at most (they are small API requests).
MAX_BODY_BYTES = 64 * 1024


class Route(NamedTuple):
    """Requests under ``prefix`` go to the WSGI application ``app`` of mall ``mall``."""

    prefix: str
    app: Callable
    mall: str = ""


def mall_routes(*, serving: str = "") -> list[Route]:
    """Every installed mall's sandbox routes, except those of the mall ``serving``
    (whose server is the one mounting the others)."""
    from . import providers

    routes = []
    for code, provider in providers.registered().items():
        contribute = getattr(provider, "sandbox_routes", None)
        if contribute is None or code == serving:
            continue
        routes += [Route(prefix, app, code) for prefix, app in contribute()]
    return routes


def route_for(routes: Sequence[Route], path: str) -> Route | None:
    """The route whose prefix is the longest one ``path`` starts with, if any."""
    matching = [route for route in routes if path.startswith(route.prefix)]
    return max(matching, key=lambda route: len(route.prefix), default=None)


def serve_wsgi(handler, app: Callable, *, path: str, query: str) -> None:
    """Answer ``handler``'s request (an ``http.server.BaseHTTPRequestHandler``) with the
    WSGI application ``app``; the answer always carries its Content-Length, so
    keep-alive connections stay in step."""
    length = int(handler.headers.get("Content-Length") or 0)
    if length > MAX_BODY_BYTES:
        handler.close_connection = True  # the rest of the body is left unread
    body = handler.rfile.read(min(length, MAX_BODY_BYTES)) if length else b""
    started: list = []

    def start_response(status, headers, exc_info=None):
        started[:] = [status, headers]
        return lambda data: None  # the legacy write() callable; nothing here uses it

    result = app(_environ(handler, path, query, body), start_response)
    try:
        payload = b"".join(result)
    finally:
        if hasattr(result, "close"):
            result.close()
    status, headers = started
    code, _, reason = status.partition(" ")
    with contextlib.suppress(ConnectionError):  # the caller gave up: fine
        handler.send_response(int(code), reason or None)
        for name, value in headers:
            if name.lower() != "content-length":
                handler.send_header(name, value)
        handler.send_header("Content-Length", str(len(payload)))
        handler.end_headers()
        handler.wfile.write(payload)


def _environ(handler, path: str, query: str, body: bytes) -> dict:
    host, port = handler.server.server_address[:2]
    environ = {
        "REQUEST_METHOD": handler.command,
        "SCRIPT_NAME": "",
        "PATH_INFO": path,
        "QUERY_STRING": query,
        "CONTENT_TYPE": handler.headers.get("Content-Type", ""),
        "CONTENT_LENGTH": str(len(body)),
        "SERVER_NAME": str(host),
        "SERVER_PORT": str(port),
        "SERVER_PROTOCOL": handler.request_version,
        "REMOTE_ADDR": handler.client_address[0],
        "wsgi.version": (1, 0),
        "wsgi.url_scheme": "http",
        "wsgi.input": io.BytesIO(body),
        "wsgi.errors": sys.stderr,
        "wsgi.multithread": True,
        "wsgi.multiprocess": False,
        "wsgi.run_once": False,
    }
    for name, value in handler.headers.items():
        key = "HTTP_" + name.upper().replace("-", "_")
        if key not in ("HTTP_CONTENT_TYPE", "HTTP_CONTENT_LENGTH"):
            environ[key] = value
    return environ
