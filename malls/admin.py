"""GoQ staff's review of stores and their connected shops.

The MakeShop connection list is staff's working list: every MakeShop shop across
stores, what MakeShop last said of it, and its API-use application. Everything that
changes a shop goes through ``malls.services``, which records the history. Nothing
here calls MakeShop: the change form runs inside a transaction, so saved settings
and "re-verify" go to the background workers. No page shows a stored secret; at
most its last four characters.
"""

from datetime import timedelta

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.contrib.admin.widgets import AutocompleteSelect
from django.core.exceptions import FieldDoesNotExist, PermissionDenied, ValidationError
from django.db import connections as db_connections
from django.db import transaction
from django.db.models import Count
from django.http import HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.decorators import method_decorator
from django.utils.formats import date_format
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django.views.decorators.debug import sensitive_post_parameters
from django_tasks_db.admin import DBTaskResultAdmin
from django_tasks_db.models import DBTaskResult

from . import connection_columns, overview_filters, services
from .makeshop.verdicts import likely_cause, reason_label
from .models import (
    ChangeRecord,
    MakeShopConnection,
    Mall,
    MallShop,
    Membership,
    NotificationEvent,
    Store,
)

# Who may move the API-use application, and who may queue re-verification. The models'
# change permissions stand for them until dedicated ones exist.
RECENT_NOTIFICATIONS = 10
APPLICATION_PERMISSION = "malls.change_application"
VERIFY_PERMISSION = "malls.verify_makeshopconnection"

HISTORY_LIMIT = 50
REFUSALS_SHOWN = 20

Status = MakeShopConnection.Status
Application = MallShop.ApplicationStatus

SECRET_INPUTS = tuple(f"new_{name}" for name in MakeShopConnection.SECRET_FIELDS)

APPLICATION_STEPS = {
    "mark_applied": _("Mark applied to MakeShop"),
    "mark_approved": _("Mark approved and switch order retrieval to API"),
    "withdraw": _("Withdraw the application"),
}


class ValidOnlyAutocompleteSelect(AutocompleteSelect):
    """Django's autocomplete widget, minus a 500 when a POST carries a malformed id.

    Redrawing the form looks the submitted value up as is; a value the key field
    cannot read (``shop=not-an-id``, or a number past the column's range) would raise
    instead of showing the form error.
    """

    def optgroups(self, name, value, attr=None):
        key = self.field.remote_field.model._meta.pk
        low, high = db_connections[self.db or "default"].ops.integer_field_range(
            key.get_internal_type()
        )
        readable = []
        for item in value:
            try:
                number = key.to_python(item)
            except ValidationError:
                continue
            # A number past the column's range would fail in the database itself.
            if isinstance(number, int) and not (
                (low is None or number >= low) and (high is None or number <= high)
            ):
                continue
            readable.append(item)
        return super().optgroups(name, readable, attr)


class ValidOnlyAutocompleteMixin:
    """Use ``ValidOnlyAutocompleteSelect`` for every autocomplete field."""

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if "widget" not in kwargs and db_field.name in self.get_autocomplete_fields(request):
            kwargs["widget"] = ValidOnlyAutocompleteSelect(
                db_field, self.admin_site, using=kwargs.get("using")
            )
        return super().formfield_for_foreignkey(db_field, request, **kwargs)


def _when(value) -> str:
    return date_format(timezone.localtime(value), "SHORT_DATETIME_FORMAT") if value else ""


# --- History ----------------------------------------------------------------------------

ACTION_LABELS = {
    "makeshop.created": _("MakeShop settings entered"),
    "makeshop.settings_saved": _("MakeShop settings changed"),
    "makeshop.verified": _("Verification result changed"),
    "application.mark_applied": _("Application: applied to MakeShop"),
    "application.mark_approved": _("Application: approved, retrieval by API"),
    "application.withdraw": _("Application: withdrawn"),
    "notification_url.rotated": _("Update notification URL re-issued"),
    "makeshop.deleted": _("MakeShop settings deleted"),
    "shop.created": _("Shop added"),
    "shop.edited": _("Shop edited"),
    "shop.deleted": _("Shop deleted"),
    "membership.added": _("Member added"),
    "membership.removed": _("Member removed"),
    "notification_url.old_forgotten": _("Previous update notification URL stopped"),
}


