"""MakeShop app installations (new API), and how staff give one to the right shop.

MakeShop's install webhook names only its shop ID; an installation links itself to a
GoQ shop only with proof of control, otherwise it waits here, unclaimed, for staff.
Assigning (and taking back) goes through ``makeshop.app.installations``, which
checks the shop ID and writes the history; it needs a permission of its own
(``ASSIGN_PERMISSION``), as a token serves whichever shop it is given to. The
token itself is never loaded here (``defer``), let alone shown.
"""

import json

from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.core.exceptions import PermissionDenied
from django.http import HttpResponseRedirect
from django.template.loader import render_to_string
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html
from django.utils.translation import gettext, gettext_noop
from django.utils.translation import gettext_lazy as _

from malls.admin.history import HISTORY_LIMIT, render_history
from malls.admin.jobs import VERIFY_PERMISSION
from malls.makeshop import jobs as makeshop_jobs
from malls.makeshop.admin import overview
from malls.makeshop.app import installations, receipts
from malls.makeshop.app.models import AppWebhookReceipt, MakeShopAppInstallation
from malls.makeshop.models import MakeShopConnection

ASSIGN_PERMISSION = "malls.assign_makeshopappinstallation"

State = MakeShopAppInstallation.State
Source = installations.Source

# Webhooks shown on an installation's page; the receipts list has the rest kept.
RECEIPTS_SHOWN = 20
SHAPE_SHOWN = 2000

# Shops offered on the assignment page, per kind (same shop ID; no shop ID yet).
CANDIDATES_SHOWN = 100
# A connection's legacy credentials MakeShop has accepted for its shop ID, and when.
PROOF_FIELDS = ("order_auth_code_verified_at", "product_auth_code_verified_at",
                "password_verified_at")

# The reasons ``installations.assign_installation`` gives (in English), for the catalogue:
# staff read them through gettext.
ASSIGNMENT_REFUSALS = (
    gettext_noop("This installation already serves another shop."),
    gettext_noop("This shop already has a MakeShop app installation."),
    gettext_noop("Another shop uses this MakeShop shop ID."),
    gettext_noop("The shop's MakeShop shop ID is a different one."),
)


def candidates_for(installation):
    """The connections staff may give ``installation`` to, same shop ID first.

    Same shop ID compared without regard to case, so a near-duplicate shows up
    (the service still requires an exact match): those whose legacy credentials
    MakeShop has accepted for it first (latest acceptance first), then the claims it
    never accepted (anyone can type a shop ID), then shops with no shop ID yet (they
    take the installation's). Each carries ``accepted_at``, MakeShop's latest
    acceptance of its codes, or None. Shops that already have an installation are
    left out.
    """
    free = MakeShopConnection.objects.filter(app_installation__isnull=True).select_related(
        "shop__store"
    )
    same = list(free.filter(makeshop_shop_id__iexact=installation.shop_id).order_by(
        "makeshop_shop_id", "pk"
    )[:CANDIDATES_SHOWN])
    for connection in same:
        times = [getattr(connection, name) for name in PROOF_FIELDS]
        connection.accepted_at = max((t for t in times if t), default=None)
    same.sort(key=lambda c: (c.accepted_at is None, -(c.accepted_at.timestamp()
                                                      if c.accepted_at else 0)))
    unnamed = list(free.filter(makeshop_shop_id__isnull=True).order_by(
        "shop__store__name", "pk")[:CANDIDATES_SHOWN])
    for connection in unnamed:
        connection.accepted_at = None
    return [*same, *unnamed]


def shape_text(receipt) -> str:
    """A receipt's shape (key names and sizes) as one line of JSON, cut short."""
    text = json.dumps(receipt.shape, ensure_ascii=False, separators=(",", ":"))
    return text if len(text) <= SHAPE_SHOWN else text[:SHAPE_SHOWN] + "…"


class ClaimFilter(admin.SimpleListFilter):
    """Installations waiting for staff (``installations.unclaimed_installations``) or linked."""

    title = _("assignment")
    parameter_name = "claimed"

    def lookups(self, request, model_admin):
        return [("no", _("Waiting for staff to assign")), ("yes", _("Linked to a shop"))]

    def queryset(self, request, queryset):
        if self.value() == "no":
            return queryset.filter(
                pk__in=installations.unclaimed_installations().values("pk")
            )
        if self.value() == "yes":
            return queryset.filter(connection__isnull=False)
        return queryset


