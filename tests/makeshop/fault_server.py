"""A local HTTP server whose answers each test scripts: MakeShop misbehaving on cue.

A behaviour is a function of the request handler; the helpers below build the
usual ones. The server speaks HTTP/1.0, so each answer ends by closing the
connection unless a behaviour says otherwise with its headers.
"""

import contextlib
import ssl
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler
from typing import NamedTuple

from malls.makeshop.sandbox.loopback import LoopbackHTTPServer

Behaviour = Callable[[BaseHTTPRequestHandler], None]


class Seen(NamedTuple):
    method: str
    path: str
    headers: dict[str, str]
    body: bytes


class FaultServer(LoopbackHTTPServer):
    def __init__(self, behaviour: Behaviour | None = None, *, tls: ssl.SSLContext | None = None):
        super().__init__(("127.0.0.1", 0), _Handler)
        self.scheme = "https" if tls else "http"
        if tls:
            self.socket = tls.wrap_socket(self.socket, server_side=True)
        self.behaviour = behaviour or reply(200, b"")
        self.seen: list[Seen] = []
        self.stopping = threading.Event()

    def start(self) -> "FaultServer":
        return self.start_in_thread(poll_interval=0.01)

    def stop(self) -> None:
        self.stopping.set()  # ends drips still writing to a client that left
        self.shutdown()


class _Handler(BaseHTTPRequestHandler):
    server: FaultServer
    disable_nagle_algorithm = True

    def do_GET(self):
        self._run()

    def do_POST(self):
        self._run()

    def _run(self):
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length)
        self.server.seen.append(Seen(self.command, self.path, dict(self.headers), body))
        with contextlib.suppress(OSError):  # the client hung up, as it should on faults
            self.server.behaviour(self)

    def log_message(self, format, *args):
        pass  # tests read ``seen``; stderr noise would only hide real failures


def reply(
    status: int,
    body: bytes,
    *,
    content_type: str = "text/xml",
    headers: dict[str, str] | None = None,
    content_length: bool = True,
) -> Behaviour:
    def behaviour(handler):
        handler.send_response(status)
        handler.send_header("Content-Type", content_type)
        if content_length:
            handler.send_header("Content-Length", str(len(body)))
        for name, value in (headers or {}).items():
            handler.send_header(name, value)
        handler.end_headers()
        handler.wfile.write(body)

    return behaviour


def raw(data: bytes) -> Behaviour:
    """Write ``data`` as the whole answer, status line and headers included."""

    def behaviour(handler):
        handler.wfile.write(data)

    return behaviour


def drip(head: bytes, body: bytes, *, every: float) -> Behaviour:
    """Write ``head`` at once, then ``body`` a byte at a time, looping until stopped."""

    def behaviour(handler):
        handler.wfile.write(head)
        while not handler.server.stopping.is_set():
            for byte in body:
                handler.wfile.write(bytes([byte]))
                time.sleep(every)

    return behaviour


def stall(seconds: float, then: Behaviour) -> Behaviour:
    def behaviour(handler):
        handler.server.stopping.wait(seconds)
        then(handler)

    return behaviour


def closed_port_url() -> str:
    """A URL on which nothing listens, so connecting is refused."""
    with FaultServer() as server:
        return server.url
