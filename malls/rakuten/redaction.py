"""Keeping Rakuten's keys out of log lines and error reports.

The licenseKey travels in the expiry call's query string, and the ``Authorization:
ESA …`` header carries Base64(serviceSecret:licenseKey), so both keys can reach a
log through a URL (urllib3 logs request lines at DEBUG) or a header dump.
``redact`` knows these shapes; ``RedactFilter`` applies it to the URL-bearing
loggers, and ``install_log_redaction`` attaches it once (the client does, as
MakeShop's does). The generic ``core.redaction`` can register ``redact`` as one
more pattern.
"""

import logging
import re
import threading
import traceback

MASK = "***"

# licenseKey=…, serviceSecret=… in a query or form (also URL-encoded '='), and
# "licenseKey": "…" in JSON or a repr; also the names our forms and model use.
_KEY_PARAMS = re.compile(
    r"(?i)(?<![A-Za-z0-9_])(license_?key|service_?secret)"
    r"(=\s*[\"']?|%3D|[\"']?\s*:\s*[\"']?)([^&\s\"',}]+)"
)
# The header's credentials: "ESA " and standard Base64.
_ESA = re.compile(r"(?i)(\bESA\s+)[A-Za-z0-9+/]+={0,2}")


def redact(text: str) -> str:
    """``text`` with Rakuten's keys and ESA credentials replaced by ``***``."""
    text = _KEY_PARAMS.sub(lambda m: f"{m.group(1)}{m.group(2)}{MASK}", text)
    return _ESA.sub(rf"\g<1>{MASK}", text)


class RedactFilter(logging.Filter):
    """Redacts every record passing through, its arguments merged in first."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a malformed record is still redacted, not dropped
            message = f"{record.msg} {record.args}"
        record.msg, record.args = redact(message), ()
        if record.exc_info and not record.exc_text:
            record.exc_text = "".join(traceback.format_exception(*record.exc_info)).rstrip("\n")
        if record.exc_text:
            record.exc_text = redact(record.exc_text)
        return True


# Loggers whose records can carry a request URL or headers to Rakuten.
URL_LOGGERS = (
    "urllib3.connectionpool",
    "urllib3.connection",
    "urllib3.poolmanager",
    "urllib3.util.retry",
    "django.request",
    "django.server",
    "malls.rakuten",
)
_lock = threading.Lock()


def install_log_redaction() -> None:
    """Attach ``RedactFilter`` to the URL-bearing loggers, once each."""
    with _lock:
        for name in URL_LOGGERS:
            target = logging.getLogger(name)
            if not any(isinstance(f, RedactFilter) for f in target.filters):
                target.addFilter(RedactFilter())
