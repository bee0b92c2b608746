"""Sign-in limits on every door that checks a password, through django-axes.

Axes' backend runs first in ``AUTHENTICATION_BACKENDS``, so every ``authenticate()``
is counted: the merchant sign-in, the staff sign-in (``/admin/login/``) and both
password-change forms (which here check the old password through ``authenticate()``
too). This module says *what* is counted and what the person locked out sees.

What is counted (``lockout_parameters``), within ``SIGNIN_LOCKOUT_SECONDS`` of the last
failure, ``SIGNIN_MAX_FAILURES`` allowed:

- per account, whatever address the tries come from, and per client address, whatever
  account they name: rotating addresses or names gives no extra guesses. The account
  is the user name exactly as Django reads it (NFKC, so any compatibility form of a
  name is the same account), case-folded; the address is an IPv6 /64 or one IPv4
  address, behind our trusted proxies only (``core.client_address``).
- on a browser the account signed in on before (a signed "known device" cookie, as
  OWASP suggests against lockout abuse), per account *and* address only: an attacker
  elsewhere who spends the account's failures locks out new browsers, not the
  merchant's own. Their own failures still count towards the account's limit.

Tries while locked out are not counted and do not extend the lock, so the page tells
the real time it ends. Staff unlock an account in the admin (Sign-in limits > access
attempts: delete) or with ``manage.py axes_reset_username NAME``.
"""

import logging
import math
import unicodedata
from datetime import timedelta

from axes.handlers.proxy import AxesProxyHandler
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
from django.db.models.signals import post_delete
from django.dispatch import receiver
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.utils import timezone
from django.utils.translation import ngettext
from django.views.decorators.debug import sensitive_variables

from core.client_address import client_address_group

logger = logging.getLogger("goq.signin")

KNOWN_DEVICE_SALT = "goq.signin.known-device"
KNOWN_DEVICE_MAX_AGE = timedelta(days=90)
KNOWN_DEVICE_ACCOUNTS = 5  # accounts remembered per browser


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
    """``AXES_LOCKOUT_PARAMETERS``: see the module docstring."""
    if isinstance(request_or_attempt, HttpRequest) and is_known_device(
        request_or_attempt, normalised_username(request_or_attempt, credentials)
    ):
        return [["username", "ip_address"]]
    return [["username"], ["ip_address"]]


# --- Known devices ----------------------------------------------------------------


def known_device_cookie_name() -> str:
    # "__Host-" cookies need Secure; the same rule as the session cookie.
    return "__Host-signin_device" if settings.SESSION_COOKIE_SECURE else "signin_device"


def known_accounts(request) -> list[str]:
    value = request.COOKIES.get(known_device_cookie_name())
    if not value:
        return []
    try:
        accounts = signing.loads(
            value, salt=KNOWN_DEVICE_SALT, max_age=KNOWN_DEVICE_MAX_AGE
        )
    except signing.BadSignature:
        return []
    return [name for name in accounts if isinstance(name, str)] if isinstance(
        accounts, list
    ) else []


def is_known_device(request, username: str | None) -> bool:
    return bool(username) and username in known_accounts(request)


class KnownDeviceMiddleware:
    """Sets the known-device cookie on the answer to a successful sign-in."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        accounts = getattr(request, "signin_known_accounts", None)
        if accounts is not None:
            response.set_cookie(
                known_device_cookie_name(),
                signing.dumps(accounts, salt=KNOWN_DEVICE_SALT),
                max_age=int(KNOWN_DEVICE_MAX_AGE.total_seconds()),
                secure=settings.SESSION_COOKIE_SECURE,
                httponly=True,
                samesite="Lax",
            )
        return response


# --- What the person locked out sees -----------------------------------------------


def lockout_ends_at(request, credentials=None):
    """When this request's lock lifts: each counted group of failures (the account, the
    address) stays locked until enough of its failures are older than the cool-off.
    Axes keeps one row per name, address and browser, timed by its last failure."""
    limit = get_failure_limit(request, credentials)
    cool_off = get_cool_off(request)
    ends = None
    for attempts in AxesProxyHandler.get_implementation().get_user_attempts(
        request, credentials
    ):
        rows = list(attempts.order_by("attempt_time").values_list(
            "attempt_time", "failures_since_start"
        ))
        remaining = sum(count for _, count in rows)
        for attempt_time, count in rows:
            if remaining < limit:
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
    if not username:
        return None
    field = get_user_model().USERNAME_FIELD
    return (
        get_user_model()._default_manager.filter(**{f"{field}__iexact": username})
        .values_list("pk", flat=True).first()
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
    logger.warning(
        "sign-in locked out",
        extra={
            "event": "signin.locked_out",
            "door": _door(request),
            "user_id": _user_id(username),
            "address": ip_address,
        },
    )


@receiver(user_logged_in, dispatch_uid="goq.signin.ok")
def remember_device(sender, request, user, **kwargs):
    if request is None:
        return
    name = normalise_username(user.get_username())
    accounts = [name] + [other for other in known_accounts(request) if other != name]
    request.signin_known_accounts = accounts[:KNOWN_DEVICE_ACCOUNTS]
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
