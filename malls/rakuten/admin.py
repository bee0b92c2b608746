"""Staff's view of Rakuten connections: state, expiry and RMS's facts; never a key;
and Rakuten's section of the admin index (``overview``).

Read-only: merchants change their keys on their settings page (the one door that
asks RMS first). The keys appear only as 設定済み (…last 4).
"""

from django.contrib import admin
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from malls.admin.history import register_labels
from malls.admin_site import register_overview

from . import connections, overview, verdicts
from .models import RakutenConnection
from .services import STATUS_KEY

# What staff read in a shop's history of Rakuten's actions (``services``).
register_labels(
    actions={
        "rakuten_settings_saved": _("Rakuten settings changed"),
        "rakuten_verified": _("Rakuten verification result changed"),
    },
    extras={STATUS_KEY: _("Rakuten connection status")},
    values={status.value: status.label for status in RakutenConnection.Status},
)


class ExpiryFilter(admin.SimpleListFilter):
    title = _("licenseKey expiry")
    parameter_name = "expiry"

    def lookups(self, request, model_admin):
        return overview.EXPIRY_CHOICES

    def queryset(self, request, queryset):
        condition = overview.expiry_condition(
            self.value() or "", connections.japan_today(timezone.now())
        )
        return queryset if condition is None else queryset.filter(condition)


@admin.register(RakutenConnection)
class RakutenConnectionAdmin(admin.ModelAdmin):
    list_display = [
        "shop", "shop_url", "status", "reason", "expires_on", "days_left", "verified_at",
        "last_checked_at",
    ]
    list_filter = ["status", ExpiryFilter, "failure_reason"]
    list_select_related = ["shop", "shop__store", "shop__mall"]
    search_fields = ["shop_url", "reported_shop", "shop__name", "shop__store__name"]
    ordering = ["expires_on", "shop_url"]
    fields = [
        "shop", "shop_url", "service_secret_state", "license_key_state", "status",
        "failed_check", "reason", "rakuten_message", "expires_on", "days_left",
        "reported_shop", "key_changed_at", "verified_at", "last_checked_at", "failing_since",
        "version",
    ]
    readonly_fields = fields

    @admin.display(description=_("failure reason"), ordering="failure_reason")
    def reason(self, connection):
        return verdicts.reason_label(connection.failure_reason) or "-"

    @admin.display(description=_("days left"))
    def days_left(self, connection):
        state = connections.expiry(connection.expires_on, connections.japan_today(timezone.now()))
        if state.state is connections.ExpiryState.EXPIRED:
            return _("expired")
        if state.days_left is None:
            return "-"
        return ngettext("%(days)d day", "%(days)d days", state.days_left) % {
            "days": state.days_left
        }

    @admin.display(description=_("serviceSecret"))
    def service_secret_state(self, connection):
        return str(connection.secret_state("service_secret"))

    @admin.display(description=_("licenseKey"))
    def license_key_state(self, connection):
        return str(connection.secret_state("license_key"))

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


register_overview(
    permission="rakuten.view_rakutenconnection", build=overview.index_context,
    template="rakuten/admin_overview.html",
)
