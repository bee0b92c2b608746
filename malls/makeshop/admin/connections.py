"""Staff's working list: every MakeShop shop across stores, and one shop's page.

What MakeShop last said of each shop, its API-use application (``application``),
its update notifications and its history. Everything that changes a connection goes
through ``malls.services``, which records the history. Nothing here calls MakeShop:
the change form runs inside a transaction, so saved settings and "re-verify" go to
the background workers. No page shows a stored secret; at most its last four
characters.
"""


from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Prefetch
from django.http import HttpResponseRedirect
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.decorators import method_decorator
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django.views.decorators.debug import sensitive_post_parameters

from malls.admin.application import ApplicationWorkflowMixin
from malls.admin.formatting import when
from malls.admin.history import HistoryByServicesMixin, history_table
from malls.admin.jobs import VERIFY_PERMISSION
from malls.admin.widgets import ValidOnlyAutocompleteMixin
from malls.makeshop import jobs as makeshop_jobs
from malls.makeshop import services as makeshop_services
from malls.makeshop.admin import columns as connection_columns
from malls.makeshop.admin import overview, overview_filters
from malls.makeshop.app import usage
from malls.makeshop.app.models import MakeShopAppInstallation
from malls.makeshop.forms import AuthCodeField, MakeShopPasswordField
from malls.makeshop.models import MakeShopConnection, NotificationEvent
from malls.makeshop.verdicts import likely_cause
from malls.models import ChangeRecord, Mall

RECENT_NOTIFICATIONS = 10

Status = MakeShopConnection.Status
AppState = MakeShopAppInstallation.State

SECRET_INPUTS = tuple(f"new_{name}" for name in MakeShopConnection.SECRET_FIELDS)


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

    # The merchant form's fields: staff's pasted codes are cleaned the same way.
    new_password = MakeShopPasswordField(label=_("Password"))
    new_order_auth_code = AuthCodeField(label=_("Order data auth code"))
    new_product_auth_code = AuthCodeField(label=_("Product data auth code"))
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
            makeshop_services.refuse_if_stale(self.instance, cleaned.get("expected_version"))
        except makeshop_services.ConcurrentEditError:
            raise ValidationError(self.error_messages["stale"], code="stale") from None
        return cleaned

    def new_secrets(self) -> dict[str, str]:
        return {
            name: self.cleaned_data[f"new_{name}"]
            for name in MakeShopConnection.SECRET_FIELDS
            if self.cleaned_data.get(f"new_{name}")
        }


# --- The admin ------------------------------------------------------------------------------


