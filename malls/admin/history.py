"""Staff's reading of the history: the full list, and each shop's latest entries.

History is written by the services alone (``malls.services.history``, and the app
installations' own events in ``malls.makeshop.app.installations``); here it is only
read. A secret is never shown, not even as it was stored: only that it changed.
"""

from django.contrib import admin
from django.core.exceptions import FieldDoesNotExist
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from ..makeshop.app.models import MakeShopAppInstallation
from ..models import ChangeRecord, MakeShopConnection, MallShop, Membership
from ..services.history import SECRET_DELETED
from .formatting import actor, when

HISTORY_LIMIT = 50

ACTION_LABELS = {
    "makeshop.created": _("MakeShop settings entered"),
    "makeshop.settings_saved": _("MakeShop settings changed"),
    "makeshop.verified": _("Verification result changed"),
    "application.mark_applied": _("Application: applied to MakeShop"),
    "application.mark_approved": _("Application: approved, retrieval by API"),
    "application.withdraw": _("Application: withdrawn"),
    "notification_url.rotated": _("Update notification URL re-issued"),
    "makeshop.deleted": _("MakeShop settings deleted"),
    "makeshop.legacy_codes_removed": _("Auth codes removed (the shop uses the MakeShop app)"),
    "makeshop.shop_id_released": _("Shop ID set aside (MakeShop verified it for another shop)"),
    "shop.created": _("Shop added"),
    "shop.edited": _("Shop edited"),
    "shop.deleted": _("Shop deleted"),
    "membership.added": _("Member added"),
    "membership.removed": _("Member removed"),
    "notification_url.old_forgotten": _("Previous update notification URL stopped"),
    "makeshop_app.installed": _("MakeShop app installed"),
    "makeshop_app.reinstalled": _("MakeShop app installed again (new token)"),
    "makeshop_app.uninstalled": _("MakeShop app uninstalled"),
    "makeshop_app.verified": _("App token verification result changed"),
    "makeshop_app.linked": _("MakeShop app linked to this shop"),
    "makeshop_app.unlinked": _("MakeShop app unlinked from this shop"),
}

# Secrets a history entry may name; it says only "changed" or "deleted" of them.
SECRET_NAMES = (*MakeShopConnection.SECRET_FIELDS, "token")

# Entries' keys that are no model field (app installation events).
EXTRA_LABELS = {
    "how": _("how"),
    "reason": _("reason"),
}
# Words the installation services write as values of "how".
VALUE_LABELS = {
    "assigned": _("assigned by staff"),
    "automatic: legacy settings verified by MakeShop": _(
        "automatically: the shop's auth codes were verified by MakeShop"
    ),
}


def _field(name):
    for model in (MakeShopConnection, MallShop, Membership, MakeShopAppInstallation):
        try:
            return model._meta.get_field(name)
        except FieldDoesNotExist:
            continue
    return None


def _label(name, field) -> str:
    if field is not None:
        return str(field.verbose_name)
    return str(EXTRA_LABELS.get(name, name))


def _value_label(field, value) -> str:
    if value in (None, ""):
        return "—"
    if field is not None and field.choices:
        return str(dict(field.flatchoices).get(value, value))
    return str(VALUE_LABELS.get(value, value))


def describe_changes(changes: dict) -> list[str]:
    """One line per changed field; a secret is only ever "changed" (or "deleted")."""
    lines = []
    for name, value in (changes or {}).items():
        field = _field(name)
        label = _label(name, field)
        if name in SECRET_NAMES and value == SECRET_DELETED:
            lines.append(gettext("%(field)s: deleted") % {"field": label})
        elif name in SECRET_NAMES:
            lines.append(gettext("%(field)s: changed") % {"field": label})
        elif isinstance(value, list) and len(value) == 2:
            old, new = (_value_label(field, v) for v in value)
            lines.append(f"{label}: {old} → {new}")
        else:
            lines.append(f"{label}: {_value_label(field, value)}")
    return lines


def action_label(action: str) -> str:
    return str(ACTION_LABELS.get(action, action))


def history_rows(records) -> list[dict]:
    """What the history table shows of each entry (ChangeRecord or AppInstallationEvent)."""
    return [
        {
            "when": when(record.at),
            "by": actor(record),
            "through": record.get_source_display(),
            "what": action_label(record.action),
            "changes": describe_changes(record.changes),
        }
        for record in records
    ]


def render_history(records, *, empty, more_url="", more_label=""):
    return render_to_string(
        "admin/malls/includes/history_table.html",
        {"rows": history_rows(records), "empty": empty, "more_url": more_url,
         "more_label": more_label},
    )


def history_table(shop):
    """The shop's latest history entries, newest first, with a link to all of them."""
    if shop is None or shop.pk is None:
        return "—"
    records = shop.changes.select_related("actor").order_by("-at", "-pk")[:HISTORY_LIMIT]
    return render_history(
        records,
        empty=gettext("No changes recorded yet."),
        more_url=reverse("admin:malls_changerecord_changelist") + f"?shop__id__exact={shop.pk}",
        more_label=gettext("Full history of this shop"),
    )


class HistoryByServicesMixin:
    """No django.contrib.admin LogEntry: ``malls.services`` records these changes.

    One door, one trail: the shop's history (ChangeRecord) is the audit trail, and
    a second, unlinked one in Django's own words would only disagree with it.
    """

    def log_addition(self, request, obj, message):
        return None

    def log_change(self, request, obj, message):
        return None

    def log_deletions(self, request, queryset):
        return None


class ChangeActionFilter(admin.SimpleListFilter):
    """The known actions, listed without a DISTINCT over the whole history table."""

    title = _("action")
    parameter_name = "action"

    def lookups(self, request, model_admin):
        return list(ACTION_LABELS.items())

    def queryset(self, request, queryset):
        return queryset.filter(action=self.value()) if self.value() else queryset


@admin.register(ChangeRecord)
class ChangeRecordAdmin(admin.ModelAdmin):
    """Every recorded change, read-only: history is written by the services alone."""

    list_display = ["at", "shop_label", "actor_name", "source", "action_label", "change_lines"]
    list_filter = ["source", ChangeActionFilter]
    search_fields = ["store__name", "shop__name", "shop__makeshop__makeshop_shop_id"]
    search_help_text = _("Store name, shop name or MakeShop shop ID")
    list_select_related = ["store", "shop", "actor"]
    show_full_result_count = False
    fields = ["at", "shop", "actor_name", "source", "action_label", "change_lines"]
    readonly_fields = fields

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.display(description=_("mall shop"), ordering="store__name")
    def shop_label(self, obj):
        return f"{obj.store.name} / {obj.shop.name}" if obj.shop else obj.store.name

    @admin.display(description=_("by"))
    def actor_name(self, obj):
        return actor(obj)

    @admin.display(description=_("action"), ordering="action")
    def action_label(self, obj):
        return action_label(obj.action)

    @admin.display(description=_("changes"))
    def change_lines(self, obj):
        return render_to_string(
            "admin/malls/includes/change_lines.html", {"lines": describe_changes(obj.changes)}
        )
