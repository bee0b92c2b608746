"""What axes counts: the normalised account, the limits, and the groups a failure
falls in (see the package docstring)."""

import logging
import unicodedata
from dataclasses import dataclass
from datetime import timedelta

from axes.attempts import get_cool_off_threshold
from axes.handlers.database import AxesDatabaseHandler
from axes.helpers import get_failure_limit
from axes.models import AccessAttempt
from django.conf import settings
from django.contrib.auth import get_user_model
from django.db.models import QuerySet, Sum
from django.http import HttpRequest

from .devices import KNOWN_BROWSER_MARK, known_browser

logger = logging.getLogger("goq.signin")

# --- What axes counts -------------------------------------------------------------


def normalise_username(name) -> str | None:
    """One key per account: Django's ``UsernameField`` (strip, NFKC), case-folded.

    Case-folding can leave a non-NFKC text ("ﬀ" → "ff" is fine, but not every fold is),
    so NFKC runs again. Cut to axes' column size; NUL bytes cannot be stored.
    """
    if name is None:
        return None
    name = unicodedata.normalize("NFKC", str(name).strip())
    name = unicodedata.normalize("NFKC", name.casefold())
    return name.replace("\x00", "")[:255]


def normalised_username(request, credentials=None) -> str | None:
    """``AXES_USERNAME_CALLABLE``: the account a sign-in try is counted against."""
    field = get_user_model().USERNAME_FIELD
    if credentials:
        return normalise_username(credentials.get(field))
    data = getattr(request, "POST", None) or {}
    return normalise_username(data.get(field))


def failure_limit(request=None, credentials=None) -> int:
    """``AXES_FAILURE_LIMIT``, read when used, so SIGNIN_MAX_FAILURES is the one knob."""
    return settings.SIGNIN_MAX_FAILURES


def cool_off(request=None) -> timedelta:
    """``AXES_COOLOFF_TIME``: SIGNIN_LOCKOUT_SECONDS after the last counted failure."""
    return timedelta(seconds=settings.SIGNIN_LOCKOUT_SECONDS)


def lockout_parameters(request_or_attempt, credentials=None):
    """``AXES_LOCKOUT_PARAMETERS``: what a successful sign-in clears (axes' reset on
    success). On a known browser, that browser's failures only; otherwise the
    account's and the address's. What locks is ``counted_groups``."""
    if isinstance(request_or_attempt, HttpRequest) and known_browser(
        request_or_attempt, credentials
    ):
        return [["username", "user_agent"]]
    return [["username"], ["ip_address"]]


@dataclass(frozen=True)
class Counted:
    """Recent failures counted together, and how many of them lock."""

    attempts: QuerySet
    limit: int

    def failures(self) -> int:
        return self.attempts.aggregate(total=Sum("failures_since_start"))["total"] or 0


def counted_groups(request, credentials=None) -> list[Counted]:
    """The groups of recent failures this try is limited by (see the module docstring)."""
    recent = AccessAttempt.objects.filter(attempt_time__gte=get_cool_off_threshold(request))
    username = normalised_username(request, credentials)
    limit = get_failure_limit(request, credentials)
    browser = known_browser(request, credentials)
    if browser:
        known = recent.filter(username=username, user_agent__startswith=KNOWN_BROWSER_MARK)
        return [
            Counted(known.filter(user_agent=KNOWN_BROWSER_MARK + browser), limit),
            Counted(known, settings.SIGNIN_KNOWN_BROWSER_MAX_FAILURES),
        ]
    return [
        Counted(recent.filter(username=username), limit),
        Counted(recent.filter(ip_address=request.axes_ip_address), limit),
    ]


class SigninAttemptsHandler(AxesDatabaseHandler):
    """``AXES_HANDLER``: axes' database handler, counting ``counted_groups`` and
    keeping a known browser's failures under its id."""

    def get_failures(self, request, credentials=None) -> int:
        """Failures as axes compares them with SIGNIN_MAX_FAILURES: a group at its own
        limit (the known browsers' higher ceiling) counts as at least that; one below
        it as below."""
        _mark_browser(request, credentials)
        limit = get_failure_limit(request, credentials)
        worst = 0
        for group in counted_groups(request, credentials):
            count = group.failures()
            worst = max(worst, max(count, limit) if count >= group.limit else min(count, limit - 1))
        return worst

    def user_login_failed(self, sender, credentials: dict, request=None, **kwargs):
        if request is not None:
            _mark_browser(request, credentials)
        return super().user_login_failed(sender, credentials, request, **kwargs)

    def user_logged_in(self, sender, request, user, **kwargs):
        _mark_browser(request, {get_user_model().USERNAME_FIELD: user.get_username()})
        return super().user_logged_in(sender, request, user, **kwargs)


def _mark_browser(request, credentials) -> None:
    """What axes records as the user agent: ``known browser <id>`` on a browser known
    for this account; otherwise the real one (never looking like a known browser)."""
    real = getattr(request, "signin_user_agent", None)
    if real is None:
        real = request.signin_user_agent = getattr(request, "axes_user_agent", "")
    browser = known_browser(request, credentials)
    if browser:
        request.axes_user_agent = KNOWN_BROWSER_MARK + browser
    else:
        request.axes_user_agent = "-" if real.startswith(KNOWN_BROWSER_MARK) else real
