"""Sign-in with a lockout after repeated failures, keyed on user name AND address.

Keying on both means an attacker elsewhere can exhaust only their own attempts: the
merchant, signing in from their own address, is never locked out by them. Counts
live in the database (``malls.ratelimits``), so every web process shares them.
"""

import hashlib
import logging

from django import forms
from django.conf import settings
from django.contrib.auth.forms import AuthenticationForm
from django.utils.translation import gettext_lazy as _

from malls import ratelimits

from .client_address import client_address

logger = logging.getLogger("goq.signin")


class LockoutAuthenticationForm(AuthenticationForm):
    error_messages = {
        **AuthenticationForm.error_messages,
        "locked_out": _(
            "Too many failed sign-in attempts. For your security, wait %(minutes)d minutes "
            "and try again, or reset your password."
        ),
    }

    def _lockout_key(self):
        # Hashed: whatever was typed (NUL bytes, 10 kB) becomes a fixed-size, safe key.
        username = str(self.data.get("username") or "").strip().lower()
        digest = hashlib.sha256(username.encode("utf-8", "replace")).hexdigest()[:32]
        return f"signin:{digest}:{client_address(self.request)}"

    def clean(self):
        key = self._lockout_key()
        window = settings.SIGNIN_LOCKOUT_SECONDS
        if ratelimits.hits_in_window(key, window_seconds=window) >= settings.SIGNIN_MAX_FAILURES:
            logger.warning("sign-in refused: locked out", extra={"event": "signin.locked_out"})
            raise forms.ValidationError(
                self.error_messages["locked_out"],
                code="locked_out",
                params={"minutes": max(1, window // 60)},
            )
        try:
            cleaned = super().clean()
        except forms.ValidationError:
            ratelimits.hit(key, limit=settings.SIGNIN_MAX_FAILURES, window_seconds=window)
            logger.info("sign-in failed", extra={"event": "signin.failed"})
            raise
        # A post missing a field never reached authenticate(): it neither counts as a
        # failure nor clears the failures counted so far.
        if self.get_user() is not None:
            ratelimits.reset(key)
            logger.info("signed in", extra={"event": "signin.ok", "user_id": self.get_user().pk})
        return cleaned