def _field(name):
    for model in (MakeShopConnection, MallShop, Membership):
        try:
            return model._meta.get_field(name)
        except FieldDoesNotExist:
            continue
    return None


def _value_label(field, value) -> str:
    if value in (None, ""):
        return "—"
    if field is not None and field.choices:
        return str(dict(field.flatchoices).get(value, value))
    return str(value)


def describe_changes(changes: dict) -> list[str]:
    """One line per changed field; a secret is only ever "changed"."""
    lines = []
    for name, value in (changes or {}).items():
        field = _field(name)
        label = str(field.verbose_name) if field is not None else name
        if name in MakeShopConnection.SECRET_FIELDS:
            lines.append(gettext("%(field)s: changed") % {"field": label})
        elif isinstance(value, list) and len(value) == 2:
            old, new = (_value_label(field, v) for v in value)
            lines.append(f"{label}: {old} → {new}")
        else:
            lines.append(f"{label}: {_value_label(field, value)}")
    return lines


def _lines(lines):
    return format_html_join("", "<div>{}</div>", ((line,) for line in lines))


def _actor(record) -> str:
    return record.actor.get_username() if record.actor_id else "—"


def history_table(shop):
    """The shop's latest history entries, newest first, with a link to all of them."""
    if shop is None or shop.pk is None:
        return "—"
    records = list(shop.changes.select_related("actor").order_by("-at", "-pk")[: HISTORY_LIMIT + 1])
    if not records:
        return gettext("No changes recorded yet.")
    rows = format_html_join(
        "",
        "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
        (
            (
                _when(record.at),
                _actor(record),
                record.get_source_display(),
                ACTION_LABELS.get(record.action, record.action),
                _lines(describe_changes(record.changes)),
            )
            for record in records[:HISTORY_LIMIT]
        ),
    )
    all_url = reverse("admin:malls_changerecord_changelist") + f"?shop__id__exact={shop.pk}"
    return format_html(
        '<table><thead><tr><th>{}</th><th>{}</th><th>{}</th><th>{}</th><th>{}</th></tr></thead>'
        '<tbody>{}</tbody></table><p><a href="{}">{}</a></p>',
        gettext("When"), gettext("By"), gettext("Through"), gettext("What"), gettext("Changes"),
        rows, all_url, gettext("Full history of this shop"),
    )


# --- Stores, malls, shops ---------------------------------------------------------------


class MembershipInline(ValidOnlyAutocompleteMixin, admin.TabularInline):
    model = Membership
    extra = 0
    autocomplete_fields = ["user"]


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


@admin.register(Store)
class StoreAdmin(admin.ModelAdmin):
    list_display = ["name", "created_at"]
    search_fields = ["name"]
    inlines = [MembershipInline]

    def save_formset(self, request, form, formset, change):
        """Memberships change through the service, which records them in the store's history."""
        if formset.model is not Membership:
            return super().save_formset(request, form, formset, change)
        memberships = formset.save(commit=False)
        for membership in formset.deleted_objects:
            services.remove_member(membership=membership, actor=request.user)
        for membership, _fields in formset.changed_objects:  # a row now names another user
            services.remove_member(
                membership=Membership.objects.get(pk=membership.pk), actor=request.user
            )
        for membership in memberships:
            services.add_member(store=form.instance, user=membership.user, actor=request.user)


@admin.register(Mall)
class MallAdmin(admin.ModelAdmin):
    list_display = ["name", "name_en", "code", "sort_order"]
    ordering = ["sort_order"]


