"""Staff's reading of the history: the full list, and each shop's latest entries.

History is written by the services alone (``malls.services.history``, and a
mall's own event tables); here it is only read. Malls name their actions with
``register_labels``. A secret is never shown, not even as it was stored: only that it changed.
"""

from django.apps import apps
from django.contrib import admin
from django.core.exceptions import FieldDoesNotExist
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from .. import providers
from ..models import ChangeRecord, MallShop, Membership
from ..services.history import SECRET_DELETED, secret_field_names
from .formatting import actor, when

HISTORY_LIMIT = 50

# The generic actions' labels; each mall adds its own (``register_labels``).
ACTION_LABELS = {
    "application.mark_applied": _("Application: applied to MakeShop"),
    "application.mark_approved": _("Application: approved, retrieval by API"),
    "application.withdraw": _("Application: withdrawn"),
    "shop.created": _("Shop added"),
    "shop.edited": _("Shop edited"),
    "shop.deleted": _("Shop deleted"),
    "membership.added": _("Member added"),
    "membership.removed": _("Member removed"),
}

# Entries' keys that are no model field (app installation events).
EXTRA_LABELS = {
    "how": _("how"),
    "reason": _("reason"),
}
# Words services write as values (of "how", for instance); malls add theirs.
VALUE_LABELS = {}


def register_labels(*, actions=None, extras=None, values=None) -> None:
    """Let a mall name its history actions, extra keys and stored words for staff."""
    ACTION_LABELS.update(actions or {})
    EXTRA_LABELS.update(extras or {})
    VALUE_LABELS.update(values or {})


def _models():
    """Where a history key may be a field: the generic models, then every mall's."""
    yield MallShop
    yield Membership
    for provider in providers.registered().values():
        yield provider.connection_model
    yield from apps.get_app_config("malls").get_models()


def _field(name):
    for model in _models():
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
        if name in secret_field_names() and value == SECRET_DELETED:
            lines.append(gettext("%(field)s: deleted") % {"field": label})
        elif name in secret_field_names():
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
