"""List filters of the MakeShop connection list that the overview's numbers link to.

Each selects exactly the shops a figure of ``malls.makeshop.admin.overview`` counts, with the same
conditions, so following a number shows as many rows as the number says.
"""

from django.contrib import admin
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from malls.makeshop.admin import overview
from malls.makeshop.app import usage
from malls.makeshop.models import MakeShopConnection


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
