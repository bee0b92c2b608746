"""Structured logging: one JSON object per line, with the request id, secrets redacted.

``json.dumps`` escapes control characters, so a value a user typed (a shop ID with a
newline, say) cannot forge a second log line.
"""

import contextvars
import json
import logging
import re
from datetime import UTC, datetime

request_id_var: contextvars.ContextVar[str] = contextvars.ContextVar("request_id", default="-")

# Values that must never reach a log even if a library logs a URL or a form body.
_SECRET_PARAMS = re.compile(
    r"(?i)\b(token|pw|password|auth_code|order_auth_code|product_auth_code|csrfmiddlewaretoken"
    r"|sessionid|secret_key|credentials_keys)(=|%3D|\"?\s*:\s*\"?)([^&\s\"',;]+)"
)
# A shop's notification URL carries its token in the path.
_NOTIFY_PATH = re.compile(r"(/makeshop/notify/)[^/\s\"'?]+")
# Our stored ciphertexts, in case one is ever logged.
_CIPHERTEXT = re.compile(r"gqc1\.[A-Za-z0-9_-]{1,32}\.[A-Za-z0-9+/]+={0,2}")


def redact(text: str) -> str:
    text = _SECRET_PARAMS.sub(lambda m: f"{m.group(1)}{m.group(2)}***", text)
    text = _NOTIFY_PATH.sub(r"\1***", text)
    return _CIPHERTEXT.sub("gqc1.***", text)


class RequestContextFilter(logging.Filter):
    """Adds the current request id to every record."""

    def filter(self, record):
        record.request_id = request_id_var.get()
        return True


class JsonFormatter(logging.Formatter):
    """One line per event; the message and exception text are redacted."""

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
                event[key] = redact(str(value)) if isinstance(value, str) else value
        if record.exc_info:
            event["exception"] = redact(self.formatException(record.exc_info))
        return json.dumps(event, ensure_ascii=False, default=str)


class TextFormatter(logging.Formatter):
    """Human-readable lines for a terminal, redacted like the JSON ones."""

    def format(self, record):
        if not hasattr(record, "request_id"):
            record.request_id = request_id_var.get()
        return redact(super().format(record)).replace("\n", "\n    ")