@admin.register(MakeShopAppInstallation)
class MakeShopAppInstallationAdmin(admin.ModelAdmin):
    """Read-only; changes go through the actions and the assignment pages."""

    list_display = ["shop_id", "state", "installed_at", "linked_shop", "last_checked_at"]
    list_filter = [ClaimFilter, "state"]
    search_fields = ["shop_id"]
    search_help_text = _("MakeShop shop ID")
    ordering = ["shop_id"]
    show_full_result_count = False
    actions = ["assign", "unassign", "reverify"]
    readonly_fields = [
        "shop_id", "state", "plan_id", "app_name", "installed_at", "uninstalled_at",
        "last_checked_at", "verified_at", "failure_reason", "makeshop_message",
        "last_update_at", "pending_since", "uninstall_reported_at", "link_proved_at",
        "link_held_at", "linked_shop", "linked_by", "linked_at", "assignment_state",
        "assignment_panel", "order_updates", "webhooks", "events", "created_at",
        "updated_at",
    ]

    def get_queryset(self, request):
        return (
            super().get_queryset(request).defer("token", "pending_token")
            .select_related("connection__shop__store", "linked_by")
        )

    # --- permissions ---

    def has_add_permission(self, request):
        return False  # installations come from MakeShop's webhook

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def has_assign_permission(self, request):
        return request.user.has_perm(ASSIGN_PERMISSION)

    def has_verify_permission(self, request):
        return request.user.has_perm(VERIFY_PERMISSION)

    # --- the page ---

    def get_fieldsets(self, request, obj=None):
        return [
            (None, {"fields": ["shop_id", "state", "plan_id", "app_name"]}),
            (
                _("Shop"),
                # Read-only fields see no request: pick the one with buttons here.
                {"fields": ["assignment_panel" if self.has_assign_permission(request)
                            else "assignment_state", "linked_by", "linked_at"]},
            ),
            (
                _("Verification"),
                {"fields": ["installed_at", "uninstalled_at", "last_checked_at", "verified_at",
                            "failure_reason", "makeshop_message", "last_update_at",
                            "pending_since", "uninstall_reported_at", "link_proved_at",
                            "link_held_at"]},
            ),
            (_("Webhooks from MakeShop"), {"fields": ["order_updates", "webhooks"]}),
            (_("History"), {"fields": ["events"]}),
            (_("Record"), {"fields": ["created_at", "updated_at"]}),
        ]

    @admin.display(description=_("linked shop"), ordering="connection__makeshop_shop_id")
    def linked_shop(self, obj):
        connection = obj.connection
        if connection is None:
            return gettext("waiting for staff") if obj.state != State.UNINSTALLED else None
        link = format_html(
            '<a href="{}">{} / {}</a>',
            reverse("admin:malls_makeshopconnection_change", args=[connection.pk]),
            connection.shop.store.name, connection.shop.name,
        )
        if obj.link_held_at is not None:
            return format_html(
                '{} <strong class="goq-held">{}</strong>', link,
                gettext("held: MakeShop refuses this shop's codes now; the token serves "
                        "nobody until staff assign it again"),
            )
        return link

    @admin.display(description=_("linked shop"))
    def assignment_state(self, obj):
        return self.linked_shop(obj) or "—"

    @admin.display(description=_("linked shop"))
    def assignment_panel(self, obj):
        """The linked shop, and a button to assign or take back (for staff allowed to)."""
        current = self.assignment_state(obj)
        if obj.connection_id is None:
            if obj.state == State.UNINSTALLED:
                return current
            step, label = "assign", gettext("Assign to a shop")
        else:
            step, label = "unassign", gettext("Take back from this shop")
        url = reverse(f"admin:malls_makeshopappinstallation_{step}", args=[obj.pk])
        return format_html('{}<p><a class="button" href="{}">{}</a></p>', current, url, label)

    @admin.display(description=_("Latest order updates"))
    def order_updates(self, obj):
        """A linked installation's order updates, as its shop records them (one per order);
        an unclaimed one shows only when the last arrived (``last_update_at``)."""
        if obj.connection_id is None:
            return gettext("Recorded for a linked shop only; last received: %(when)s") % {
                "when": obj.last_update_at or "—"}
        return render_to_string(
            "admin/malls/includes/notifications_table.html",
            {"events": obj.connection.notifications.all()[:RECEIPTS_SHOWN]},
        )

    @admin.display(description=_("Latest webhooks"))
    def webhooks(self, obj):
        """Installs, uninstalls, re-consents, and order updates of an unrecognised shape or
        carrying signature headers, as MakeShop sent them (key names and sizes only)."""
        rows = list(receipts.recent(obj, RECEIPTS_SHOWN))
        for receipt in rows:
            receipt.shape_text = shape_text(receipt)
        more_url = (reverse("admin:malls_appwebhookreceipt_changelist")
                    + f"?installation__id__exact={obj.pk}")
        return render_to_string("admin/malls/makeshopappinstallation/receipts_table.html",
                                {"receipts": rows, "more_url": more_url})

    @admin.display(description=_("History"))
    def events(self, obj):
        records = obj.events.select_related("actor").order_by("-at", "-pk")[:HISTORY_LIMIT]
        more_url = more_label = ""
        if obj.connection_id is not None:
            more_url = (reverse("admin:malls_changerecord_changelist")
                        + f"?shop__id__exact={obj.connection.shop_id}")
            more_label = gettext("Full history of the linked shop")
        return render_history(
            records, empty=gettext("No events recorded yet."), more_url=more_url,
            more_label=more_label,
        )

    def changelist_view(self, request, extra_context=None):
        """The list, headed by how many shops are on each API and how many installations wait."""
        counts = overview.connection_counts()
        extra_context = {
            "api_figures": overview.api_figures(counts),
            "unclaimed": installations.unclaimed_installations().count(),
            "unclaimed_url": reverse("admin:malls_makeshopappinstallation_changelist")
            + "?claimed=no",
            **(extra_context or {}),
        }
        return super().changelist_view(request, extra_context)

    # --- actions ---

    @admin.action(description=_("Assign the selected installation to a shop"),
                  permissions=["assign"])
    def assign(self, request, queryset):
        chosen = list(queryset[:2])
        if len(chosen) != 1:
            self.message_user(
                request, gettext("Choose exactly one installation to assign."), messages.WARNING
            )
            return None
        return HttpResponseRedirect(
            reverse("admin:malls_makeshopappinstallation_assign", args=[chosen[0].pk])
        )

    @admin.action(description=_("Take the selected installations back from their shops"),
                  permissions=["assign"])
    def unassign(self, request, queryset):
        linked = list(queryset.filter(connection__isnull=False))
        if not linked:
            self.message_user(
                request, gettext("None of the selected installations is linked to a shop."),
                messages.WARNING,
            )
            return None
        if request.POST.get("confirm") != "yes":
            return self._unassign_page(request, linked, form_url="")
        for installation in linked:
            installations.unassign_installation(
                installation=installation, actor=request.user, source=Source.ADMIN
            )
        self.message_user(
            request,
            gettext("%(count)d installation(s) taken back; they wait for staff again.")
            % {"count": len(linked)},
            messages.SUCCESS,
        )
        return None

    @admin.action(description=_("Re-verify the selected app tokens with MakeShop (in the "
                                "background)"), permissions=["verify"])
    def reverify(self, request, queryset):
        ids = list(queryset.exclude(state=State.UNINSTALLED).values_list("pk", flat=True))
        queued, _ = (
            makeshop_jobs.enqueue_installation_verification(installation_ids=ids) if ids else (0, 0)
        )
        self.message_user(
            request,
            gettext(
                "Queued %(queued)d app token(s) for verification; %(skipped)d uninstalled "
                "installation(s) have no token to verify."
            ) % {"queued": queued, "skipped": queryset.count() - len(ids)},
            messages.SUCCESS,
        )

    # --- the assignment pages ---

    def get_urls(self):
        info = self.opts.app_label, self.opts.model_name
        return [
            path("<path:object_id>/assign/", self.admin_site.admin_view(self.assign_view),
                 name="{}_{}_assign".format(*info)),
            path("<path:object_id>/unassign/", self.admin_site.admin_view(self.unassign_view),
                 name="{}_{}_unassign".format(*info)),
            *super().get_urls(),
        ]

    def _installation_or_refuse(self, request, object_id):
        installation = self.get_object(request, object_id)
        if installation is not None and not (
            self.has_view_permission(request, installation) and self.has_assign_permission(request)
        ):
            raise PermissionDenied
        return installation

    def assign_view(self, request, object_id):
        """GET: the shops this installation may go to. POST: give it to the chosen one."""
        installation = self._installation_or_refuse(request, object_id)
        if installation is None:
            return self._get_obj_does_not_exist_redirect(request, self.opts, object_id)
        change_url = reverse("admin:malls_makeshopappinstallation_change", args=[object_id])
        candidates = candidates_for(installation)
        if request.method == "POST":
            chosen = next(
                (c for c in candidates if str(c.pk) == request.POST.get("connection")), None
            )
            if chosen is None:
                self.message_user(request, gettext("Choose one of the shops listed."),
                                  messages.ERROR)
                return HttpResponseRedirect(request.path)
            try:
                installations.assign_installation(
                    installation=installation, connection=chosen, actor=request.user,
                    source=Source.ADMIN,
                )
            except installations.AssignmentError as error:
                self.message_user(request, gettext(str(error)), messages.ERROR)
                return HttpResponseRedirect(request.path)
            self.message_user(
                request,
                gettext("The installation for %(shop_id)s now serves %(shop)s.")
                % {"shop_id": installation.shop_id,
                   "shop": f"{chosen.shop.store.name} / {chosen.shop.name}"},
                messages.SUCCESS,
            )
            return HttpResponseRedirect(change_url)
        if installation.connection_id is not None:
            self.message_user(
                request, gettext("This installation already serves a shop; take it back first."),
                messages.WARNING,
            )
            return HttpResponseRedirect(change_url)
        context = {
            **self.admin_site.each_context(request),
            "title": gettext("Assign the MakeShop app installation for %(shop_id)s")
            % {"shop_id": installation.shop_id},
            "opts": self.opts,
            "installation": installation,
            "candidates": candidates,
            "cancel_url": change_url,
        }
        request.current_app = self.admin_site.name
        return TemplateResponse(
            request, "admin/malls/makeshopappinstallation/assign.html", context
        )

    def unassign_view(self, request, object_id):
        """GET: confirm taking the installation back. POST: take it back."""
        installation = self._installation_or_refuse(request, object_id)
        if installation is None:
            return self._get_obj_does_not_exist_redirect(request, self.opts, object_id)
        change_url = reverse("admin:malls_makeshopappinstallation_change", args=[object_id])
        if installation.connection_id is None:
            return HttpResponseRedirect(change_url)
        if request.method == "POST":
            installations.unassign_installation(
                installation=installation, actor=request.user, source=Source.ADMIN
            )
            self.message_user(
                request, gettext("The installation waits for staff again."), messages.SUCCESS
            )
            return HttpResponseRedirect(change_url)
        return self._unassign_page(request, [installation], form_url=request.path,
                                   cancel_url=change_url)

    def _unassign_page(self, request, linked, *, form_url, cancel_url=None):
        context = {
            **self.admin_site.each_context(request),
            "title": gettext("Take MakeShop app installations back from their shops"),
            "opts": self.opts,
            "installations": linked,
            "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
            "form_url": form_url,
            "cancel_url": cancel_url or reverse("admin:malls_makeshopappinstallation_changelist"),
        }
        request.current_app = self.admin_site.name
        return TemplateResponse(
            request, "admin/malls/makeshopappinstallation/unassign_confirmation.html", context
        )


