"""What the new-API package shares with the legacy client, taken from one place.

The typed results, the deadline watchdog, the no-cookie session, transport failure
names live in ``malls.makeshop.api`` / ``transport``, scrubbing in ``core.redaction``;
the app package imports them from here only.
"""

from core.redaction import install_log_redaction, scrub
from malls.http import Deadline, new_session, transport_reason
from malls.makeshop.api import Check, CheckResult, Outcome, Reason

APP_TOKEN_CHECK = Check.APP_TOKEN

__all__ = [
    "APP_TOKEN_CHECK",
    "CheckResult",
    "Deadline",
    "Outcome",
    "Reason",
    "install_log_redaction",
    "new_session",
    "scrub",
    "transport_reason",
]
