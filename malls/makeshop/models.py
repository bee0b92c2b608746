"""MakeShop's tables: a shop's legacy API settings, the legacy API's evidence of
retirement, update notifications and order refresh requests (the new API's
installations are in ``app.models``).

They keep the ``malls`` app label (and its migrations and table names): the tables
were created there before MakeShop became a package of its own, and moving them
would only rename tables. ``malls.makeshop`` is an installed app, so Django imports
this module when the models load; generic code never imports it.
"""

import secrets

from django.core.validators import RegexValidator
from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from malls.fields import EncryptedSecretField
from malls.models import Connection, MallShop
from malls.providers import RAW_COMMAND_MAX_LENGTH, NotificationKind

from . import api as makeshop_api
from .verdicts import CHECK_CHOICES

SHOP_ID_MAX_LENGTH = makeshop_api.SHOP_ID_MAX_LENGTH

# The rule is MakeShop's (see makeshop.api): it keeps a shop ID from changing the shape
# of a URL or a query string we send to MakeShop.
validate_makeshop_shop_id = RegexValidator(
    rf"\A{makeshop_api.SHOP_ID_PATTERN}\Z",
    _("Enter the shop ID you use to sign in to MakeShop: letters, digits, '-' or '_'."),
    code="invalid_shop_id",
)


def new_notification_token() -> str:
    """An unguessable token for a shop's update-notification URL (256 bits)."""
    return secrets.token_urlsafe(32)


class MakeShopConnection(Connection):
    """The MakeShop API settings of a MakeShop shop, and what MakeShop last said of them.

    The three secrets are encrypted at rest, bound to this row (see ``malls.crypto``);
    the primary key is a UUID so that it exists before the INSERT. ``version`` is
    bumped on every change by a person, so a stale form cannot overwrite a newer save.
    """

    class Status(models.TextChoices):
        UNSET = "unset", pgettext_lazy("verification", "Not configured")
        PENDING = "pending", pgettext_lazy("verification", "Verification pending")
        VERIFIED = "verified", pgettext_lazy("verification", "Verified")
        REJECTED = "rejected", pgettext_lazy("verification", "Rejected by MakeShop")
        UNVERIFIED = "unverified", pgettext_lazy("verification", "Not yet verified")

    Check = makeshop_api.Check  # the checks, in order; their names are in makeshop.verdicts

    shop = models.OneToOneField(
        MallShop, on_delete=models.CASCADE, related_name="makeshop", verbose_name=_("mall shop")
    )
    # Unique only among connections MakeShop verified for it (see Meta.constraints):
    # a claim MakeShop never verified keeps the ID from no one. NULL means "no shop ID".
    makeshop_shop_id = models.CharField(  # noqa: DJ001
        _("MakeShop shop ID"),
        max_length=SHOP_ID_MAX_LENGTH,
        db_index=True,
        null=True,
        blank=True,
        validators=[validate_makeshop_shop_id],
    )
    password = EncryptedSecretField(_("password"))
    order_auth_code = EncryptedSecretField(_("order data auth code"))
    product_auth_code = EncryptedSecretField(_("product data auth code"))

    status = models.CharField(
        _("verification status"),
        max_length=20,
        choices=Status.choices,
        default=Status.UNSET,
        db_index=True,
    )
    failed_check = models.CharField(
        _("failing check"), max_length=30, choices=CHECK_CHOICES, blank=True
    )
    makeshop_message = models.CharField(_("MakeShop's message"), max_length=500, blank=True)
    # (``verified_at``, from Connection: MakeShop accepted the settings for this shop ID;
    # cleared when the ID changes.) When each credential was last accepted by MakeShop;
    # cleared when it changes, so a
    # save re-checks only what changed since the last success.
    password_verified_at = models.DateTimeField(null=True, blank=True, editable=False)
    order_auth_code_verified_at = models.DateTimeField(null=True, blank=True, editable=False)
    product_auth_code_verified_at = models.DateTimeField(null=True, blank=True, editable=False)

    notification_token = models.CharField(
        _("notification token"), max_length=64, unique=True, default=new_notification_token,
        editable=False,
    )
    previous_notification_token = models.CharField(
        max_length=64, blank=True, default="", editable=False
    )
    previous_token_expires_at = models.DateTimeField(null=True, blank=True, editable=False)

    # Denormalised from NotificationEvent so lists need no extra query per shop.
    last_notification_at = models.DateTimeField(
        _("last update notification"), null=True, blank=True, editable=False
    )
    last_notification_kind = models.CharField(
        _("last notification event"), max_length=30, blank=True, default="", editable=False
    )


    SECRET_FIELDS = ("password", "order_auth_code", "product_auth_code")

    class Meta:
        app_label = "malls"
        verbose_name = _("MakeShop connection")
        verbose_name_plural = _("MakeShop connections")
        permissions = [
            ("verify_makeshopconnection", _("Can queue re-verification with MakeShop"))
        ]
        indexes = [
            models.Index(fields=["status", "verified_at"], name="makeshop_status_verified"),
            models.Index(fields=["last_checked_at"], name="makeshop_last_checked"),
            models.Index(
                fields=["failing_since"],
                name="makeshop_failing_since",
                condition=models.Q(failing_since__isnull=False),
            ),
            # A retired token is looked up during its grace period only.
            models.Index(
                fields=["previous_notification_token"],
                name="makeshop_previous_token",
                condition=~models.Q(previous_notification_token=""),
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(version__gte=1), name="makeshop_version_positive"
            ),
            models.UniqueConstraint(
                fields=["makeshop_shop_id"],
                condition=models.Q(verified_at__isnull=False),
                name="makeshop_shop_id_verified_once",
                violation_error_message=_(
                    "Another connection MakeShop verified already holds this shop ID."
                ),
            ),
        ]

    def __str__(self):
        return self.makeshop_shop_id or str(_("(no shop ID yet)"))


