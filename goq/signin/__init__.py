"""Sign-in limits on every door that checks a password, through django-axes.

Axes' backend runs first in ``AUTHENTICATION_BACKENDS``, so every ``authenticate()``
is counted: the merchant sign-in, the staff sign-in (``/admin/login/``) and both
password-change forms (which here check the old password through ``authenticate()``
too). This module says *what* is counted and what the person locked out sees.

What is counted (``counted_groups``), within ``SIGNIN_LOCKOUT_SECONDS`` of the last
failure:

- on a new browser, ``SIGNIN_MAX_FAILURES`` per account, whatever address the tries
  come from, and per client address, whatever account they name: rotating addresses
  or names gives no extra guesses. The account is the user name exactly as Django
  reads it (NFKC, so any compatibility form of a name is the same account),
  case-folded; the address is an IPv6 /64 or one IPv4 address, behind our trusted
  proxies only (``core.client_address``).
- on a browser the account signed in on before (the "known browser" cookie, as OWASP
  suggests against lockout abuse): ``SIGNIN_MAX_FAILURES`` per browser, and
  ``SIGNIN_KNOWN_BROWSER_MAX_FAILURES`` for all the account's known browsers together.
  An attacker elsewhere who spends the account's failures locks out new browsers, not
  the merchant's own. The cookie holds a random id per browser and, per account, an
  HMAC of that id, the user id and the password hash (as ``get_session_auth_hash``):
  it names no account, cannot be made for another, and every cookie of an account
  stops counting as known once its password changes. Known browsers' failures still
  count towards the account's new-browser limit; axes keeps them in its user-agent
  column as ``known browser <id>``.

An attacker can keep spending an account's new-browser failures, so new browsers may
stay locked for as long as they keep trying. The account's owner is never stuck:
their own browsers are counted apart, and on a new one the e-mailed password reset
(``goq.password_reset``) clears the account's failures and signs them in, which makes
that browser known. Staff unlock sooner in the admin (Sign-in limits > access
attempts: delete; the GoQ staff group may) or with ``manage.py axes_reset_username
NAME``. A lockout is logged (``signin.locked_out``, with ``staff`` for staff accounts).

Tries while locked out are not counted and do not extend the lock, so the page tells
the real time it ends.
"""

from . import events  # noqa: F401  (connects the receivers)
from .devices import (
    KNOWN_BROWSER_MARK,
    KNOWN_BROWSER_SALT,
    KnownBrowserMiddleware,
    known_browser,
    read_browser_cookie,
    remember_browser,
)
from .pages import (
    LockoutAdminAuthenticationForm,
    LockoutAdminPasswordChangeForm,
    LockoutAuthenticationForm,
    LockoutPasswordChangeForm,
    LockoutPasswordChangeView,
    admin_password_change,
    lockout_ends_at,
    lockout_error,
    lockout_response,
)
from .policy import (
    SigninAttemptsHandler,
    cool_off,
    counted_groups,
    failure_limit,
    lockout_parameters,
    normalise_username,
    normalised_username,
)

__all__ = [
    "KNOWN_BROWSER_MARK",
    "KNOWN_BROWSER_SALT",
    "KnownBrowserMiddleware",
    "LockoutAdminAuthenticationForm",
    "LockoutAdminPasswordChangeForm",
    "LockoutAuthenticationForm",
    "LockoutPasswordChangeForm",
    "LockoutPasswordChangeView",
    "SigninAttemptsHandler",
    "admin_password_change",
    "cool_off",
    "counted_groups",
    "failure_limit",
    "known_browser",
    "lockout_ends_at",
    "lockout_error",
    "lockout_parameters",
    "lockout_response",
    "normalise_username",
    "normalised_username",
    "read_browser_cookie",
    "remember_browser",
]
