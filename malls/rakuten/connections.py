"""What a Rakuten connection's state is, decided from RMS's answers and the calendar.

Pure rules, no I/O: the services apply them, the screens and alerts read them.

- **Pending activation.** Peers report a freshly issued licenseKey failing for 10
  minutes to about an hour and a half. A key RMS refuses within ``PENDING_WINDOW`` of
  being saved is therefore ``pending_activation``, not rejected, and is asked again
  every ``RECHECK_EVERY`` until RMS accepts it or the window ends.
- **Expiry.** RMS's ``expiryDate`` is the last valid day in Japan. From
  ``EXPIRING_FROM_DAYS`` before it the key is "expiring" (the days left are shown);
  after it, "expired", a state of its own.
- **Warnings.** One e-mail each at 14, 7, 3 and 1 days before and on the day. A key
  saved already inside the window gets the most urgent warning it has reached, once,
  and the ones before it are counted as given. Warnings are remembered per expiry
  date, so a renewed key (a new date) starts afresh.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from enum import StrEnum

from .api import RMS_TZ, Outcome, Reason, Verification

PENDING_WINDOW = timedelta(minutes=90)
RECHECK_EVERY = timedelta(minutes=10)
EXPIRING_FROM_DAYS = 14
WARNING_DAYS = (14, 7, 3, 1, 0)  # days before the expiry date; 0 is the day itself


class Status(StrEnum):
    """A connection's verification status (``RakutenConnection.status``)."""

    UNSET = "unset"
    PENDING_ACTIVATION = "pending_activation"
    VERIFIED = "verified"
    REJECTED = "rejected"
    UNREACHABLE = "unreachable"
    UNVERIFIED = "unverified"  # RMS answered in a way GoQ cannot read


@dataclass(frozen=True)
class Classification:
    """The status a verification gives a connection, and the reason to store with it."""

    status: Status
    reason: Reason | None = None
    check: str = ""


def japan_today(now: datetime) -> date:
    return now.astimezone(RMS_TZ).date()


def in_pending_window(key_changed_at: datetime | None, now: datetime) -> bool:
    return key_changed_at is not None and now - key_changed_at < PENDING_WINDOW


def classify(
    verification: Verification, *, key_changed_at: datetime | None, now: datetime
) -> Classification:
    """The status for ``verification`` of keys saved at ``key_changed_at``."""
    failed = verification.failed
    if failed is None:
        return Classification(Status.VERIFIED)
    if failed.reason is Reason.UNAUTHORISED and in_pending_window(key_changed_at, now):
        return Classification(Status.PENDING_ACTIVATION, Reason.PENDING_ACTIVATION, failed.check)
    status = {
        Outcome.REJECTED: Status.REJECTED,
        Outcome.UNREACHABLE: Status.UNREACHABLE,
        Outcome.UNEXPECTED: Status.UNVERIFIED,
    }[failed.outcome]
    return Classification(status, failed.reason, failed.check)


def recheck_due(
    status: str, *, key_changed_at: datetime | None, last_checked_at: datetime | None,
    now: datetime,
) -> bool:
    """A pending key is asked again every ``RECHECK_EVERY``, and once more when the
    window has ended (that answer decides: accepted, or rejected)."""
    if status != Status.PENDING_ACTIVATION or key_changed_at is None:
        return False
    return last_checked_at is None or now - last_checked_at >= RECHECK_EVERY or (
        now - key_changed_at >= PENDING_WINDOW
    )


# --- Expiry ---------------------------------------------------------------------------


class ExpiryState(StrEnum):
    UNKNOWN = "unknown"  # RMS has not told us (no key yet, or the function is not enabled)
    VALID = "valid"
    EXPIRING = "expiring"  # within EXPIRING_FROM_DAYS: the days left are shown
    EXPIRED = "expired"


@dataclass(frozen=True)
class Expiry:
    state: ExpiryState
    days_left: int | None = None  # 0 on the last valid day; negative once expired


def expiry(expires_on: date | None, today: date) -> Expiry:
    if expires_on is None:
        return Expiry(ExpiryState.UNKNOWN)
    days_left = (expires_on - today).days
    if days_left < 0:
        state = ExpiryState.EXPIRED
    elif days_left <= EXPIRING_FROM_DAYS:
        state = ExpiryState.EXPIRING
    else:
        state = ExpiryState.VALID
    return Expiry(state, days_left)


@dataclass(frozen=True)
class ExpiryWarning:
    """An expiry warning to send: the schedule point (``days_before``) and the days
    actually left; ``covers`` are the points it counts as sent."""

    expires_on: date
    days_before: int
    days_left: int
    covers: tuple[int, ...]

    @property
    def marks(self) -> list[str]:
        """What to add to the connection's ``warnings_sent`` once it is sent."""
        return [warning_mark(self.expires_on, days) for days in self.covers]


def warning_mark(expires_on: date, days_before: int) -> str:
    return f"{expires_on.isoformat()}/{days_before}"


def warning_due(expires_on: date | None, today: date, sent) -> ExpiryWarning | None:
    """The expiry warning due ``today`` for a key lasting until ``expires_on``, given
    the marks of those already ``sent``; None when none is due."""
    if expires_on is None:
        return None
    days_left = (expires_on - today).days
    reached = [days for days in WARNING_DAYS if days_left <= days]
    pending = [days for days in reached if warning_mark(expires_on, days) not in set(sent)]
    if not pending:
        return None
    return ExpiryWarning(expires_on, min(pending), days_left, tuple(pending))