class MakeShopAnswerEvidence(models.Model):
    """A MakeShop shop's recent answers that were not an API's (404/410, web pages).

    Whether a page means a passing block or the legacy API's closure shows only over
    several answers, from any process (``legacy.signs``, rule "web-pages-again").
    """

    makeshop_shop_id = models.CharField(max_length=SHOP_ID_MAX_LENGTH, primary_key=True)
    not_api_streak = models.PositiveIntegerField(default=0)
    not_api_at = models.FloatField(default=0.0, db_index=True)

    class Meta:
        app_label = "malls"
        verbose_name = _("MakeShop answer evidence")
        verbose_name_plural = _("MakeShop answer evidence")

    def __str__(self):
        return self.makeshop_shop_id


class NotificationEvent(models.Model):
    """An update notification (更新通知) MakeShop sent for one of a shop's orders.

    A notification is only a hint that an order changed: it is recorded, repeats of
    the same event within ``DEDUP_WINDOW_SECONDS`` are folded into one row (the
    unique constraint makes that hold under concurrent deliveries), and the order is
    marked for a refresh from MakeShop's order API.
    """

    DEDUP_WINDOW_SECONDS = 600

    Kind = NotificationKind  # shared with the mall packages through malls.providers

    connection = models.ForeignKey(
        MakeShopConnection, on_delete=models.CASCADE, related_name="notifications",
        verbose_name=_("MakeShop connection"),
    )
    kind = models.CharField(_("event"), max_length=30, choices=Kind.choices)
    raw_command = models.CharField(
        _("command as sent"), max_length=RAW_COMMAND_MAX_LENGTH, blank=True
    )
    order_number = models.CharField(_("order number"), max_length=64, blank=True)
    received_at = models.DateTimeField(_("received at"), db_index=True)
    sender_address = models.GenericIPAddressField(_("sender address"), null=True, blank=True)
    # The [SHOPID] MakeShop sent when it differs from the saved shop ID ("" when it
    # matches or none came): recorded for staff, never a reason to drop the notification.
    received_shop_id = models.CharField(
        _("other shop ID received"), max_length=SHOP_ID_MAX_LENGTH, blank=True, default=""
    )
    dedup_window = models.BigIntegerField(editable=False)
    repeats = models.PositiveIntegerField(_("repeats"), default=0)

    class Meta:
        app_label = "malls"
        verbose_name = _("update notification")
        verbose_name_plural = _("update notifications")
        ordering = ["-received_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["connection", "kind", "order_number", "dedup_window"],
                name="notification_dedup",
            )
        ]
        indexes = [models.Index(fields=["connection", "-received_at"], name="notification_recent")]

    def __str__(self):
        return f"{self.get_kind_display()} {self.order_number}"


class OrderRefreshRequest(models.Model):
    """An order MakeShop told us about and the order import must fetch again.

    The seam to the order import (not part of this product yet): it reads open
    requests, fetches each order with ``cmd=get&ordernum=...``, and sets
    ``fulfilled_at``.
    """

    connection = models.ForeignKey(
        MakeShopConnection, on_delete=models.CASCADE, related_name="refresh_requests"
    )
    order_number = models.CharField(_("order number"), max_length=64)
    requested_at = models.DateTimeField(_("requested at"))
    fulfilled_at = models.DateTimeField(_("fulfilled at"), null=True, blank=True)

    class Meta:
        app_label = "malls"
        verbose_name = _("order refresh request")
        verbose_name_plural = _("order refresh requests")
        constraints = [
            models.UniqueConstraint(
                fields=["connection", "order_number"],
                condition=models.Q(fulfilled_at__isnull=True),
                name="one_open_refresh_per_order",
            )
        ]

    def __str__(self):
        return self.order_number



from .app.models import (  # noqa: E402,F401,I001
    AppInstallationEvent,
    AppWebhookReceipt,
    MakeShopAppInstallation,
)
