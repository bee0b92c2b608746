"""Keeping Rakuten's keys out of log lines and error reports.

The licenseKey travels in the expiry call's query string, and the ``Authorization:
ESA …`` header carries Base64(serviceSecret:licenseKey), so both keys can reach a
log through a URL (urllib3 logs request lines at DEBUG) or a header dump.
``redact`` knows these shapes and is registered with ``core.redaction``, whose
filter every URL-bearing logger already has (``install_log_redaction``).
"""

import re

from core import redaction

MASK = redaction.MASK

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


def install_log_redaction() -> None:
    """Mask Rakuten's shapes wherever ``core.redaction`` masks (its loggers and ours)."""
    redaction.register_redactor(redact)
    redaction.install_log_redaction()
    redaction.install_log_redaction_on("malls.rakuten")


install_log_redaction()