@admin.register(MallShop)
class MallShopAdmin(HistoryByServicesMixin, ValidOnlyAutocompleteMixin, admin.ModelAdmin):
    """A store's shops on every mall. The application moves only through its workflow."""

    list_display = ["name", "store", "mall", "order_retrieval", "application_status", "updated_at"]
    list_filter = ["mall", "application_status", "order_retrieval"]
    search_fields = ["name", "store__name"]
    list_select_related = ["store", "mall"]
    autocomplete_fields = ["store"]
    show_full_result_count = False
    readonly_fields = [
        "order_retrieval", "application_status", "application_updated_at", "history",
        "created_at", "updated_at",
    ]

    def get_fields(self, request, obj=None):
        if obj is None:
            return ["store", "mall", "name"]
        return ["store", "mall", "name", *self.readonly_fields]

    @admin.display(description=_("History"))
    def history(self, obj):
        return history_table(obj)

    def save_model(self, request, obj, form, change):
        """Add or edit through the service, which records it in the shop's history."""
        values = {name: getattr(obj, name) for name in services.shops.EDITABLE_FIELDS}
        if change:
            saved = services.edit_shop(shop=obj, actor=request.user, **values)
        else:
            saved = services.add_shop(
                actor=request.user, source=ChangeRecord.Source.ADMIN, **values
            )
        obj.pk, obj._state = saved.pk, saved._state

    def delete_model(self, request, obj):
        services.delete_shop(shop=obj, actor=request.user)

    def delete_queryset(self, request, queryset):
        with transaction.atomic():
            for shop in queryset.select_related("store"):
                services.delete_shop(shop=shop, actor=request.user)


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
        return _actor(obj)

    @admin.display(description=_("action"), ordering="action")
    def action_label(self, obj):
        return ACTION_LABELS.get(obj.action, obj.action)

    @admin.display(description=_("changes"))
    def change_lines(self, obj):
        return _lines(describe_changes(obj.changes))


# --- MakeShop connections ---------------------------------------------------------------


class VerificationStatusFilter(admin.SimpleListFilter):
    """The statuses, plus "broken": verified once and rejected now."""

    title = _("verification status")
    parameter_name = "status"

    def lookups(self, request, model_admin):
        return [
            *Status.choices,
            ("broken", _("Rejected after having worked")),
        ]

    def queryset(self, request, queryset):
        value = self.value()
        if value == "broken":
            return queryset.filter(status=Status.REJECTED, verified_at__isnull=False)
        if value in Status.values:
            return queryset.filter(status=value)
        return queryset


class FailingForFilter(admin.SimpleListFilter):
    """Shops MakeShop has kept rejecting for more than N days."""

    title = _("failing for")
    parameter_name = "failing_days"
    DAYS = (1, 3, 7, 30)

    def lookups(self, request, model_admin):
        return [(str(days), _("more than %(days)d days") % {"days": days}) for days in self.DAYS]

    def queryset(self, request, queryset):
        if self.value() not in {str(days) for days in self.DAYS}:
            return queryset
        cutoff = timezone.now() - timedelta(days=int(self.value()))
        return queryset.filter(failing_since__lte=cutoff)


# --- Evidence about MakeShop's answers (issue 12; one filter, re-applied on the split admin) ---


class MakeShopEvidenceFilter(admin.SimpleListFilter):
    """What MakeShop's answers suggest beyond one shop: counts in the choices themselves."""

    title = _("MakeShop's answers")
    parameter_name = "evidence"
    RETIRED = "legacy_api_retired"  # makeshop.api.Reason.LEGACY_API_RETIRED
    OTHER_SHOP_ID = "other_shop_id"

    def _querysets(self, queryset):
        return {
            self.RETIRED: queryset.filter(failure_reason=self.RETIRED),
            self.OTHER_SHOP_ID: queryset.filter(
                pk__in=NotificationEvent.objects.exclude(received_shop_id="").values(
                    "connection_id"
                )
            ),
        }

    def lookups(self, request, model_admin):
        every = self._querysets(MakeShopConnection.objects.all())
        counts = {key: rows.count() for key, rows in every.items()}
        return [
            (self.RETIRED, _("Legacy API did not answer as an API (%(count)d shops)")
             % {"count": counts[self.RETIRED]}),
            (self.OTHER_SHOP_ID, _("Notifications name another shop ID (%(count)d shops)")
             % {"count": counts[self.OTHER_SHOP_ID]}),
        ]

    def queryset(self, request, queryset):
        return self._querysets(queryset).get(self.value(), queryset)


class WriteOnlySecretInput(forms.PasswordInput):
    """A secret input that never renders a value back into the page."""

    def __init__(self, attrs=None):
        attrs = {"autocomplete": "new-password", **(attrs or {})}
        super().__init__(attrs=attrs, render_value=False)


