"""The one place the new-API package reaches into the legacy client.

Everything the app client shares with the legacy one (the typed results, the
deadline watchdog, the no-cookie session, transport failure names, scrubbing) is
imported here and nowhere else in ``malls.makeshop.app``, so moving the legacy
client apart (``transport.py``, ``api.py``) means re-pointing this file only.
"""

from malls.makeshop import client as _legacy
from malls.makeshop.client import Check, CheckResult, Outcome, install_log_redaction

Deadline = _legacy._Deadline
new_session = _legacy._new_session
scrub = _legacy._scrub
transport_reason = _legacy._transport_reason

# The app token is a fourth kind of check; once ``Check`` has it, this picks it up.
APP_TOKEN_CHECK = getattr(Check, "APP_TOKEN", "app_token")

__all__ = [
    "APP_TOKEN_CHECK",
    "CheckResult",
    "Deadline",
    "Outcome",
    "install_log_redaction",
    "new_session",
    "scrub",
    "transport_reason",
]
