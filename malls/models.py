"""The generic data model: merchants' stores, the malls GoQ connects, each store's mall
shops, what every mall connection has (``Connection``), history, call slots and rate
counters. Each mall's package defines its own connection model on ``Connection``."""

import uuid

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from core.text import validate_single_line

from .crypto import DecryptionError
from .fields import EncryptedSecretField
from .verdicts import UNREADABLE


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


class Connection(models.Model):
    """What every mall connection has, whatever the mall: its row identity, what the
    mall last said of it and when, and an edit version.

    Abstract: each mall package defines its connection on it, with its own secrets
    (``EncryptedSecretField``, found by type: ``secret_fields()``) and its own
    ``status`` choices. The primary key is a UUID so that it exists before the INSERT
    (secrets are bound to it). ``version`` is bumped on every change by a person, so a
    stale form cannot overwrite a newer save.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    failure_reason = models.CharField(_("failure reason"), max_length=40, blank=True)
    last_checked_at = models.DateTimeField(_("last checked at"), null=True, blank=True)
    # When the mall last accepted the connection as it is now; cleared when what it
    # identifies changes, so it also says "the mall verified this connection".
    verified_at = models.DateTimeField(_("last verified at"), null=True, blank=True)
    failing_since = models.DateTimeField(_("failing since"), null=True, blank=True)
    version = models.PositiveIntegerField(_("version"), default=1, editable=False)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        abstract = True

    @classmethod
    def secret_fields(cls) -> tuple[str, ...]:
        """The names of this connection's encrypted fields, in declaration order."""
        return tuple(
            f.name for f in cls._meta.concrete_fields if isinstance(f, EncryptedSecretField)
        )

    def secret_state(self, name: str) -> "SecretState":
        """How a saved secret may be shown: never its value, at most its last 4 characters."""
        if name not in self.secret_fields():
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
        return self.failure_reason == UNREADABLE or any(
            self.secret_state(name).state == SecretState.UNREADABLE
            for name in self.secret_fields()
        )

    @property
    def is_broken(self) -> bool:
        """Verified once, rejected now: something changed on the mall's side."""
        return self.status == "rejected" and self.verified_at is not None


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


class CallSlot(models.Model):
    """The call slot that spaces and serialises calls to one mall shop (``malls.throttle``).

    Keyed ``"<mall code>:<shop id>"``; ``"<mall code>:*"`` is the mall's ceiling.
    Every process and machine claims this row with a conditional UPDATE before
    calling, so the database (PostgreSQL in production) is the shared coordinator.
    The lease (``busy_until``) frees the slot if a holder dies mid-call.
    """

    key = models.CharField(max_length=100, primary_key=True)
    holder = models.CharField(max_length=64, blank=True, default="")
    busy_until = models.FloatField(default=0.0)
    next_call_at = models.FloatField(default=0.0)
    calls = models.PositiveBigIntegerField(default=0)

    class Meta:
        verbose_name = _("call slot")
        verbose_name_plural = _("call slots")

    def __str__(self):
        return self.key


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


from .alerts.models import AlertMessage, AlertPreference, ShopAlert  # noqa: E402,F401,I001
