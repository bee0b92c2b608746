"""The API-use application's workflow on staff's MakeShop connection pages.

Three steps (applied, approved, withdrawn), each offered as a list action and as a
button on one shop's page; both go through a confirmation page listing which shops
move, and then through ``services.transition_application``, which checks the step
against the shop's current state and records it.
"""

from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.core.exceptions import PermissionDenied
from django.http import HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from .. import services
from ..models import ChangeRecord, MallShop
from .formatting import when

# Who may move the API-use application.
APPLICATION_PERMISSION = "malls.change_application"
# Refusals listed one by one after a bulk step; the rest are counted.
REFUSALS_SHOWN = 20

Application = MallShop.ApplicationStatus

APPLICATION_STEPS = {
    "mark_applied": _("Mark applied to MakeShop"),
    "mark_approved": _("Mark approved and switch order retrieval to API"),
    "withdraw": _("Withdraw the application"),
}


class ApplicationWorkflowMixin:
    """Actions, per-shop page and read-only fields of the application, for a connection admin.

    The model admin's rows are MakeShop connections; the application belongs to
    their shop (``connection.shop``).
    """

    def has_application_permission(self, request):
        return request.user.has_perm(APPLICATION_PERMISSION)

    # --- read-only fields ---

    @admin.display(description=_("API-use application"), ordering="shop__application_status")
    def application(self, obj):
        return obj.shop.get_application_status_display()

    @admin.display(description=_("API-use application"))
    def application_state(self, obj):
        shop = obj.shop
        since = when(shop.application_updated_at)
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

    # --- list actions ---

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
        self._report_refusals(request, refused, step)

    def _report_refusals(self, request, refused, step):
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