@admin.register(MakeShopConnection)
class MakeShopConnectionAdmin(
    ApplicationWorkflowMixin, HistoryByServicesMixin, ValidOnlyAutocompleteMixin,
    admin.ModelAdmin,
):
    """Every MakeShop shop across stores: API, verification, application, history."""

    form = MakeShopConnectionAdminForm
    # Fits 1,366 pixels: long texts are tooltips here, in full on the detail page.
    list_display = [
        "makeshop_shop_id",
        "store_name",
        connection_columns.api,
        connection_columns.verification,
        connection_columns.last_verified,
        connection_columns.failure,
        "application",
        "last_notification",
    ]
    list_display_links = ["makeshop_shop_id"]
    list_filter = [
        overview_filters.VerificationStatusFilter,
        overview_filters.ApiFilter,
        overview_filters.InstallationStateFilter,
        "shop__application_status",
        "shop__mall",
        overview_filters.FailingForFilter,
        # The overview's links (malls/overview.py) select shops through these.
        overview_filters.BrokeWithinFilter,
        overview_filters.FailureCauseFilter,
        overview_filters.FailingCheckFilter,
        overview_filters.MakeShopEvidenceFilter,
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
    actions = [
        "reverify", "mark_applied", "mark_approved", "withdraw", "new_notification_url",
        "stop_old_notification_url",
    ]
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
        "app_installation_summary",
        "last_notification",
        "recent_notifications",
        "history",
        "version",
        "created_at",
        "updated_at",
    ]

    def get_queryset(self, request):
        # The installation's state only: its token is never loaded on these pages.
        installation = Prefetch(
            "app_installation",
            queryset=MakeShopAppInstallation.objects.only("pk", "connection_id", "state"),
        )
        return super().get_queryset(request).prefetch_related("shop__store", installation)

    # --- permissions ---

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
            (_("MakeShop app (new API)"), {"fields": ["app_installation_summary"]}),
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
        except makeshop_services.ConcurrentEditError:
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
                makeshop_services.delete_makeshop_connection(
                    connection=connection, actor=request.user
                )

    def save_model(self, request, obj, form, change):
        """Save through the service: secrets encrypted, history written, check queued."""
        saved = makeshop_services.apply_makeshop_settings(
            connection=obj,
            shop_id=form.cleaned_data["makeshop_shop_id"],
            new_secrets=form.new_secrets(),
            expected_version=form.cleaned_data.get("expected_version") if change else None,
            verify=makeshop_services.Verify.LATER,
            actor=request.user,
            source=ChangeRecord.Source.ADMIN,
        ).connection
        obj.pk, obj.version = saved.pk, saved.version

    # --- columns and read-only fields ---

    @admin.display(description=_("store"), ordering="shop__store__name")
    def store_name(self, obj):
        return obj.shop.store.name

    @admin.display(description=_("last update notification"), ordering="last_notification_at")
    def last_notification(self, obj):
        if not obj.last_notification_at:
            return gettext("never")
        labels = dict(NotificationEvent.Kind.choices)
        kind = labels.get(obj.last_notification_kind, obj.last_notification_kind)
        return f"{when(obj.last_notification_at)} {kind}".strip()

    @admin.display(description=_("Recent notifications"))
    def recent_notifications(self, obj):
        return render_to_string(
            "admin/malls/includes/notifications_table.html",
            {"events": obj.notifications.all()[:RECENT_NOTIFICATIONS]},
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
        """The status; for a shop that worked, since when it no longer does and why, likely."""
        status = obj.get_status_display()
        if obj.is_broken:
            status = format_html(
                "<strong>{}</strong><br>{}", status,
                gettext("worked until %(when)s") % {"when": when(obj.verified_at)},
            )
        cause = likely_cause(obj)
        if cause:
            status = format_html("{}<br><em>{}</em>", status, cause)
        paused_until = makeshop_services.checks_paused_until(obj.makeshop_shop_id)
        if paused_until:
            status = format_html(
                "{}<br><strong>{}</strong>", status,
                gettext(
                    "MakeShop refused this shop ID too often in the last hour (from any store): "
                    "GoQ asks MakeShop nothing about it until %(when)s. See the log's warnings "
                    "for the stores that asked."
                ) % {"when": when(paused_until)},
            )
        return status

    @admin.display(description=_("MakeShop app installation"))
    def app_installation_summary(self, obj):
        """Which API the shop uses, and its installation with a link to it (or none)."""
        api = overview.API_LABELS.get(usage.api_of(obj), "—")
        installation = usage.installation_of(obj)
        if installation is None:
            return format_html("{}<br>{}", api, gettext("No installation linked to this shop."))
        url = reverse("admin:malls_makeshopappinstallation_change", args=[installation.pk])
        return format_html('{}<br><a href="{}">{}</a>', api, url, installation.get_state_display())

    @admin.display(description=_("History"))
    def history(self, obj):
        return history_table(obj.shop)

    # --- actions ---

    @admin.action(description=_("Re-verify selected with MakeShop (in the background)"),
                  permissions=["verify"])
    def reverify(self, request, queryset):
        selected = queryset.count()
        ids = list(
            queryset.filter(pk__in=makeshop_services.verifiable_connections().values("pk")).values_list(
                "pk", flat=True
            )
        )
        queued, already_open = makeshop_jobs.enqueue_verification(connection_ids=ids)
        tokens = list(
            MakeShopAppInstallation.objects.filter(connection__in=queryset.values("pk"))
            .exclude(state=AppState.UNINSTALLED).values_list("pk", flat=True)
        )
        if tokens:
            makeshop_jobs.enqueue_installation_verification(installation_ids=tokens)
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
        if tokens:
            self.message_user(
                request,
                gettext("Queued %(count)d MakeShop app token(s) for verification as well.")
                % {"count": len(tokens)},
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
                makeshop_services.rotate_notification_token(
                    connection=connection, actor=request.user, source=ChangeRecord.Source.ADMIN
                )
            except makeshop_services.NotificationUrlInGrace:
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

    @admin.action(
        description=_("Stop the previous update-notification URL now (it may have leaked)"),
        permissions=["change"],
    )
    def stop_old_notification_url(self, request, queryset):
        stopped = sum(
            makeshop_services.stop_previous_notification_url(
                connection=connection, actor=request.user, source=ChangeRecord.Source.ADMIN
            )
            for connection in queryset.select_related("shop")
        )
        self.message_user(
            request,
            gettext(
                "Stopped the previous notification URL of %(count)d shop(s) (the others had "
                "none still working). Notifications sent to it now answer as unknown."
            ) % {"count": stopped},
            messages.SUCCESS,
        )
