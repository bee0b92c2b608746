"""Staff's view of alerts: open and closed shop alerts, and every e-mail with its delivery.

Read-only except "retry now": the outbox is written by the alert services only.
Registered from ``MallsConfig.ready``.
"""

from django.contrib import admin, messages
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from . import outbox
from .models import AlertMessage, AlertPreference, ShopAlert
from .queueing import kick_sender


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class AlertMessageInline(admin.TabularInline):
    model = AlertMessage
    fields = ["kind", "recipient", "status", "attempts", "sent_at", "last_error"]
    readonly_fields = fields
    extra = 0
    can_delete = False
    show_change_link = True

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(ShopAlert)
class ShopAlertAdmin(ReadOnlyAdmin):
    list_display = [
        "shop", "store", "opened_at", "closed_at", "status", "failed_check", "reason",
        "reminders_sent",
    ]
    list_filter = [("closed_at", admin.EmptyFieldListFilter), "status", "reason", "failed_check"]
    list_select_related = ["shop__store", "shop__mall"]
    search_fields = ["shop__name", "shop__store__name"]
    date_hierarchy = "opened_at"
    inlines = [AlertMessageInline]

    @admin.display(description=_("store"), ordering="shop__store__name")
    def store(self, obj):
        return obj.shop.store


@admin.register(AlertMessage)
class AlertMessageAdmin(ReadOnlyAdmin):
    list_display = [
        "created_at", "kind", "recipient", "shop", "language", "status", "attempts",
        "next_attempt_at", "sent_at", "last_error",
    ]
    list_filter = ["status", "kind", "language"]
    list_select_related = ["recipient", "shop__store", "shop__mall"]
    search_fields = ["recipient__username", "recipient__email", "shop__name", "subject"]
    date_hierarchy = "created_at"
    readonly_fields = [
        "recipient", "kind", "shop", "alert", "language", "subject", "body", "status",
        "attempts", "next_attempt_at", "last_error", "created_at", "sent_at",
    ]
    fields = readonly_fields
    actions = ["retry_now"]

    def has_change_permission(self, request, obj=None):
        # Only for the "retry now" action; every field stays read-only.
        return obj is None and request.user.has_perm("malls.change_alertmessage")

    @admin.action(description=_("Send selected e-mails again now (failed or waiting)"))
    def retry_now(self, request, queryset):
        count = outbox.retry_now(queryset)
        if count:
            kick_sender()
        self.message_user(
            request,
            ngettext("%(count)d e-mail is queued again.", "%(count)d e-mails are queued again.",
                     count) % {"count": count},
            messages.SUCCESS,
        )


@admin.register(AlertPreference)
class AlertPreferenceAdmin(admin.ModelAdmin):
    list_display = ["user", "alerts_enabled", "language", "updated_at"]
    list_filter = ["alerts_enabled", "language"]
    search_fields = ["user__username", "user__email"]
    raw_id_fields = ["user"]
