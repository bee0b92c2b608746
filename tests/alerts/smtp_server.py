"""A real SMTP server on 127.0.0.1 (aiosmtpd) that records what it receives and can fail.

``mode`` decides how it answers: "ok"; "tempfail_rcpt" / "tempfail_data" (451, try
later); "reject_rcpt" (550, never); "drop" (closes the connection at DATA). ``stop()``
makes the port refuse connections; ``start()`` on the same port brings it back.
"""

import email
import email.policy
import socket
import threading
from dataclasses import dataclass

from aiosmtpd.controller import Controller


@dataclass
class Received:
    mail_from: str
    rcpt_tos: list[str]
    raw: bytes

    @property
    def message(self):
        return email.message_from_bytes(self.raw, policy=email.policy.default)

    @property
    def subject(self) -> str:
        return str(self.message["Subject"])

    @property
    def text(self) -> str:
        return self.message.get_content()

    def everything(self) -> str:
        """Headers and body, raw and decoded: where a leaked secret would show."""
        message = self.message
        decoded_headers = "\n".join(f"{name}: {value}" for name, value in message.items())
        return "\n".join(
            [self.raw.decode("utf-8", "replace"), decoded_headers, message.get_content(),
             self.mail_from, *self.rcpt_tos]
        )


class _Handler:
    def __init__(self, server):
        self.server = server

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        mode = self.server.mode
        if mode == "tempfail_rcpt":
            return "451 4.3.2 Please try again later"
        if mode == "reject_rcpt":
            return "550 5.1.1 No such user"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        mode = self.server.mode
        if mode == "tempfail_data":
            return "451 4.3.0 Local problem, try later"
        if mode == "drop":
            server.transport.close()
            return "421 closing"
        self.server.record(
            Received(envelope.mail_from, list(envelope.rcpt_tos), bytes(envelope.original_content))
        )
        return "250 Message accepted"


class SmtpServer:
    def __init__(self):
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        self.mode = "ok"
        self.received: list[Received] = []
        self._lock = threading.Lock()
        self._controller = None

    def record(self, received: Received) -> None:
        with self._lock:
            self.received.append(received)

    def start(self) -> "SmtpServer":
        self._controller = Controller(_Handler(self), hostname="127.0.0.1", port=self.port)
        self._controller.start()
        return self

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    def to(self, address: str) -> list[Received]:
        return [item for item in self.received if address in item.rcpt_tos]

    @property
    def mailer(self) -> dict:
        """A MAILERS entry that sends here."""
        return {
            "default": {
                "BACKEND": "django.core.mail.backends.smtp.EmailBackend",
                "OPTIONS": {"host": "127.0.0.1", "port": self.port, "timeout": 5},
            }
        }
