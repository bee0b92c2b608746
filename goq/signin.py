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

import logging
import math
import secrets
import unicodedata
from dataclasses import dataclass
from datetime import timedelta

from axes.attempts import get_cool_off_threshold
from axes.handlers.database import AxesDatabaseHandler
from axes.helpers import get_cool_off, get_failure_limit
from axes.models import AccessAttempt
from axes.signals import user_locked_out
from django import forms
from django.conf import settings
from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.auth import authenticate, get_user_model
from django.contrib.auth.forms import AuthenticationForm, PasswordChangeForm
from django.contrib.auth.signals import user_logged_in, user_login_failed
from django.contrib.auth.views import PasswordChangeView
from django.core import signing
from django.db.models import QuerySet, Sum
from django.db.models.signals import post_delete
from django.dispatch import receiver
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.utils import timezone
from django.utils.crypto import constant_time_compare, salted_hmac
from django.utils.translation import ngettext
from django.views.decorators.debug import sensitive_variables

from core.client_address import client_address_group

logger = logging.getLogger("goq.signin")

KNOWN_BROWSER_SALT = "goq.signin.known-browser"
KNOWN_BROWSER_MAX_AGE = timedelta(days=90)
KNOWN_BROWSER_ACCOUNTS = 5  # accounts remembered per browser
# How a known browser's failures are kept in axes' user-agent column.
KNOWN_BROWSER_MARK = "known browser "


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


# --- What the person locked out sees -----------------------------------------------


def lockout_ends_at(request, credentials=None):
    """When this request's lock lifts: each counted group of failures (the account, the
    address, the browser) stays locked until enough of its failures are older than the
    cool-off. Axes keeps one row per name, address and browser, timed by its last
    failure."""
    cool_off = get_cool_off(request)
    ends = None
    for group in counted_groups(request, credentials):
        rows = list(group.attempts.order_by("attempt_time").values_list(
            "attempt_time", "failures_since_start"
        ))
        remaining = sum(count for _, count in rows)
        for attempt_time, count in rows:
            if remaining < group.limit:
                break
            remaining -= count
            ends = max(ends or attempt_time + cool_off, attempt_time + cool_off)
    return ends or (getattr(request, "axes_attempt_time", None) or timezone.now()) + cool_off


def lockout_error(request, credentials=None) -> forms.ValidationError:
    ends = lockout_ends_at(request, credentials)
    minutes = max(1, math.ceil((ends - timezone.now()).total_seconds() / 60))
    message = ngettext(
        "Too many failed sign-in attempts. For your security, signing in is locked until "
        "%(time)s (%(minutes)d minute from now). To be unlocked sooner, contact GoQ support.",
        "Too many failed sign-in attempts. For your security, signing in is locked until "
        "%(time)s (%(minutes)d minutes from now). To be unlocked sooner, contact GoQ support.",
        minutes,
    )
    return forms.ValidationError(
        message,
        code="locked_out",
        params={"time": timezone.localtime(ends).strftime("%H:%M"), "minutes": minutes},
    )


def lockout_response(request, original_response=None, credentials=None):
    """``AXES_LOCKOUT_CALLABLE``: the door's own page, already showing the lockout
    error (the forms below), answered as 429 with Retry-After."""
    if not isinstance(original_response, HttpResponse) or original_response.status_code != 200:
        # Axes' async path passes no response: show the sign-in page with the error.
        form = LockoutAuthenticationForm(request)
        form.add_error(None, lockout_error(request, credentials))
        original_response = TemplateResponse(
            request, "registration/login.html", {"form": form, "next": ""}
        ).render()
    if not isinstance(credentials, dict):
        credentials = None
    wait = lockout_ends_at(request, credentials) - timezone.now()
    original_response.status_code = 429
    original_response["Retry-After"] = str(max(1, math.ceil(wait.total_seconds())))
    return original_response


class LockoutMixin:
    """Shows the lockout, not "wrong password", when axes refused the try."""

    def _raise_if_locked_out(self, credentials):
        if getattr(self.request, "axes_locked_out", False):
            raise lockout_error(self.request, credentials) from None


