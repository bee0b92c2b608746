"""A threaded HTTP server for local stand-ins: the sandbox here, the tests' fault server."""

import socketserver
import threading
from http.server import ThreadingHTTPServer
from typing import Self


class LoopbackHTTPServer(ThreadingHTTPServer):
    """Serves from a background thread and stops cleanly; ``url`` says where."""

    daemon_threads = True
    scheme = "http"

    def server_bind(self):
        # HTTPServer.server_bind looks the host name up in DNS, which can stall.
        socketserver.TCPServer.server_bind(self)
        self.server_name, self.server_port = self.server_address[:2]

    @property
    def url(self) -> str:
        host, port = self.server_address[:2]
        return f"{self.scheme}://{host}:{port}"

    def start_in_thread(self, *, poll_interval: float = 0.02) -> Self:
        self._thread = threading.Thread(
            target=self.serve_forever, kwargs={"poll_interval": poll_interval}, daemon=True
        )
        self._thread.start()
        return self

    def shutdown(self) -> None:
        """Stop serving (if serving in a thread) and release the port."""
        thread = getattr(self, "_thread", None)
        if thread is not None:
            super().shutdown()
            thread.join()
            self._thread = None
        self.server_close()

    def __exit__(self, *exc_info):
        self.shutdown()
