"""What the person locked out sees, and the counted sign-in and password-change
forms and views for every door."""

import logging
import math

from axes.helpers import get_cool_off
from django import forms
from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.auth import authenticate, get_user_model
from django.contrib.auth.forms import AuthenticationForm, PasswordChangeForm
from django.contrib.auth.views import PasswordChangeView
from django.http import HttpResponse
from django.template.response import TemplateResponse
from django.utils import timezone
from django.utils.translation import ngettext
from django.views.decorators.debug import sensitive_variables

from .devices import remember_browser
from .policy import counted_groups

logger = logging.getLogger("goq.signin")

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
