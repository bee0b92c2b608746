"""What GoQ knows of a MakeShop app installation (new API): one row per MakeShop shop.

Imported by ``malls.makeshop.models``; like MakeShop's other tables they keep the
``malls`` app label and its migrations.
"""

import uuid

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from malls.fields import EncryptedSecretField
from malls.makeshop import api

from . import checks  # noqa: F401  (registers the start-up check with the models)

SHOP_ID_MAX_LENGTH = api.SHOP_ID_MAX_LENGTH


class MakeShopAppInstallation(models.Model):
    """GoQ's app installed in one MakeShop shop, with the shop's permanent token.

    MakeShop's install webhook carries only its ``shop_id``, so an installation is
    created unclaimed (``connection`` empty) and is linked to a GoQ shop only with
    proof that the GoQ shop controls that MakeShop shop, or by staff (see
    ``malls.makeshop.app.installations``). The token is encrypted bound to this row
    and is trusted only once it has worked (state ``verified``); ``token_version``
    is bumped by every install, so a verification that raced a re-install is not
    recorded against the new token.
    """

    class State(models.TextChoices):
        INSTALLED = "installed", pgettext_lazy("app installation", "Installed, not yet verified")
        VERIFIED = "verified", pgettext_lazy("app installation", "Installed, verified")
        REJECTED = "rejected", pgettext_lazy("app installation", "Token rejected by MakeShop")
        UNREACHABLE = "unreachable", pgettext_lazy(
            "app installation", "Could not be verified yet"
        )
        UNINSTALLED = "uninstalled", pgettext_lazy("app installation", "Uninstalled")

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    shop_id = models.CharField(_("MakeShop shop ID"), max_length=SHOP_ID_MAX_LENGTH, unique=True)
    token = EncryptedSecretField(_("app token"))
    token_version = models.PositiveIntegerField(default=0, editable=False)
    plan_id = models.CharField(_("plan"), max_length=100, blank=True, default="")
    app_name = models.CharField(_("app name"), max_length=200, blank=True, default="")
    state = models.CharField(
        _("installation state"), max_length=20, choices=State.choices,
        default=State.INSTALLED, db_index=True,
    )
    installed_at = models.DateTimeField(_("installed at"), null=True, blank=True)
    uninstalled_at = models.DateTimeField(_("uninstalled at"), null=True, blank=True)
    last_checked_at = models.DateTimeField(_("last checked at"), null=True, blank=True)
    verified_at = models.DateTimeField(_("last verified at"), null=True, blank=True)
    failure_reason = models.CharField(_("failure reason"), max_length=40, blank=True, default="")
    makeshop_message = models.CharField(
        _("MakeShop's message"), max_length=500, blank=True, default=""
    )
    last_update_at = models.DateTimeField(
        _("last update notification"), null=True, blank=True, editable=False
    )
    # A repeat install's new token waits here until it has worked for this shop; the
    # verified token above keeps serving meanwhile (``installations.store_installation``).
    pending_token = EncryptedSecretField(_("new app token, not yet verified"))
    pending_since = models.DateTimeField(_("new token received at"), null=True, blank=True)
    # An uninstall reported while the token still worked: asked of MakeShop first.
    uninstall_reported_at = models.DateTimeField(
        _("uninstall reported at"), null=True, blank=True
    )
    # Linking (``linking``): when MakeShop last accepted the linked shop's legacy
    # credential for the link, and when the link was held because it no longer does.
    link_proved_at = models.DateTimeField(_("link proved at"), null=True, blank=True)
    link_held_at = models.DateTimeField(_("link held since"), null=True, blank=True)

    connection = models.OneToOneField(
        "malls.MakeShopConnection", on_delete=models.SET_NULL, null=True, blank=True,
        related_name="app_installation", verbose_name=_("MakeShop connection"),
    )
    linked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
        related_name="+", verbose_name=_("linked by"),
    )
    linked_at = models.DateTimeField(_("linked at"), null=True, blank=True)

    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        app_label = "malls"
        verbose_name = _("MakeShop app installation")
        verbose_name_plural = _("MakeShop app installations")
        ordering = ["shop_id"]
        permissions = [
            ("assign_makeshopappinstallation",
             _("Can assign a MakeShop app installation to a shop, or take it back")),
        ]
        indexes = [
            models.Index(
                fields=["created_at"], name="app_install_unclaimed",
                condition=models.Q(connection__isnull=True),
            ),
        ]

    def __str__(self):
        return self.shop_id

    @property
    def is_unclaimed(self) -> bool:
        return self.connection_id is None

    @property
    def is_usable(self) -> bool:
        """Whether the token may be used for the linked shop: it has worked, is still held,
        and the link is not held for staff."""
        return (self.state == self.State.VERIFIED and self.connection_id is not None
                and self.link_held_at is None)


