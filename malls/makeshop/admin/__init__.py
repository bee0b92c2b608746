"""Staff's admin for MakeShop: connections with the application workflow, the
overview, and the app installations (new API). Imported by Django's admin
autodiscovery (``malls.makeshop`` is an installed app)."""

from django.utils.translation import gettext_lazy as _

from malls.admin.history import register_labels
from malls.admin_site import register_overview

from . import connections, installations  # noqa: F401  (registers them)

register_labels(
    actions={
        "makeshop.created": _("MakeShop settings entered"),
        "makeshop.settings_saved": _("MakeShop settings changed"),
        "makeshop.verified": _("Verification result changed"),
        "notification_url.rotated": _("Update notification URL re-issued"),
        "makeshop.deleted": _("MakeShop settings deleted"),
        "makeshop.legacy_codes_removed": _("Auth codes removed (the shop uses the MakeShop app)"),
        "makeshop.shop_id_released": _(
            "Shop ID set aside (MakeShop verified it for another shop)"
        ),
        "notification_url.old_forgotten": _("Previous update notification URL stopped"),
        "notification_url.old_stopped": _(
            "Previous update notification URL stopped early (before its 24 hours)"
        ),
        "makeshop_app.installed": _("MakeShop app installed"),
        "makeshop_app.reinstalled": _("MakeShop app installed again (new token)"),
        "makeshop_app.uninstalled": _("MakeShop app uninstalled"),
        "makeshop_app.verified": _("App token verification result changed"),
        "makeshop_app.linked": _("MakeShop app linked to this shop"),
        "makeshop_app.unlinked": _("MakeShop app unlinked from this shop"),
    },
    values={
        "assigned": _("assigned by staff"),
        "automatic: legacy settings verified by MakeShop": _(
            "automatically: the shop's auth codes were verified by MakeShop"
        ),
    },
)


def _overview_context() -> dict:
    from . import overview, overview_chart

    summary = overview.build_overview()
    return {
        "overview": summary,
        "chart": overview_chart.line_chart(summary.days),
        "series_labels": [(key, overview.SERIES_LABELS[key]) for key in overview.SERIES],
        "all_url": overview.changelist_url({}),
    }


register_overview(
    permission="malls.view_makeshopconnection", build=_overview_context,
    template="admin/goq_overview.html",
)
