"""Compact columns for staff's MakeShop connection list, so that it fits a 1,366-pixel screen.

A row says what failed in a few words; MakeShop's full message and the likely cause
are a tooltip here and stay in full on the connection's page.
"""

from django.contrib import admin
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.html import format_html
from django.utils.translation import gettext, pgettext_lazy
from django.utils.translation import gettext_lazy as _

from malls.makeshop.admin import overview
from malls.makeshop.app import usage
from malls.makeshop.app.models import MakeShopAppInstallation
from malls.makeshop.presenters import app_state_label

# The API column's words: short, the overview and the filter say them in full.
API_SHORT = {
    usage.APP: pgettext_lazy("MakeShop API, short", "App"),
    usage.LEGACY: pgettext_lazy("MakeShop API, short", "Auth codes"),
}


@admin.display(description=_("last verified at"), ordering="verified_at")
def last_verified(connection):
    if connection.verified_at is None:
        return None  # the list's empty mark
    return date_format(timezone.localtime(connection.verified_at), "SHORT_DATETIME_FORMAT")


@admin.display(description=_("cause of failure"), ordering="failure_reason")
def failure(connection):
    """"Order data auth code: code refused"; MakeShop's message and the advice on hover."""
    if connection.status not in overview.FAILING or not connection.failed_check:
        return ""
    reason = overview.reason_label(connection.failure_reason)
    label = f"{connection.get_failed_check_display()}: {reason}"
    details = [
        text for text in (connection.makeshop_message, overview.likely_cause(connection)) if text
    ]
    if not details:
        return label
    return format_html('<span class="goq-hint" title="{}">{}</span>', "\n".join(details), label)


@admin.display(description=_("failure reason"))
def failure_reason(connection):
    """The reason in staff's words, with MakeShop's code for talking to MakeShop."""
    if not connection.failure_reason:
        return None
    label = overview.reason_label(connection.failure_reason)
    if label == connection.failure_reason:
        return label
    return f"{label} ({connection.failure_reason})"


@admin.display(description=_("verification status"), ordering="status")
def verification(connection):
    """The status in use, in the merchant's list's words; a shop that worked before is in
    bold (its last success is the next column).

    A shop on the app shows the app's state, as the merchant's list does. A saved secret
    that cannot be decrypted outranks the stored status, which may predate the damage
    (no check has run since): the row never says 接続確認済み then.
    """
    if usage.status_in_use(connection) != connection.status:  # on the app
        return app_state_label(MakeShopAppInstallation.State.VERIFIED)
    if connection.status != connection.Status.UNSET and connection.has_unreadable_secret:
        return format_html(
            '<strong class="goq-hint" title="{}">{}</strong>',
            gettext(
                "A saved secret can no longer be decrypted (a retired key, or damaged data): "
                "the merchant must enter it again."
            ),
            gettext("Must be entered again"),
        )
    if not overview.is_broken(connection):
        return connection.get_status_display()
    when = date_format(timezone.localtime(connection.verified_at), "SHORT_DATETIME_FORMAT")
    return format_html(
        '<strong class="goq-hint" title="{}">{}</strong>',
        gettext("worked until %(when)s") % {"when": when},
        connection.get_status_display(),
    )


@admin.display(description=pgettext_lazy("MakeShop API, short", "API"))
def api(connection):
    """"App" or "Auth codes"; under it, an installation's state while the app is not in use.

    Reads the installation prefetched by the list (``app_installation``).
    """
    label = API_SHORT.get(usage.api_of(connection), "—")
    installation = usage.installation_of(connection)
    if installation is None or installation.state == MakeShopAppInstallation.State.VERIFIED:
        return label
    return format_html(
        "{}<br><small>{}: {}</small>", label, API_SHORT[usage.APP],
        installation.get_state_display(),
    )