@admin.register(AppWebhookReceipt)
class AppWebhookReceiptAdmin(admin.ModelAdmin):
    """Every app webhook kept (``receipts``), unrecognised shapes too; read-only.

    Seen by whoever may see installations: a receipt holds order numbers and key
    names, never a token or another value of the body.
    """

    list_display = ["received_at", "kind", "shop_id", "installation_link", "order_count",
                    "recognised", "status", "signature_headers"]
    list_filter = ["recognised", "kind", "status",
                   ("installation", admin.EmptyFieldListFilter)]
    search_fields = ["shop_id"]
    search_help_text = _("MakeShop shop ID")
    show_full_result_count = False
    readonly_fields = ["received_at", "kind", "shop_id", "installation_link", "order_numbers",
                       "recognised", "status", "signature_headers", "shape_json"]
    fields = readonly_fields

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("installation").defer(
            "installation__token"
        )

    def has_view_permission(self, request, obj=None):
        return request.user.has_perm("malls.view_makeshopappinstallation")

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.display(description=_("MakeShop app installation"))
    def installation_link(self, obj):
        if obj.installation_id is None:
            return gettext("no installation")
        return format_html(
            '<a href="{}">{}</a>',
            reverse("admin:malls_makeshopappinstallation_change", args=[obj.installation_id]),
            obj.installation.shop_id,
        )

    @admin.display(description=_("orders"))
    def order_count(self, obj):
        return len(obj.order_numbers)

    @admin.display(description=_("shape (key names and sizes)"))
    def shape_json(self, obj):
        return format_html("<code>{}</code>", shape_text(obj))
