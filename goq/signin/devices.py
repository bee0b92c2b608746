"""Known browsers: the signed cookie that tells a browser the account signed in on
before, bound to the password, and the middleware that writes it."""

import logging
import secrets
from datetime import timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core import signing
from django.utils.crypto import constant_time_compare, salted_hmac

logger = logging.getLogger("goq.signin")
logger = logging.getLogger("goq.signin")

KNOWN_BROWSER_SALT = "goq.signin.known-browser"
KNOWN_BROWSER_MAX_AGE = timedelta(days=90)
KNOWN_BROWSER_ACCOUNTS = 5  # accounts remembered per browser
# How a known browser's failures are kept in axes' user-agent column.
KNOWN_BROWSER_MARK = "known browser "


# --- Known browsers ---------------------------------------------------------------


def known_browser_cookie_name() -> str:
    # "__Host-" cookies need Secure; the same rule as the session cookie.
    return "__Host-signin_device" if settings.SESSION_COOKIE_SECURE else "signin_device"


def _account_mark(browser_id: str, user) -> str:
    """Ties a browser to an account and its current password (any password change, by
    the user, a reset or staff, voids it), without naming the account."""
    return salted_hmac(
        KNOWN_BROWSER_SALT, f"{browser_id}:{user.pk}:{user.password}", algorithm="sha256"
    ).hexdigest()


def read_browser_cookie(request) -> tuple[str | None, list[str]]:
    """(browser id, account marks) from the signed cookie, or (None, [])."""
    value = request.COOKIES.get(known_browser_cookie_name())
    if not value:
        return None, []
    try:
        data = signing.loads(value, salt=KNOWN_BROWSER_SALT, max_age=KNOWN_BROWSER_MAX_AGE)
    except signing.BadSignature:
        return None, []
    if not isinstance(data, dict) or not isinstance(data.get("id"), str):
        return None, []
    marks = data.get("accounts")
    if not isinstance(marks, list):
        return data["id"], []
    return data["id"], [mark for mark in marks if isinstance(mark, str)]


def _raw_username(request, credentials) -> str | None:
    field = get_user_model().USERNAME_FIELD
    if credentials:
        return credentials.get(field)
    return (getattr(request, "POST", None) or {}).get(field)


def known_browser(request, credentials=None) -> str | None:
    """This browser's id if it is known for the account the try names, else None.

    The account is looked up as the sign-in looks it up (its exact name), once per
    request and name."""
    name = _raw_username(request, credentials)
    cache = request.__dict__.setdefault("_signin_known_browser", {})
    if name in cache:
        return cache[name]
    browser_id, marks = read_browser_cookie(request)
    found = None
    # A NUL cannot be in a stored name (and PostgreSQL refuses it in a query).
    if browser_id and marks and isinstance(name, str) and name and "\x00" not in name:
        try:
            user = get_user_model()._default_manager.get_by_natural_key(name)
        except (get_user_model().DoesNotExist, ValueError):
            user = None
        if user is not None:
            mark = _account_mark(browser_id, user)
            if any(constant_time_compare(mark, saved) for saved in marks):
                found = browser_id
    cache[name] = found
    return found


def remember_browser(request, user) -> None:
    """Make this browser known for ``user`` (under the current password): the cookie
    is set on the answer by ``KnownBrowserMiddleware``. Its id stays the same."""
    browser_id, marks = read_browser_cookie(request)
    browser_id = browser_id or secrets.token_urlsafe(16)
    mark = _account_mark(browser_id, user)
    others = [saved for saved in marks if saved != mark]
    request.signin_known_browser = {
        "id": browser_id, "accounts": [mark, *others][:KNOWN_BROWSER_ACCOUNTS],
    }
    request.__dict__.pop("_signin_known_browser", None)


class KnownBrowserMiddleware:
    """Sets the known-browser cookie on the answer to a successful sign-in."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        cookie = getattr(request, "signin_known_browser", None)
        if cookie is not None:
            response.set_cookie(
                known_browser_cookie_name(),
                signing.dumps(cookie, salt=KNOWN_BROWSER_SALT),
                max_age=int(KNOWN_BROWSER_MAX_AGE.total_seconds()),
                secure=settings.SESSION_COOKIE_SECURE,
                httponly=True,
                samesite="Lax",
            )
        return response
