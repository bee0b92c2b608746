"""Structured logging: one JSON object per line, with the request id, secrets redacted.

``json.dumps`` escapes control characters, so a value a user typed (a shop ID with a
newline, say) cannot forge a second log line. What counts as a secret is defined in
``core.redaction``.
"""

import contextvars
import json
import logging
from datetime import UTC, datetime

from core.redaction import (
    is_notification_path,
    notification_token_in,
    redact,
    redact_record,
    redact_value,
    scrub,
    scrub_record,
)

request_id_var: contextvars.ContextVar[str] = contextvars.ContextVar("request_id", default="-")
# Secrets the current request carries where no pattern can see them (a notification
# URL's token, once it is a bare value): every line written meanwhile is scrubbed of them.
request_secrets_var: contextvars.ContextVar[tuple[str, ...]] = contextvars.ContextVar(
    "request_secrets", default=()
)


class RequestContextFilter(logging.Filter):
    """Adds the current request id to every record."""

    def filter(self, record):
        record.request_id = request_id_var.get()
        return True


class NotificationRequestFilter(logging.Filter):
    """For ``django.request`` and ``django.server`` (runserver's access log).

    Drops Django's own lines about 4xx answers on MakeShop's notification URL: the view
    logs its refusals itself, and a line per guessed token would let anyone flood the
    log. Every other record is redacted in place, so no handler (Django's own console
    handler under DEBUG included) sees a notification token.
    """

    def filter(self, record):
        request = getattr(record, "request", None)
        path = getattr(request, "path", "")
        status = getattr(record, "status_code", None)
        if isinstance(path, str) and is_notification_path(path):
            if status and status < 500:
                return False
            scrub_record(record, [notification_token_in(path)])
            return True
        redact_record(record)
        return True


class JsonFormatter(logging.Formatter):
    """One line per event; the message, every extra field and the exception text are
    redacted (an extra is written as its text, so a request object shows its path)."""

    RESERVED = set(vars(logging.makeLogRecord({}))) | {"message", "asctime", "request_id"}

    def format(self, record):
        event = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "request_id": getattr(record, "request_id", "-"),
            "message": redact(record.getMessage()),
        }
        for key, value in record.__dict__.items():
            if key not in self.RESERVED and not key.startswith("_"):
                event[key] = redact_value(value)
        if record.exc_info or record.exc_text:
            event["exception"] = redact(record.exc_text or self.formatException(record.exc_info))
        return scrub(json.dumps(event, ensure_ascii=False, default=str), request_secrets_var.get())


class TextFormatter(logging.Formatter):
    """Human-readable lines for a terminal, redacted like the JSON ones."""

    def format(self, record):
        if not hasattr(record, "request_id"):
            record.request_id = request_id_var.get()
        line = scrub(redact(super().format(record)), request_secrets_var.get())
        return line.replace("\n", "\n    ")