class AppInstallationEvent(models.Model):
    """History of one installation, claimed or not.

    ``ChangeRecord`` belongs to a GoQ shop, and an unclaimed installation has none
    yet; its events are kept here, and events after linking are written to the
    shop's ``ChangeRecord`` history as well. Never holds a token.
    """

    class Source(models.TextChoices):
        WEBHOOK = "webhook", _("MakeShop app webhook")
        ADMIN = "admin", _("Staff admin")
        TASK = "task", _("Background job")
        COMMAND = "command", _("Command")
        MERCHANT = "merchant", _("Merchant screens")

    installation = models.ForeignKey(
        MakeShopAppInstallation, on_delete=models.CASCADE, related_name="events",
        verbose_name=_("MakeShop app installation"),
    )
    at = models.DateTimeField(_("at"), auto_now_add=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
        related_name="+", verbose_name=_("by"),
    )
    source = models.CharField(_("through"), max_length=20, choices=Source.choices)
    action = models.CharField(_("action"), max_length=40)
    changes = models.JSONField(_("changes"), default=dict, blank=True)

    class Meta:
        app_label = "malls"
        verbose_name = _("app installation event")
        verbose_name_plural = _("app installation events")
        ordering = ["-at", "-pk"]
        indexes = [models.Index(fields=["installation", "-at"], name="app_event_recent")]

    def __str__(self):
        return f"{self.at:%Y-%m-%d %H:%M} {self.action}"


class AppWebhookReceipt(models.Model):
    """One accepted app webhook as it arrived: what it was, never what it said.

    Kept for staff (``malls.makeshop.app.receipts``): the kind, the order numbers read,
    whether the body's shape was recognised, the names of the signature headers that
    came with it, and the shape (key names, types and sizes, never values). Never
    holds a token or any other value of the body but order numbers and the shop ID.
    """

    class Kind(models.TextChoices):
        INSTALL = "install", _("Install")
        UNINSTALL = "uninstall", _("Uninstall")
        ORDERS = "orders", _("Order update")
        RECONSENT = "reconsent", _("Re-consent to shop data use")

    installation = models.ForeignKey(
        MakeShopAppInstallation, on_delete=models.CASCADE, null=True, blank=True,
        related_name="receipts", verbose_name=_("MakeShop app installation"),
    )
    received_at = models.DateTimeField(_("received at"), default=timezone.now)
    kind = models.CharField(_("webhook"), max_length=20, choices=Kind.choices)
    shop_id = models.CharField(
        _("MakeShop shop ID"), max_length=SHOP_ID_MAX_LENGTH, blank=True, default=""
    )
    order_numbers = models.JSONField(_("order numbers"), default=list, blank=True)
    recognised = models.BooleanField(_("shape recognised"), default=True)
    shape = models.JSONField(_("shape (key names and sizes)"), default=dict, blank=True)
    signature_headers = models.JSONField(
        _("signature headers received"), default=list, blank=True
    )
    status = models.PositiveSmallIntegerField(_("GoQ's answer"), default=200)
    header_names = models.JSONField(_("header names received"), default=list, blank=True)

    class Meta:
        app_label = "malls"
        verbose_name = _("app webhook receipt")
        verbose_name_plural = _("app webhook receipts")
        ordering = ["-received_at", "-pk"]
        indexes = [
            models.Index(fields=["installation", "-id"], name="app_receipt_recent"),
            models.Index(fields=["-received_at"], name="app_receipt_unrecognised",
                         condition=models.Q(recognised=False)),
        ]

    def __str__(self):
        return f"{self.received_at:%Y-%m-%d %H:%M} {self.kind} {self.shop_id}"