class LockoutAuthenticationForm(LockoutMixin, AuthenticationForm):
    def clean(self):
        try:
            return super().clean()
        except forms.ValidationError:
            field = get_user_model().USERNAME_FIELD
            self._raise_if_locked_out({field: self.cleaned_data.get("username")})
            raise


class LockoutAdminAuthenticationForm(LockoutAuthenticationForm, AdminAuthenticationForm):
    pass


class LockoutPasswordChangeForm(LockoutMixin, PasswordChangeForm):
    """Checks the old password through ``authenticate()``, so its guesses count too."""

    def __init__(self, user, *args, request=None, **kwargs):
        self.request = request
        super().__init__(user, *args, **kwargs)

    @sensitive_variables("old_password")
    def clean_old_password(self):
        old_password = self.cleaned_data["old_password"]
        username = self.user.get_username()
        if authenticate(self.request, username=username, password=old_password) != self.user:
            self._raise_if_locked_out({get_user_model().USERNAME_FIELD: username})
            raise forms.ValidationError(
                self.error_messages["password_incorrect"], code="password_incorrect"
            )
        return old_password


class LockoutAdminPasswordChangeForm(LockoutPasswordChangeForm):
    required_css_class = "required"  # as the admin's own form


class LockoutPasswordChangeView(PasswordChangeView):
    form_class = LockoutPasswordChangeForm

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "request": self.request}

    def form_valid(self, form):
        response = super().form_valid(form)
        # The new password voids every known-browser cookie of the account, this
        # browser's too: it stays known.
        remember_browser(self.request, form.user)
        return response


def admin_password_change(request):
    """The admin's password-change page with the counted form (``AdminSite`` builds
    its view with a form that gets no request)."""
    from django.contrib import admin
    from django.urls import reverse

    site = admin.site
    request.current_app = site.name
    return LockoutPasswordChangeView.as_view(
        form_class=LockoutAdminPasswordChangeForm,
        success_url=reverse("admin:password_change_done", current_app=site.name),
        extra_context=site.each_context(request),
    )(request)


# --- Logged events (never a password; the name only as a user id) -------------------


def _user_id(username):
    return (_user_row(username) or (None, False))[0]


def _user_row(username) -> tuple[int, bool] | None:
    """(id, is_staff) of the account ``username`` names, or None."""
    if not username:
        return None
    field = get_user_model().USERNAME_FIELD
    return (
        get_user_model()._default_manager.filter(**{f"{field}__iexact": username})
        .values_list("pk", "is_staff").first()
    )


def _door(request):
    return getattr(request, "path", None)


@receiver(user_login_failed, dispatch_uid="goq.signin.failed")
def log_failure(sender, credentials, request=None, **kwargs):
    if getattr(request, "axes_locked_out", False):
        return  # logged as signin.locked_out
    logger.info(
        "sign-in failed",
        extra={
            "event": "signin.failed",
            "door": _door(request),
            "address": client_address_group(request) if request is not None else None,
        },
    )


@receiver(user_locked_out, dispatch_uid="goq.signin.locked_out")
def log_lockout(sender, request, username, ip_address, **kwargs):
    user_id, staff = _user_row(username) or (None, False)
    logger.warning(
        "sign-in locked out",
        extra={
            "event": "signin.locked_out",
            "door": _door(request),
            "user_id": user_id,
            "staff": staff,
            "address": ip_address,
        },
    )


@receiver(user_logged_in, dispatch_uid="goq.signin.ok")
def remember_device(sender, request, user, **kwargs):
    if request is None:
        return
    remember_browser(request, user)
    logger.info(
        "signed in",
        extra={"event": "signin.ok", "door": _door(request), "user_id": user.pk},
    )


@receiver(post_delete, sender=AccessAttempt, dispatch_uid="goq.signin.reset")
def log_reset(sender, instance, **kwargs):
    """Failures removed before their cool-off ended: a staff unlock (admin, command)
    or a successful sign-in. Expired ones are housekeeping and not logged."""
    cool_off = get_cool_off()
    if cool_off is not None and instance.attempt_time <= timezone.now() - cool_off:
        return
    logger.info(
        "sign-in failures cleared",
        extra={
            "event": "signin.reset",
            "user_id": _user_id(instance.username),
            "address": instance.ip_address,
            "failures": instance.failures_since_start,
        },
    )
