"""Alert records: the open alert per shop, the e-mail outbox, and each user's choices.

Imported at the end of ``malls.models`` so that they belong to the ``malls`` app.
"""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


class AlertPreference(models.Model):
    """A user's choices for alert e-mails; a user without a row gets the defaults."""

    class Language(models.TextChoices):
        JA = "ja", "日本語"
        EN = "en", "English"

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="alert_preference",
        verbose_name=_("user"),
    )
    alerts_enabled = models.BooleanField(_("e-mail alerts"), default=True)
    language = models.CharField(
        _("e-mail language"), max_length=8, choices=Language.choices, default=Language.JA
    )
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("alert preference")
        verbose_name_plural = _("alert preferences")

    def __str__(self):
        return str(self.user)


class ShopAlert(models.Model):
    """A shop whose connection broke and that its store has been told about.

    At most one is open per shop (the partial unique constraint), so however many
    checks fail, a broken shop produces one "broken" e-mail; closing it sends the
    "fixed" one. ``status``/``reason``/``failed_check`` follow the connection while open.
    """

    shop = models.ForeignKey(
        "malls.MallShop", on_delete=models.CASCADE, related_name="alerts",
        verbose_name=_("mall shop"),
    )
    opened_at = models.DateTimeField(_("broke at"), db_index=True)
    closed_at = models.DateTimeField(_("fixed at"), null=True, blank=True)
    status = models.CharField(_("status"), max_length=30)
    reason = models.CharField(_("cause"), max_length=40, blank=True, db_index=True)
    failed_check = models.CharField(_("failing check"), max_length=30, blank=True)
    reminders_sent = models.PositiveSmallIntegerField(_("reminders sent"), default=0)
    next_reminder_at = models.DateTimeField(_("next reminder"), null=True, blank=True)

    class Meta:
        verbose_name = _("shop alert")
        verbose_name_plural = _("shop alerts")
        ordering = ["-opened_at", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["shop"], condition=models.Q(closed_at__isnull=True),
                name="shopalert_one_open_per_shop",
            )
        ]
        indexes = [
            models.Index(
                fields=["next_reminder_at"], name="shopalert_reminder_due",
                condition=models.Q(closed_at__isnull=True, next_reminder_at__isnull=False),
            ),
            models.Index(fields=["closed_at", "reason"], name="shopalert_digest"),
        ]

    def __str__(self):
        return f"{self.shop_id} {self.opened_at:%Y-%m-%d %H:%M}"

    @property
    def is_open(self) -> bool:
        return self.closed_at is None


class AlertMessage(models.Model):
    """One e-mail to one user, written in the same transaction as what caused it.

    Subject and body are rendered when the message is queued, in the recipient's
    language, so the e-mail says what was true then and the row shows staff exactly
    what was (or will be) sent. The address is read when sending, so a user who
    changes theirs gets the e-mail at the new one. No secret is ever part of a message.
    """

    class Kind(models.TextChoices):
        BROKEN = "broken", _("Connection broke")
        FIXED = "fixed", _("Connection fixed")
        REMINDER = "reminder", _("Reminder")
        DIGEST = "digest", _("Staff digest")
        NOTICE = "notice", _("Notice")  # something coming, e.g. a key about to expire

    class Status(models.TextChoices):
        PENDING = "pending", pgettext_lazy("e-mail delivery", "Pending")
        SENT = "sent", pgettext_lazy("e-mail delivery", "Sent")
        FAILED = "failed", pgettext_lazy("e-mail delivery", "Failed")
        CANCELLED = "cancelled", pgettext_lazy("e-mail delivery", "Cancelled")

    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="alert_messages",
        verbose_name=_("recipient"),
    )
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)
    shop = models.ForeignKey(
        "malls.MallShop", on_delete=models.SET_NULL, null=True, blank=True,
        related_name="alert_messages", verbose_name=_("mall shop"),
    )
    alert = models.ForeignKey(
        ShopAlert, on_delete=models.SET_NULL, null=True, blank=True, related_name="messages",
        verbose_name=_("shop alert"),
    )
    language = models.CharField(_("language"), max_length=8)
    subject = models.CharField(_("subject"), max_length=255)
    body = models.TextField(_("body"))
    # Set for messages that must exist once only (a user's digest of a day, a notice).
    dedup_key = models.CharField(max_length=100, null=True, blank=True, unique=True)

    status = models.CharField(
        _("delivery"), max_length=20, choices=Status.choices, default=Status.PENDING
    )
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    next_attempt_at = models.DateTimeField(_("next attempt"))
    # A sender's lease: the message is its own until claimed_until, then anyone's again.
    claimed_by = models.CharField(max_length=64, blank=True, default="", editable=False)
    claimed_until = models.DateTimeField(null=True, blank=True, editable=False)
    last_error = models.CharField(_("last error"), max_length=300, blank=True)
    created_at = models.DateTimeField(_("queued at"), auto_now_add=True)
    sent_at = models.DateTimeField(_("sent at"), null=True, blank=True)

    class Meta:
        verbose_name = _("alert e-mail")
        verbose_name_plural = _("alert e-mails")
        ordering = ["-created_at", "-pk"]
        indexes = [
            models.Index(
                fields=["next_attempt_at"], name="alertmessage_due",
                condition=models.Q(status="pending"),
            ),
            models.Index(fields=["alert", "kind"], name="alertmessage_alert_kind"),
        ]

    def __str__(self):
        return f"{self.get_kind_display()} → {self.recipient_id}"
