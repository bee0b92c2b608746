"""The data model: merchants' stores, the malls GoQ connects, each store's mall shops,
and the MakeShop API settings of a MakeShop shop."""

import secrets
import uuid

from django.conf import settings
from django.core.validators import RegexValidator
from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from core.text import validate_single_line

from .crypto import DecryptionError
from .fields import EncryptedSecretField
from .makeshop import api as makeshop_api
from .makeshop.verdicts import CHECK_CHOICES
from .providers import RAW_COMMAND_MAX_LENGTH, NotificationKind

SHOP_ID_MAX_LENGTH = makeshop_api.SHOP_ID_MAX_LENGTH

# The failure reason a verification records for a secret it could not decrypt; lists
# read it without decrypting.
UNREADABLE_REASON = makeshop_api.Reason.UNREADABLE.value

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


class Store(models.Model):
    """A merchant tenant: the unit that owns mall shops and that users belong to."""

    name = models.CharField(_("store name"), max_length=200, validators=[validate_single_line])
    members = models.ManyToManyField(
        settings.AUTH_USER_MODEL, through="Membership", related_name="stores", blank=True
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("store")
        verbose_name_plural = _("stores")
        ordering = ["name", "pk"]

    def __str__(self):
        return self.name


class Membership(models.Model):
    """A user's access to one store; a user may belong to several stores."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships",
        verbose_name=_("user"),
    )
    store = models.ForeignKey(Store, on_delete=models.CASCADE, related_name="memberships")
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("membership")
        verbose_name_plural = _("memberships")
        constraints = [
            models.UniqueConstraint(fields=["user", "store"], name="membership_unique_user_store")
        ]

    def __str__(self):
        return f"{self.user} @ {self.store}"


class Mall(models.Model):
    """A kind of mall GoQ connects to (MakeShop, 楽天市場, ...), kept as data."""

    MAKESHOP = "makeshop"

    code = models.SlugField(_("code"), max_length=40, unique=True)
    name = models.CharField(_("name"), max_length=100)
    name_en = models.CharField(_("English name"), max_length=100)
    sort_order = models.PositiveSmallIntegerField(_("sort order"), default=0)

    class Meta:
        verbose_name = _("mall")
        verbose_name_plural = _("malls")
        ordering = ["sort_order", "code"]

    def __str__(self):
        return self.name


class MallShop(models.Model):
    """One of a store's shops on a mall (出店); a store may run several on the same mall."""

    class OrderRetrieval(models.TextChoices):
        CSV = "csv", _("CSV import")
        API = "api", _("Order retrieval by API")

    class ApplicationStatus(models.TextChoices):
        NOT_APPLIED = "not_applied", pgettext_lazy("API-use application", "Not applied")
        APPLIED = "applied", pgettext_lazy("API-use application", "Applied to MakeShop")
        APPROVED = "approved", pgettext_lazy(
            "API-use application", "Approved, retrieval switched to API"
        )
        WITHDRAWN = "withdrawn", pgettext_lazy("API-use application", "Withdrawn")

    store = models.ForeignKey(
        Store, on_delete=models.CASCADE, related_name="shops", verbose_name=_("store")
    )
    mall = models.ForeignKey(
        Mall, on_delete=models.PROTECT, related_name="shops", verbose_name=_("mall")
    )
    name = models.CharField(_("display name"), max_length=200, validators=[validate_single_line])
    order_retrieval = models.CharField(
        _("order retrieval"),
        max_length=10,
        choices=OrderRetrieval.choices,
        default=OrderRetrieval.CSV,
    )
    application_status = models.CharField(
        _("API-use application"),
        max_length=20,
        choices=ApplicationStatus.choices,
        default=ApplicationStatus.NOT_APPLIED,
        db_index=True,
    )
    application_updated_at = models.DateTimeField(
        _("application updated at"), null=True, blank=True
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("mall shop")
        verbose_name_plural = _("mall shops")
        ordering = ["store", "mall__sort_order", "name", "pk"]
        permissions = [("change_application", _("Can move the API-use application"))]
        indexes = [models.Index(fields=["store", "mall"], name="mallshop_store_mall")]

    def __str__(self):
        return f"{self.store} / {self.mall} / {self.name}"


class MakeShopConnection(models.Model):
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

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
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
    failure_reason = models.CharField(_("failure reason"), max_length=40, blank=True)
    makeshop_message = models.CharField(_("MakeShop's message"), max_length=500, blank=True)
    last_checked_at = models.DateTimeField(_("last checked at"), null=True, blank=True)
    # When MakeShop last accepted the settings for this shop ID; cleared when the ID
    # changes, so it also says "MakeShop verified this connection for this ID".
    verified_at = models.DateTimeField(_("last verified at"), null=True, blank=True)
    failing_since = models.DateTimeField(_("failing since"), null=True, blank=True)
    # When each credential was last accepted by MakeShop; cleared when it changes, so a
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

    version = models.PositiveIntegerField(_("version"), default=1, editable=False)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    SECRET_FIELDS = ("password", "order_auth_code", "product_auth_code")

    class Meta:
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

    def secret_state(self, name: str) -> "SecretState":
        """How a saved secret may be shown: never its value, at most its last 4 characters."""
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
    def has_unreadable_secret(self) -> bool:
        """A secret cannot be decrypted now, or the last verification found one that could not."""
        return self.failure_reason == UNREADABLE_REASON or any(
            self.secret_state(name).state == SecretState.UNREADABLE for name in self.SECRET_FIELDS
        )

    @property
    def is_broken(self) -> bool:
        """Verified once, rejected now: something changed on MakeShop's side."""
        return self.status == self.Status.REJECTED and self.verified_at is not None


class SecretState:
    """What screens may say about a secret: 未設定, 設定済み (…last 4), or 再入力が必要."""

    UNSET = "unset"
    SET = "set"
    UNREADABLE = "unreadable"

    def __init__(self, state: str, last4: str = ""):
        self.state = state
        self.last4 = last4

    @property
    def is_set(self) -> bool:
        return self.state == self.SET

    def __str__(self):
        if self.state == self.SET:
            if self.last4:
                return str(_("Saved (ends in %(last4)s)") % {"last4": self.last4})
            return str(_("Saved"))
        if self.state == self.UNREADABLE:
            return str(_("Must be entered again"))
        return str(_("Not set"))


class MakeShopCallSlot(models.Model):
    """The per-MakeShop-shop call slot that spaces and serialises calls to MakeShop.

    MakeShop allows one call per second per shop and never two at once. Every
    process and machine claims this row with a conditional UPDATE before calling, so
    the database (PostgreSQL in production) is the shared coordinator. The lease
    (``busy_until``) frees the slot if a holder dies mid-call.
    """

    makeshop_shop_id = models.CharField(max_length=SHOP_ID_MAX_LENGTH, primary_key=True)
    holder = models.CharField(max_length=64, blank=True, default="")
    busy_until = models.FloatField(default=0.0)
    next_call_at = models.FloatField(default=0.0)
    calls = models.PositiveBigIntegerField(default=0)
    # The shop's answers in a row that were not an API's (404/410, web pages), and when
    # the last came: evidence that the legacy API was retired (malls.throttle).
    not_api_streak = models.PositiveIntegerField(default=0)
    not_api_at = models.FloatField(default=0.0, db_index=True)

    class Meta:
        verbose_name = _("MakeShop call slot")
        verbose_name_plural = _("MakeShop call slots")

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


class ChangeRecord(models.Model):
    """Who changed what on a store or one of its shops, and through which door.

    Written only by ``malls.services``, one entry per change. Secrets appear only as
    "changed", never with a value. An entry names an action taken through a door, not
    a row diff, which is why it is kept by hand rather than by django-simple-history
    or django-auditlog. A shop's entries outlive the shop (``shop`` becomes empty,
    ``store`` stays); store-wide changes such as memberships have no shop.
    """

    class Source(models.TextChoices):
        MERCHANT = "merchant", _("Merchant screens")
        ADMIN = "admin", _("Staff admin")
        COMMAND = "command", _("Command")
        TASK = "task", _("Background job")
        NOTIFICATION = "notification", _("Update notification")

    store = models.ForeignKey(
        Store, on_delete=models.CASCADE, related_name="changes", verbose_name=_("store")
    )
    shop = models.ForeignKey(
        MallShop, on_delete=models.SET_NULL, null=True, blank=True, related_name="changes",
        verbose_name=_("mall shop"),
    )
    at = models.DateTimeField(_("at"), auto_now_add=True, db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
        related_name="+", verbose_name=_("by"),
    )
    source = models.CharField(_("through"), max_length=20, choices=Source.choices)
    action = models.CharField(_("action"), max_length=40)
    changes = models.JSONField(_("changes"), default=dict, blank=True)

    class Meta:
        verbose_name = _("change record")
        verbose_name_plural = _("change records")
        ordering = ["-at", "-pk"]
        indexes = [
            models.Index(fields=["shop", "-at"], name="change_shop_recent"),
            models.Index(fields=["store", "-at"], name="change_store_recent"),
        ]

    def __str__(self):
        return f"{self.at:%Y-%m-%d %H:%M} {self.action}"


class RateCounter(models.Model):
    """A hit counter per key and fixed time window, shared by every process via the database.

    Used for abuse limits (notification tokens, verification attempts); see
    ``malls.ratelimits``.
    """

    key = models.CharField(max_length=200)
    window = models.BigIntegerField()
    hits = models.PositiveIntegerField(default=0)
    expires_at = models.FloatField(db_index=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["key", "window"], name="ratecounter_key_window")
        ]

    def __str__(self):
        return f"{self.key}@{self.window}"


from .makeshop.app.models import AppInstallationEvent, MakeShopAppInstallation  # noqa: E402,F401,I001

from .alerts.models import AlertMessage, AlertPreference, ShopAlert  # noqa: E402,F401,I001
