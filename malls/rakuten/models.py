"""A Rakuten shop's RMS WEB SERVICE keys, and what RMS last said of them."""

import uuid

from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from malls.crypto import DecryptionError
from malls.fields import EncryptedSecretField
from malls.models import SecretState

from . import api
from .verdicts import CHECK_CHOICES, KEY_FORMAT_MESSAGES, SHOP_URL_MESSAGE


def validate_shop_url(value: str) -> None:
    """The 店舗URL is a bare shop code (see ``api.SHOP_URL_PATTERN``)."""
    if api.normalize_shop_url(value) != value:
        raise ValidationError(SHOP_URL_MESSAGE, code="invalid_shop_url")


def clean_key(value: str) -> str:
    """A typed serviceSecret or licenseKey, trimmed, or a ``ValidationError``: the one
    rule for the form, the services and the admin."""
    try:
        return api.clean_key(value)
    except api.InvalidKey as error:
        raise ValidationError(
            KEY_FORMAT_MESSAGES[error.problem],
            code=f"key_{error.problem}",
            params={"limit": api.KEY_MAX_LENGTH},
        ) from None


class RakutenConnection(models.Model):
    """The RMS keys of a Rakuten shop, and what RMS last said of them.

    The two keys are encrypted at rest, bound to this row (``malls.crypto``), so the
    primary key is a UUID that exists before the INSERT. ``version`` is bumped on every
    change by a person, so a stale form cannot overwrite a newer save. ``expires_on``
    and ``reported_shop`` are RMS's facts: never typed by anyone.
    """

    class Status(models.TextChoices):
        UNSET = "unset", pgettext_lazy("verification", "Not configured")
        PENDING_ACTIVATION = "pending_activation", pgettext_lazy(
            "verification", "Waiting for the new key to become active"
        )
        VERIFIED = "verified", pgettext_lazy("verification", "Verified")
        REJECTED = "rejected", pgettext_lazy("verification", "Rejected by Rakuten")
        UNREACHABLE = "unreachable", pgettext_lazy("verification", "Rakuten could not be reached")
        UNVERIFIED = "unverified", pgettext_lazy("verification", "Not yet verified")

    Check = api.Check

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    shop = models.OneToOneField(
        "malls.MallShop", on_delete=models.CASCADE, related_name="rakuten",
        verbose_name=_("mall shop"),
    )
    shop_url = models.CharField(
        _("shop URL (shop code)"),
        max_length=api.SHOP_URL_MAX_LENGTH,
        blank=True,
        db_index=True,
        validators=[validate_shop_url],
    )
    service_secret = EncryptedSecretField(_("serviceSecret"))
    license_key = EncryptedSecretField(_("licenseKey"))

    status = models.CharField(
        _("verification status"), max_length=20, choices=Status.choices, default=Status.UNSET,
        db_index=True,
    )
    failed_check = models.CharField(
        _("failing check"), max_length=20, choices=CHECK_CHOICES, blank=True
    )
    failure_reason = models.CharField(_("failure reason"), max_length=40, blank=True)
    rakuten_message = models.CharField(_("Rakuten's message"), max_length=500, blank=True)
    last_checked_at = models.DateTimeField(_("last checked at"), null=True, blank=True)
    verified_at = models.DateTimeField(_("last verified at"), null=True, blank=True)
    failing_since = models.DateTimeField(_("failing since"), null=True, blank=True)
    # When a new licenseKey (or serviceSecret) was saved: RMS may refuse a fresh key for
    # up to about 90 minutes (malls.rakuten.connections).
    key_changed_at = models.DateTimeField(_("key changed at"), null=True, blank=True)
    expires_on = models.DateField(_("licenseKey expires on"), null=True, blank=True, db_index=True)
    reported_shop = models.CharField(
        _("shop reported by Rakuten"), max_length=api.SHOP_URL_MAX_LENGTH, blank=True
    )
    # The expiry warnings already sent for ``expires_on`` (days before: 14, 7, 3, 1, 0).
    warnings_sent = models.JSONField(_("expiry warnings sent"), default=list, blank=True)

    version = models.PositiveIntegerField(_("version"), default=1, editable=False)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    SECRET_FIELDS = ("service_secret", "license_key")

    class Meta:
        verbose_name = _("Rakuten connection")
        verbose_name_plural = _("Rakuten connections")
        indexes = [
            models.Index(fields=["status", "key_changed_at"], name="rakuten_status_key_changed"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(version__gte=1), name="rakuten_version_positive"
            ),
        ]

    def __str__(self):
        return self.shop_url or str(_("(no shop URL yet)"))

    def secret_state(self, name: str) -> SecretState:
        """How a saved key may be shown: never its value, at most its last 4 characters."""
        if name not in self.SECRET_FIELDS:
            raise ValueError(name)
        try:
            value = getattr(self, name)
        except DecryptionError:
            return SecretState(SecretState.UNREADABLE)
        if not value:
            return SecretState(SecretState.UNSET)
        return SecretState(SecretState.SET, value.last4)

    @property
    def is_broken(self) -> bool:
        """Verified once, rejected now: something changed on Rakuten's side."""
        return self.status == self.Status.REJECTED and self.verified_at is not None
