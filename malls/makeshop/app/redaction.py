"""Keeping the webhook secret, a URL path segment, out of logs.

Django's development server, its request logger and gunicorn's access log write
request paths; urllib3 writes the URL of every request it sends (the sandbox's app
store, the bench). A filter on each of those loggers masks the segment after
``/makeshop/app/``. Standard library only, so the sandbox can use it.
"""

import logging
import re

_SECRET_PATH = re.compile(r"(/makeshop/app/)[^/\s\"'?]+")
_PATH_LOGGERS = (
    "django.server",
    "django.request",
    "gunicorn.access",
    "urllib3.connectionpool",
    "urllib3.connection",
    "urllib3.poolmanager",
    "urllib3.util.retry",
)


def redact_path(text: str) -> str:
    return _SECRET_PATH.sub(r"\1***", text)


class RedactWebhookSecretFilter(logging.Filter):
    """Masks the secret segment of the webhook paths in a record."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a malformed record is still redacted, not dropped
            message = f"{record.msg} {record.args}"
        if "/makeshop/app/" in message:
            record.msg, record.args = redact_path(message), ()
        return True


def install_path_redaction() -> None:
    """Attach the filter to every logger that writes request paths, once each."""
    for name in _PATH_LOGGERS:
        target = logging.getLogger(name)
        if not any(isinstance(f, RedactWebhookSecretFilter) for f in target.filters):
            target.addFilter(RedactWebhookSecretFilter())
