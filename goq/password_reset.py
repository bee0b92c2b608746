"""Self-service password reset: limited, quiet about who is registered, and sent apart
from the request.

- Limits (``malls.ratelimits``, per hour, in the database so they hold across
  machines): per client address (``PASSWORD_RESET_MAX_PER_ADDRESS``), per e-mail
  address asked for (``PASSWORD_RESET_MAX_PER_EMAIL``, counted under a keyed hash, not
  the address) and for everyone together (``PASSWORD_RESET_MAX_PER_HOUR``): nobody can
  mail-bomb a merchant or spend the mail relay's quota through GoQ.
- Every request gets the same answer, whether the address is registered or not, over
  a limit or not; the request does the same work either way (the counters and one
  queued job) and never talks to the mail server, so its time says nothing either.
- The background job (``send_password_reset``) looks the address up and e-mails each
  active account with a usable password, through the alert mail settings (``MAILERS``,
  ``ALERTS_FROM_EMAIL``) but not the alert outbox: a reset link is worth sending once,
  not retried for hours. The job holds the address and language only; the link is made
  when the mail is sent, so no token is ever stored.
- Setting a new password through the e-mailed link clears the account's sign-in
  failures and signs in on that browser, which becomes a known browser: the owner of an
  account an attacker keeps locked for new browsers always has a way in
  (``goq.signin``).
"""

import hashlib
import logging
import smtplib

from axes.models import AccessAttempt
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.forms import PasswordResetForm
from django.contrib.auth.tokens import default_token_generator
from django.contrib.auth.views import PasswordResetConfirmView, PasswordResetView
from django.core.mail import EmailMessage, mailers
from django.http import HttpResponseRedirect
from django.tasks import task
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import translation
from django.utils.crypto import salted_hmac
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode

from core.client_address import client_address_group
from core.text import one_line
from malls import ratelimits
from malls.alerts.emails import absolute_url

from .signin import normalise_username

logger = logging.getLogger("goq.password_reset")

WINDOW_SECONDS = 3600


def _email_key(email: str) -> str:
    # Keyed: a plain hash of an e-mail address is easy to reverse by guessing.
    digest = salted_hmac(
        "goq.password_reset.email", email.strip().casefold(), algorithm="sha256"
    ).hexdigest()
    return f"password-reset:email:{digest}"


def _address_key(request) -> str:
    address = client_address_group(request) or "unknown"
    return "password-reset:address:" + hashlib.sha256(address.encode()).hexdigest()


def within_limits(request, email: str) -> bool:
    """Counts one request against all three limits (always all three, so the work does
    not depend on which one is reached); False when any is over."""
    hits = [
        ratelimits.hit(_address_key(request), limit=settings.PASSWORD_RESET_MAX_PER_ADDRESS,
                       window_seconds=WINDOW_SECONDS),
        ratelimits.hit(_email_key(email), limit=settings.PASSWORD_RESET_MAX_PER_EMAIL,
                       window_seconds=WINDOW_SECONDS),
        ratelimits.hit("password-reset:all", limit=settings.PASSWORD_RESET_MAX_PER_HOUR,
                       window_seconds=WINDOW_SECONDS),
    ]
    return all(hits)


class LimitedPasswordResetView(PasswordResetView):
    """Django's reset page, queuing the e-mail within the limits instead of sending it."""

    def form_valid(self, form):
        email = form.cleaned_data["email"]
        allowed = within_limits(self.request, email)
        if allowed:
            send_password_reset.enqueue(email, translation.get_language() or "ja")
        logger.info(
            "password reset requested",
            extra={
                "event": "password_reset.requested" if allowed else "password_reset.limited",
                "address": client_address_group(self.request),
            },
        )
        return HttpResponseRedirect(self.get_success_url())


class UnlockingPasswordResetConfirmView(PasswordResetConfirmView):
    """Setting a new password from the e-mailed link proves the mailbox: the account's
    sign-in failures are cleared and the person is signed in on this browser."""

    post_reset_login = True
    post_reset_login_backend = "django.contrib.auth.backends.ModelBackend"

    def form_valid(self, form):
        AccessAttempt.objects.filter(
            username=normalise_username(form.user.get_username())
        ).delete()
        return super().form_valid(form)


def reset_email(user, language: str) -> EmailMessage:
    """The reset e-mail for ``user``: a one-time link under GOQ_BASE_URL."""
    link = absolute_url(
        reverse(
            "password_reset_confirm",
            kwargs={
                "uidb64": urlsafe_base64_encode(force_bytes(user.pk)),
                "token": default_token_generator.make_token(user),
            },
        )
    )
    context = {"username": one_line(user.get_username()), "link": link,
               "hours": settings.PASSWORD_RESET_TIMEOUT // 3600}
    with translation.override(language):
        subject = render_to_string("registration/password_reset_subject.txt", context)
        body = render_to_string("registration/password_reset_email.txt", context)
    return EmailMessage(
        subject=one_line(subject),
        body=body,
        from_email=settings.ALERTS_FROM_EMAIL,
        to=[getattr(user, get_user_model().get_email_field_name())],
        headers={"Auto-Submitted": "auto-generated", "X-Auto-Response-Suppress": "All"},
    )


@task()
def send_password_reset(email: str, language: str) -> dict:
    """E-mail a reset link to each account registered under ``email`` (none: nothing)."""
    users = list(PasswordResetForm().get_users(email))
    sent = 0
    for user in users:
        try:
            mailers.default.send_messages([reset_email(user, language)])
            sent += 1
        except (smtplib.SMTPException, OSError) as exc:
            # Not retried: the person can ask again. The class name only, never the
            # server's text.
            logger.warning(
                "password reset e-mail not sent (%s)", type(exc).__name__,
                extra={"event": "password_reset.failed", "user_id": user.pk},
            )
    return {"sent": sent}
