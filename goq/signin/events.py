"""Logged sign-in events (never a password; the name only as a user id)."""

import logging

from axes.helpers import get_cool_off
from axes.models import AccessAttempt
from axes.signals import user_locked_out
from django.contrib.auth import get_user_model
from django.contrib.auth.signals import user_logged_in, user_login_failed
from django.db.models.signals import post_delete
from django.dispatch import receiver
from django.utils import timezone

from core.client_address import client_address_group

from .devices import remember_browser

logger = logging.getLogger("goq.signin")

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
