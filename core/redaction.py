"""Keeping secrets out of texts that leave the process: log lines, error reports.

The one place that knows what a secret looks like in a text: credential parameters in
URLs, form bodies, JSON and Python reprs (``pw=…``, ``"password": "…"``,
``{'token': '…'}``), the secret segment of the URLs MakeShop calls us on (update
notifications, the app's webhooks), and our stored ciphertexts. Loggers, the JSON
formatter, gunicorn's logger and the malls' clients all use it, so a new kind of
secret is added here once; a mall package adds its own shapes with
``register_redactor`` (Rakuten's ESA header and licenseKey parameter).
"""

import logging
import re
import threading
import traceback
from urllib.parse import quote, quote_plus

MASK = "***"

# Parameter names whose value is a secret, wherever they appear.
_SENSITIVE_FIELDS = (
    r"token|pw|password|old_password|new_password1|new_password2|auth_code|order_auth_code"
    r"|product_auth_code|csrfmiddlewaretoken|csrftoken|sessionid|secret_key|credentials_keys"
)
# name=value (also URL-encoded =, or name='value' in a repr), or name: value in JSON or
# a dict's repr. The name may not continue a longer word ("mytoken"; "order_auth_code"
# has its own entry).
_SECRET_PARAMS = re.compile(
    rf"(?i)(?<![A-Za-z0-9_])({_SENSITIVE_FIELDS})(=\s*[\"']?|%3D|[\"']?\s*:\s*[\"']?)([^&\s\"']+)"
)
# Names of variables and fields that hold a secret (debug pages, settings).
SECRET_NAME = re.compile(
    r"(?i)api|auth|token|key|secret|pass|pw|signature|cookie|credential|plaintext"
)
# A shop's notification URL carries its token in the first path segment after the
# prefix, plain or URL-encoded (a ``next=`` parameter, say).
_NOTIFY_PATH = re.compile(r"(makeshop/notify/)[^/\s\"'?#]+")
_NOTIFY_PATH_ENCODED = re.compile(r"(?i)(makeshop%2Fnotify%2F)(?:(?!%2F)[^/\s\"'?&#])+")
# The MakeShop app's webhook URLs carry GoQ's webhook secret in the same place.
_APP_WEBHOOK_PATH = re.compile(r"(makeshop/app/)[^/\s\"'?#]+")
# Our stored ciphertexts, in case one is ever logged.
_CIPHERTEXT = re.compile(r"gqc1\.[A-Za-z0-9_-]{1,32}\.[A-Za-z0-9+/]+={0,2}")

NOTIFY_PATH_PREFIX = "/makeshop/notify/"


# Redactors a mall package adds for its own secrets' shapes (``register_redactor``).
_redactors: list = []


def register_redactor(redactor) -> None:
    """Let a mall package mask its own secrets' shapes (an auth header, a key parameter)
    in every text this module redacts; ``redactor`` takes and returns a ``str``."""
    if redactor not in _redactors:
        _redactors.append(redactor)


def redact(text: str) -> str:
    """``text`` with every secret this module, or a registered redactor, knows replaced."""
    for redactor in _redactors:
        text = redactor(text)
    text = _SECRET_PARAMS.sub(lambda m: f"{m.group(1)}{m.group(2)}{MASK}", text)
    text = _NOTIFY_PATH.sub(rf"\1{MASK}", text)
    text = _NOTIFY_PATH_ENCODED.sub(rf"\1{MASK}", text)
    text = _APP_WEBHOOK_PATH.sub(rf"\1{MASK}", text)
    return _CIPHERTEXT.sub("gqc1.***", text)


def redact_value(value):
    """A log field's value, safe to write: numbers, booleans and None stay as they are;
    anything else is written as its redacted text (a request's repr carries its path)."""
    if value is None or isinstance(value, bool | int | float):
        return value
    return redact(value if isinstance(value, str) else str(value))


def scrub(text: str, secrets) -> str:
    """Replace each known secret, raw or URL-encoded, with ``***``."""
    for secret in secrets:
        if secret:
            for form in {secret, quote(secret), quote(secret, safe=""), quote_plus(secret)}:
                text = text.replace(form, MASK)
    return text


def is_notification_path(path: str) -> bool:
    return path.startswith(NOTIFY_PATH_PREFIX)


def notification_token_in(path: str) -> str | None:
    """The token of a notification URL's path, to scrub wherever it shows up bare (an
    exception message, a logged SQL parameter), not only in a URL."""
    if not is_notification_path(path):
        return None
    token = path[len(NOTIFY_PATH_PREFIX):].split("/", 1)[0]
    # Real tokens have 43 characters; a short guess protects nothing, and scrubbing
    # "a" from every line would only garble them.
    return token if len(token) >= 16 else None


def scrub_record(record: logging.LogRecord, secrets) -> None:
    """Like ``redact_record``, then remove known secret values anywhere in it."""
    redact_record(record)
    record.msg = scrub(record.msg, secrets)
    if record.exc_text:
        record.exc_text = scrub(record.exc_text, secrets)


def redact_record(record: logging.LogRecord) -> None:
    """Redact a record in place, before any handler formats it: its message (arguments
    merged in) and its traceback. Formatters reuse ``exc_text``, so it is set here."""
    try:
        message = record.getMessage()
    except Exception:  # a malformed record is still redacted, not dropped
        message = f"{record.msg} {record.args}"
    record.msg, record.args = redact(message), ()
    if record.exc_info and not record.exc_text:
        record.exc_text = "".join(traceback.format_exception(*record.exc_info)).rstrip("\n")
    if record.exc_text:
        record.exc_text = redact(record.exc_text)


class RedactFilter(logging.Filter):
    """Redacts every record passing through (attach to loggers whose handlers are not
    ours: Django's runserver log, gunicorn's logs, urllib3)."""

    def filter(self, record: logging.LogRecord) -> bool:
        redact_record(record)
        return True


# Loggers outside our handlers whose records can carry a request URL: urllib3 (the
# MakeShop clients, the sandbox's app store), Django's request and runserver lines,
# gunicorn's access log.
_URL_LOGGERS = (
    "urllib3.connectionpool",
    "urllib3.connection",
    "urllib3.poolmanager",
    "urllib3.util.retry",
    "django.server",
    "django.request",
    "gunicorn.access",
)
_redaction_lock = threading.Lock()


def install_log_redaction() -> None:
    """Attach the redacting filter to the URL-bearing loggers, once each."""
    install_log_redaction_on(*_URL_LOGGERS)


def install_log_redaction_on(*names: str) -> None:
    """Attach the redacting filter to these loggers (a mall's own), once each."""
    with _redaction_lock:
        for name in names:
            target = logging.getLogger(name)
            if not any(isinstance(f, RedactFilter) for f in target.filters):
                target.addFilter(RedactFilter())
