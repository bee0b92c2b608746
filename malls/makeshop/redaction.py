"""Keeping MakeShop secrets out of texts: our results, MakeShop's messages, urllib3's logs.

Secrets travel in the order API's query string, so urllib3's URL-bearing log records
are redacted, and any text that may echo a secret is scrubbed of it. To be replaced
by the project-wide ``core.redaction`` (one implementation for logs and the client).
"""

import logging
import re
import threading
import traceback
from urllib.parse import quote, quote_plus

_CREDENTIAL_PARAMETER = re.compile(r"(?i)(?<![A-Za-z0-9_])(token|pw|auth_code|password)=[^&\s'\"]*")
# urllib3 loggers whose records can carry a request URL.
_URL_LOGGERS = (
    "urllib3.connectionpool",
    "urllib3.connection",
    "urllib3.poolmanager",
    "urllib3.util.retry",
)
_redaction_lock = threading.Lock()


def scrub_secrets(text: str, secrets) -> str:
    """Replace each secret, raw or URL-encoded, with ``***``."""
    for secret in secrets:
        if secret:
            for form in {secret, quote(secret), quote(secret, safe=""), quote_plus(secret)}:
                text = text.replace(form, "***")
    return text


def redact_credentials(text: str) -> str:
    """Mask the values of credential parameters in URLs and form bodies."""
    return _CREDENTIAL_PARAMETER.sub(r"\1=***", text)


class RedactCredentialsFilter(logging.Filter):
    """Masks credential parameters in a record: urllib3 logs full request URLs."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a malformed record is still redacted, not dropped
            message = f"{record.msg} {record.args}"
        record.msg, record.args = redact_credentials(message), ()
        if record.exc_info and not record.exc_text:
            # Formatters reuse exc_text, so the traceback is redacted once, here.
            record.exc_text = redact_credentials(
                "".join(traceback.format_exception(*record.exc_info)).rstrip("\n")
            )
        return True


def install_log_redaction() -> None:
    """Attach the redacting filter to urllib3's URL-bearing loggers, once each."""
    with _redaction_lock:
        for name in _URL_LOGGERS:
            target = logging.getLogger(name)
            if not any(isinstance(f, RedactCredentialsFilter) for f in target.filters):
                target.addFilter(RedactCredentialsFilter())