class MakeShopConnectionAdminForm(forms.ModelForm):
    """Staff may set secrets (an empty input keeps the saved one); MakeShop is asked later.

    ``expected_version`` travels with the page, so a save over someone else's newer
    save is refused instead of silently replacing it.
    """

    error_messages = {
        "stale": _(
            "Someone saved these settings after you opened this page. Reload the page and "
            "make your change again."
        ),
        "not_makeshop": _("Choose a shop on MakeShop."),
    }

    new_password = forms.CharField(
        label=_("Password"), required=False, strip=False, widget=WriteOnlySecretInput
    )
    new_order_auth_code = forms.CharField(
        label=_("Order data auth code"), required=False, widget=WriteOnlySecretInput
    )
    new_product_auth_code = forms.CharField(
        label=_("Product data auth code"), required=False, widget=WriteOnlySecretInput
    )
    expected_version = forms.IntegerField(required=False, widget=forms.HiddenInput)

    class Meta:
        model = MakeShopConnection
        fields = ["shop", "makeshop_shop_id"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if "makeshop_shop_id" in self.fields:  # absent when staff may only view
            # Without a shop ID there is nothing to verify: the row would stay pending.
            self.fields["makeshop_shop_id"].required = True
        if self.instance.pk and not self.instance._state.adding:
            self.fields["expected_version"].initial = self.instance.version
            for name in MakeShopConnection.SECRET_FIELDS:
                state = self.instance.secret_state(name)
                self.fields[f"new_{name}"].help_text = _(
                    "Currently: %(state)s. Leave empty to keep it."
                ) % {"state": state}

    def clean_shop(self):
        shop = self.cleaned_data["shop"]
        if shop is not None and shop.mall.code != Mall.MAKESHOP:
            raise ValidationError(self.error_messages["not_makeshop"], code="not_makeshop")
        return shop

    def clean(self):
        cleaned = super().clean()
        try:
            services.refuse_if_stale(self.instance, cleaned.get("expected_version"))
        except services.ConcurrentEditError:
            raise ValidationError(self.error_messages["stale"], code="stale") from None
        return cleaned

    def new_secrets(self) -> dict[str, str]:
        return {
            name: self.cleaned_data[f"new_{name}"]
            for name in MakeShopConnection.SECRET_FIELDS
            if self.cleaned_data.get(f"new_{name}")
        }


@admin.register(MakeShopConnection)
class MakeShopConnectionAdmin(
    HistoryByServicesMixin, ValidOnlyAutocompleteMixin, admin.ModelAdmin
):
    """Every MakeShop shop across stores: verification, application, history."""

    form = MakeShopConnectionAdminForm
    # Fits 1,366 pixels: long texts are tooltips here, in full on the detail page.
    list_display = [
        "makeshop_shop_id",
        "store_name",
        connection_columns.verification,
        connection_columns.last_verified,
        connection_columns.failure,
        "application",
        "last_notification",
    ]
    list_display_links = ["makeshop_shop_id"]
    list_filter = [
        VerificationStatusFilter,
        "shop__application_status",
        "shop__mall",
        FailingForFilter,
        # The overview's links (malls/overview.py) select shops through these.
        overview_filters.BrokeWithinFilter,
        overview_filters.FailureCauseFilter,
        overview_filters.FailingCheckFilter,
        MakeShopEvidenceFilter,
    ]
    search_fields = ["makeshop_shop_id", "shop__store__name"]
    search_help_text = _("Store name or MakeShop shop ID")
    # The page's shops and stores come in two small "IN (...)" queries (get_queryset):
    # joining them instead makes SQLite's planner give up the shop-ID index and sort
    # every row for each page.
    list_select_related = False
    # The unique index on the shop ID serves this order; a COUNT over every row is skipped
    # when a filter is on.
    ordering = ["makeshop_shop_id"]
    show_full_result_count = False
    autocomplete_fields = ["shop"]
    actions = ["reverify", "mark_applied", "mark_approved", "withdraw", "new_notification_url"]
    readonly_fields = [
        "secrets_summary",
        "verification_summary",
        "failed_check",
        connection_columns.failure_reason,  # the reason in words, not its code
        "makeshop_message",
        "last_checked_at",
        "verified_at",
        "failing_since",
        "application_state",
        "application_panel",
        "last_notification",
        "recent_notifications",
        "history",
        "version",
        "created_at",
        "updated_at",
    ]

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("shop__store")

    # --- permissions ---

    def has_application_permission(self, request):
        return request.user.has_perm(APPLICATION_PERMISSION)

    def has_verify_permission(self, request):
        return request.user.has_perm(VERIFY_PERMISSION)

    # --- the change form ---

    def get_fieldsets(self, request, obj=None):
        inputs = list(SECRET_INPUTS) if self.has_change_permission(request, obj) else []
        secrets = (
            _("Secrets (write-only)"),
            {"fields": ["secrets_summary", *inputs] if obj else inputs},
        )
        if obj is None:
            return [(None, {"fields": ["shop", "makeshop_shop_id"]}), secrets]
        return [
            (None, {"fields": ["shop", "makeshop_shop_id", "expected_version"]}),
            secrets,
            (
                _("Verification"),
                {"fields": ["verification_summary", "failed_check",
                            connection_columns.failure_reason,
                            "makeshop_message", "last_checked_at", "verified_at",
                            "failing_since"]},
            ),
            # Read-only fields see no request: pick the one with buttons here.
            (
                _("API-use application"),
                {"fields": ["application_panel" if self.has_application_permission(request)
                            else "application_state"]},
            ),
            (
                _("Update notifications"),
                {"fields": ["last_notification", "recent_notifications"]},
            ),
            (_("History"), {"fields": ["history"]}),
            (_("Record"), {"fields": ["version", "created_at", "updated_at"]}),
        ]

    def get_readonly_fields(self, request, obj=None):
        # A connection belongs to its shop for good; only a new one picks its shop.
        return [*self.readonly_fields, "shop"] if obj else self.readonly_fields

    @method_decorator(sensitive_post_parameters(*SECRET_INPUTS))
    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        try:
            return super().changeform_view(request, object_id, form_url, extra_context)
        except services.ConcurrentEditError:
            # Raised inside the admin's transaction, which has rolled everything back.
            self.message_user(
                request, MakeShopConnectionAdminForm.error_messages["stale"], messages.ERROR
            )
            return HttpResponseRedirect(request.get_full_path())

    def delete_model(self, request, obj):
        self.delete_queryset(request, MakeShopConnection.objects.filter(pk=obj.pk))

    def delete_queryset(self, request, queryset):
        """Delete through the service, leaving a line in each shop's history."""
        with transaction.atomic():
            for connection in queryset.select_related("shop"):
                services.delete_makeshop_connection(connection=connection, actor=request.user)

    def save_model(self, request, obj, form, change):
        """Save through the service: secrets encrypted, history written, check queued."""
        saved = services.apply_makeshop_settings(
            connection=obj,
            shop_id=form.cleaned_data["makeshop_shop_id"],
            new_secrets=form.new_secrets(),
            expected_version=form.cleaned_data.get("expected_version") if change else None,
            verify=services.Verify.LATER,
            actor=request.user,
            source=ChangeRecord.Source.ADMIN,
        ).connection
        obj.pk, obj.version = saved.pk, saved.version

    # --- columns and read-only fields ---

    @admin.display(description=_("store"), ordering="shop__store__name")
    def store_name(self, obj):
        return obj.shop.store.name

    @admin.display(description=_("verification status"), ordering="status")
    def verification(self, obj):
        if obj.is_broken:
            return format_html(
                "<strong>{}</strong><br>{}",
                obj.get_status_display(),
                gettext("worked until %(when)s") % {"when": _when(obj.verified_at)},
            )
        return obj.get_status_display()

    @admin.display(description=_("failing check and message"))
    def problem(self, obj):
        if obj.status not in (Status.REJECTED, Status.UNVERIFIED) or not obj.failed_check:
            return ""
        text = obj.makeshop_message or reason_label(obj.failure_reason)
        cause = likely_cause(obj)
        if cause:
            return format_html(
                "{}: {}<br><em>{}</em>", obj.get_failed_check_display(), text, cause
            )
        return format_html("{}: {}", obj.get_failed_check_display(), text)

    @admin.display(description=_("API-use application"), ordering="shop__application_status")
    def application(self, obj):
        return obj.shop.get_application_status_display()

    @admin.display(description=_("last update notification"), ordering="last_notification_at")
    def last_notification(self, obj):
        if not obj.last_notification_at:
            return gettext("never")
        labels = dict(NotificationEvent.Kind.choices)
        kind = labels.get(obj.last_notification_kind, obj.last_notification_kind)
        return f"{_when(obj.last_notification_at)} {kind}".strip()

    @admin.display(description=_("Recent notifications"))
    def recent_notifications(self, obj):
        events = list(obj.notifications.all()[:RECENT_NOTIFICATIONS])
        if not events:
            return gettext("none received yet")
        rows = format_html_join(
            "",
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            (
                (_when(event.received_at), event.get_kind_display(), event.order_number or "–",
                 event.repeats, event.sender_address or "–")
                for event in events
            ),
        )
        return format_html(
            "<table><thead><tr><th>{}</th><th>{}</th><th>{}</th><th>{}</th><th>{}</th></tr>"
            "</thead><tbody>{}</tbody></table>",
            gettext("received"), gettext("event"), gettext("order number"),
            gettext("repeats"), gettext("sender address"), rows,
        )

    @admin.display(description=_("Saved secrets"))
    def secrets_summary(self, obj):
        return format_html_join(
            "",
            "<div>{}: {}</div>",
            (
                (MakeShopConnection._meta.get_field(name).verbose_name, obj.secret_state(name))
                for name in MakeShopConnection.SECRET_FIELDS
            ),
        )

    @admin.display(description=_("verification status"))
    def verification_summary(self, obj):
        cause = likely_cause(obj)
        if not cause:
            return self.verification(obj)
        return format_html("{}<br><em>{}</em>", self.verification(obj), cause)

    @admin.display(description=_("API-use application"))
    def application_state(self, obj):
        shop = obj.shop
        since = _when(shop.application_updated_at)
        return format_html(
            "{} {}", shop.get_application_status_display(), f"({since})" if since else ""
        )

    @admin.display(description=_("API-use application"))
    def application_panel(self, obj):
        """The state plus a button per step it can take (for staff allowed to move it)."""
        current = self.application_state(obj)
        steps = services.allowed_application_actions(obj.shop)
        if not steps:
            return current
        links = format_html_join(
            " ",
            '<a class="button" href="{}">{}</a>',
            (
                (
                    reverse("admin:malls_makeshopconnection_application", args=[obj.pk, step]),
                    APPLICATION_STEPS[step],
                )
                for step in steps
            ),
        )
        return format_html("{}<p>{}</p>", current, links)

    @admin.display(description=_("History"))
    def history(self, obj):
        return history_table(obj.shop)

    # --- actions ---

    @admin.action(description=_("Re-verify selected with MakeShop (in the background)"),
                  permissions=["verify"])
    def reverify(self, request, queryset):
        selected = queryset.count()
        ids = list(
            queryset.filter(pk__in=services.verifiable_connections().values("pk")).values_list(
                "pk", flat=True
            )
        )
        queued, already_open = services.enqueue_verification(connection_ids=ids)
        jobs_url = reverse("admin:django_tasks_database_dbtaskresult_changelist")
        self.message_user(
            request,
            format_html(
                '{} <a href="{}">{}</a>',
                gettext(
                    "Queued %(queued)d shop(s) for verification; %(open)d already had a job "
                    "open; %(skipped)d have no settings to verify."
                ) % {"queued": queued, "open": already_open, "skipped": selected - len(ids)},
                jobs_url,
                gettext("Follow the jobs"),
            ),
            messages.SUCCESS,
        )

    @admin.action(
        description=_("Issue a new update-notification URL (the old one works 24 more hours)"),
        permissions=["change"],
    )
    def new_notification_url(self, request, queryset):
        count = refused = 0
        for connection in queryset.select_related("shop"):
            try:
                services.rotate_notification_token(
                    connection=connection, actor=request.user, source=ChangeRecord.Source.ADMIN
                )
            except services.NotificationUrlInGrace:
                refused += 1
                continue
            count += 1
        if refused:
            self.message_user(
                request,
                gettext(
                    "No new URL for %(count)d shop(s): the URL issued before is still in its "
                    "24-hour grace period, and a new one would stop it early. Try again once "
                    "it has passed."
                ) % {"count": refused},
                messages.WARNING,
            )
        self.message_user(
            request,
            gettext(
                "Issued a new notification URL for %(count)d shop(s). Their merchants must paste "
                "the new URL into MakeShop within 24 hours."
            ) % {"count": count},
            messages.SUCCESS,
        )

    @admin.action(description=APPLICATION_STEPS["mark_applied"], permissions=["application"])
    def mark_applied(self, request, queryset):
        return self._application_step(request, queryset, "mark_applied")

    @admin.action(description=APPLICATION_STEPS["mark_approved"], permissions=["application"])
    def mark_approved(self, request, queryset):
        return self._application_step(request, queryset, "mark_approved")

    @admin.action(description=APPLICATION_STEPS["withdraw"], permissions=["application"])
    def withdraw(self, request, queryset):
        return self._application_step(request, queryset, "withdraw")

    def _application_step(self, request, queryset, step):
        """First a confirmation page listing who moves; then the move, shop by shop."""
        connections = list(queryset.select_related("shop__store"))
        if request.POST.get("confirm") == "yes":
            self._apply_step(request, connections, step)
            return None
        movable = [c for c in connections if step in services.allowed_application_actions(c.shop)]
        if not movable:
            self.message_user(
                request,
                gettext("“%(step)s” does not apply to any of the selected shops.")
                % {"step": APPLICATION_STEPS[step]},
                messages.WARNING,
            )
            return None
        blocked = [c for c in connections if c not in movable]
        return self._confirmation_page(
            request, step, movable, blocked, form_url="",
            cancel_url=reverse("admin:malls_makeshopconnection_changelist"),
        )

    def _apply_step(self, request, connections, step):
        moved, refused = 0, []
        for connection in connections:
            try:
                services.transition_application(
                    shop=connection.shop, action=step, actor=request.user,
                    source=ChangeRecord.Source.ADMIN,
                )
            except services.InvalidTransition:
                refused.append(connection)
            else:
                moved += 1
        if moved:
            self.message_user(
                request,
                gettext("“%(step)s” done for %(count)d shop(s).")
                % {"step": APPLICATION_STEPS[step], "count": moved},
                messages.SUCCESS,
            )
        # Re-read: the state that refused the step may be newer than the page.
        current = dict(
            MallShop.objects.filter(pk__in=[c.shop_id for c in refused]).values_list(
                "pk", "application_status"
            )
        )
        for connection in refused[:REFUSALS_SHOWN]:
            self.message_user(
                request,
                gettext("%(shop)s: “%(step)s” is not possible from “%(status)s”; left as it is.")
                % {
                    "shop": connection.makeshop_shop_id or connection.shop.name,
                    "step": APPLICATION_STEPS[step],
                    "status": Application(current.get(connection.shop_id)).label
                    if connection.shop_id in current else "—",
                },
                messages.ERROR,
            )
        if len(refused) > REFUSALS_SHOWN:
            self.message_user(
                request,
                gettext("… and %(count)d more shop(s) left as they are.")
                % {"count": len(refused) - REFUSALS_SHOWN},
                messages.ERROR,
            )

    def _confirmation_page(self, request, step, movable, blocked, *, form_url, cancel_url):
        _sources, target = services.APPLICATION_TRANSITIONS[step]
        if target == Application.APPROVED:
            retrieval = gettext("Their order retrieval switches to API.")
        elif target == Application.WITHDRAWN:
            retrieval = gettext("Shops retrieving orders by API go back to CSV import.")
        else:
            retrieval = ""
        context = {
            **self.admin_site.each_context(request),
            "title": APPLICATION_STEPS[step],
            "opts": self.model._meta,
            "action": step,
            "step_label": APPLICATION_STEPS[step],
            "target_label": target.label,
            "switches_retrieval": retrieval,
            "movable": movable,
            "blocked": blocked,
            "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
            "form_url": form_url,
            "cancel_url": cancel_url,
        }
        request.current_app = self.admin_site.name
        return TemplateResponse(request, "admin/malls/application_confirmation.html", context)

    # --- the per-shop application page ---

    def get_urls(self):
        info = self.opts.app_label, self.opts.model_name
        return [
            path(
                "<path:object_id>/application/<str:step>/",
                self.admin_site.admin_view(self.application_view),
                name="{}_{}_application".format(*info),
            ),
            *super().get_urls(),
        ]

    def application_view(self, request, object_id, step):
        """One shop's step: a confirmation page on GET, the move on POST."""
        connection = self.get_object(request, object_id)
        if connection is None:
            return self._get_obj_does_not_exist_redirect(request, self.opts, object_id)
        if not self.has_application_permission(request) or step not in APPLICATION_STEPS:
            raise PermissionDenied
        change_url = reverse("admin:malls_makeshopconnection_change", args=[connection.pk])
        if request.method == "POST":
            self._apply_step(request, [connection], step)
            return HttpResponseRedirect(change_url)
        if step not in services.allowed_application_actions(connection.shop):
            self.message_user(
                request,
                gettext("“%(step)s” is not possible from “%(status)s”.")
                % {
                    "step": APPLICATION_STEPS[step],
                    "status": connection.shop.get_application_status_display(),
                },
                messages.ERROR,
            )
            return HttpResponseRedirect(change_url)
        return self._confirmation_page(
            request, step, [connection], [], form_url=request.path, cancel_url=change_url
        )


# --- Background jobs --------------------------------------------------------------------

admin.site.unregister(DBTaskResult)


@admin.register(DBTaskResult)
class VerificationJobAdmin(DBTaskResultAdmin):
    """django-tasks-db's job list, plus each job's outcome and a way to revive stalled ones.

    The title counts jobs by status, so staff can follow a re-verification run.
    """

    list_display = [
        *DBTaskResultAdmin.list_display[:3], "outcome", *DBTaskResultAdmin.list_display[3:6],
        "worker_ids",
    ]
    actions = ["requeue_stalled"]

    def has_verify_permission(self, request):
        return request.user.has_perm(VERIFY_PERMISSION)

    @admin.display(description=_("outcome"))
    def outcome(self, obj):
        value = obj.return_value
        if isinstance(value, dict) and "outcomes" in value:  # a batch: counts per outcome
            counts = ", ".join(f"{name} {count}" for name, count in value["outcomes"].items())
            return f"{value['shops']}: {counts}"
        if isinstance(value, dict):
            parts = [value.get("shop_id"), value.get("outcome"), value.get("failed_check"),
                     value.get("reason")]
            return " ".join(str(part) for part in parts if part)
        if obj.status == "FAILED":
            return obj.exception_class_path.rsplit(".", 1)[-1]
        return "—"

    def changelist_view(self, request, extra_context=None):
        counts = dict(
            DBTaskResult.objects.order_by().values_list("status").annotate(n=Count("pk"))
        )
        labels = dict(DBTaskResult._meta.get_field("status").choices)
        progress = ", ".join(
            f"{labels.get(status, status)} {counts[status]}"
            for status in ("READY", "RUNNING", "SUCCESSFUL", "FAILED")
            if counts.get(status)
        )
        title = gettext("Background jobs")
        extra_context = {
            "title": f"{title}: {progress}" if progress else title, **(extra_context or {})
        }
        return super().changelist_view(request, extra_context)

    @admin.action(
        description=_("Put selected jobs whose worker died back on the queue"),
        permissions=["verify"],
    )
    def requeue_stalled(self, request, queryset):
        count = services.requeue_stalled_jobs(among=queryset)
        self.message_user(
            request,
            gettext(
                "%(count)d job(s) put back on the queue. Only jobs running for longer than "
                "%(minutes)d minutes are taken as stalled."
            ) % {"count": count, "minutes": services.STALLED_AFTER // timedelta(minutes=1)},
            messages.SUCCESS if count else messages.WARNING,
        )
