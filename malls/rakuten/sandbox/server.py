"""The emulator served alone on a loopback port (tests, ``manage.py rakuten_sandbox``);
``make run`` mounts it in the bundled sandbox instead."""

import logging
import re
import socketserver
import threading
from typing import Self
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer

from .emulator import RmsEmulator

logger = logging.getLogger("malls.rakuten.sandbox")


class _Handler(WSGIRequestHandler):
    def log_message(self, format, *args):
        # Request lines carry the licenseKey in their query: log the path only.
        logger.info("%s %s", self.address_string(), re.sub(r"\?[^\s\"']*", "?…", format % args))


class SandboxServer(socketserver.ThreadingMixIn, WSGIServer):
    """A threaded WSGI server for one ``RmsEmulator``; ``url`` says where."""

    daemon_threads = True

    def __init__(self, emulator, address=("127.0.0.1", 0)):
        """``emulator``: an ``RmsEmulator``, or any WSGI application (tests' odd answers)."""
        super().__init__(address, _Handler)
        self.emulator = emulator
        self.set_app(emulator)
        self._thread = None

    def server_bind(self):
        # HTTPServer.server_bind looks the host name up in DNS, which can stall.
        socketserver.TCPServer.server_bind(self)
        self.server_name, self.server_port = self.server_address[:2]
        self.setup_environ()

    @property
    def calls(self):
        """Every call the emulator answered (``RmsEmulator.calls``)."""
        return self.emulator.calls

    @property
    def url(self) -> str:
        host, port = self.server_address[:2]
        return f"http://{host}:{port}"

    def start_in_thread(self) -> Self:
        self._thread = threading.Thread(
            target=self.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )
        self._thread.start()
        return self

    def shutdown(self) -> None:
        if self._thread is not None:
            super().shutdown()
            self._thread.join()
            self._thread = None
        self.server_close()


def make_server(host: str = "127.0.0.1", port: int = 0, **options) -> SandboxServer:
    """A sandbox bound to ``host:port`` (0: a free port), not yet serving;
    ``options`` go to ``RmsEmulator``."""
    return SandboxServer(RmsEmulator(**options), (host, port))
