"""A Rakuten shop's RMS WEB SERVICE keys, and what RMS last said of them."""

from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from malls.fields import EncryptedSecretField
from malls.models import Connection

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


class RakutenConnection(Connection):
    """The RMS keys of a Rakuten shop, and what RMS last said of them.

    On the core's ``Connection`` (UUID key the encrypted keys are bound to, the last
    verdict's times, the edit version). ``expires_on`` and ``reported_shop`` are RMS's
    facts: never typed by anyone.
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
    rakuten_message = models.CharField(_("Rakuten's message"), max_length=500, blank=True)
    # When a new licenseKey (or serviceSecret) was saved: RMS may refuse a fresh key for
    # up to about 90 minutes (malls.rakuten.connections).
    key_changed_at = models.DateTimeField(_("key changed at"), null=True, blank=True)
    expires_on = models.DateField(_("licenseKey expires on"), null=True, blank=True, db_index=True)
    reported_shop = models.CharField(
        _("shop reported by Rakuten"), max_length=api.SHOP_URL_MAX_LENGTH, blank=True
    )
    # The expiry warnings already sent for ``expires_on`` (days before: 14, 7, 3, 1, 0).
    warnings_sent = models.JSONField(_("expiry warnings sent"), default=list, blank=True)

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
