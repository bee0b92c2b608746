"""List filters of the MakeShop connection list, first those the overview's numbers link to.

Each of those selects exactly the shops a figure of ``malls.makeshop.admin.overview``
counts, with the same conditions, so following a number shows as many rows as the
number says.
"""

from datetime import timedelta

from django.contrib import admin
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from malls.makeshop.admin import overview
from malls.makeshop.api import Reason
from malls.makeshop.app import usage
from malls.makeshop.app.models import MakeShopAppInstallation
from malls.makeshop.models import MakeShopConnection, NotificationEvent

Status = MakeShopConnection.Status
AppState = MakeShopAppInstallation.State


class FailureCauseFilter(admin.SimpleListFilter):
    """Shops MakeShop is failing now (rejected or not verified), by failure reason."""

    title = _("cause of failure")
    parameter_name = "cause"

    def lookups(self, request, model_admin):
        return [(reason, overview.reason_label(reason)) for reason in overview.reason_labels()]

    def queryset(self, request, queryset):
        value = self.value()
        if not value:
            return queryset
        # Any reason code is accepted, not only the listed ones: MakeShop's answers name
        # more (http_503, bad_xml, ...), and the overview links to each.
        reason = "" if value == overview.NO_VALUE else value
        return queryset.filter(status__in=overview.FAILING, failure_reason=reason)


class FailingCheckFilter(admin.SimpleListFilter):
    """Shops MakeShop is failing now, by the credential that failed."""

    title = _("failing check")
    parameter_name = "check"

    def lookups(self, request, model_admin):
        return MakeShopConnection._meta.get_field("failed_check").choices

    def queryset(self, request, queryset):
        value = self.value()
        if not value:
            return queryset
        check = "" if value == overview.NO_VALUE else value
        return queryset.filter(status__in=overview.FAILING, failed_check=check)


class BrokeWithinFilter(admin.SimpleListFilter):
    """Shops that worked and have been rejected since a recent moment."""

    title = _("when it broke")
    parameter_name = "broke_within"

    def lookups(self, request, model_admin):
        return [
            ("24h", _("in the last 24 hours")),
            ("7d", _("in the last 7 days")),
        ]

    def queryset(self, request, queryset):
        span = overview.BROKE_WITHIN.get(self.value())
        if span is None:
            return queryset
        return queryset.filter(overview.BROKEN, failing_since__gte=timezone.now() - span)


class ApiFilter(admin.SimpleListFilter):
    """Shops by the MakeShop API they use: the app (new API) or auth codes (legacy)."""

    title = _("MakeShop API")
    parameter_name = "api"

    def lookups(self, request, model_admin):
        return [(api, overview.API_LABELS[api]) for api in usage.CONDITIONS]

    def queryset(self, request, queryset):
        condition = usage.CONDITIONS.get(self.value())
        return queryset if condition is None else queryset.filter(condition)


# --- The list's other filters ----------------------------------------------------------


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
            return queryset.filter(overview.BROKEN)
        if value in Status.values:
            # The status in use, as the overview counts it and the merchant sees it.
            return queryset.filter(usage.status_is(value))
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


class MakeShopEvidenceFilter(admin.SimpleListFilter):
    """What MakeShop's answers suggest beyond one shop: counts in the choices themselves."""

    title = _("MakeShop's answers")
    parameter_name = "evidence"
    RETIRED = Reason.LEGACY_API_RETIRED.value
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


class InstallationStateFilter(admin.SimpleListFilter):
    """Shops by their MakeShop app installation's state, or without one."""

    title = _("MakeShop app installation")
    parameter_name = "app_state"
    NONE = "none"

    def lookups(self, request, model_admin):
        return [(self.NONE, _("No installation")), *AppState.choices]

    def queryset(self, request, queryset):
        value = self.value()
        if value == self.NONE:
            return queryset.filter(app_installation__isnull=True)
        if value in AppState.values:
            return queryset.filter(app_installation__state=value)
        return queryset


# --- The change form ------------------------------------------------------------------------
