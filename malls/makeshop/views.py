"""MakeShop's merchant screens: add a shop, its settings (auth codes or the app), the
legacy codes' removal, the setup guide and the update-notification URL.

Views only: what a status says is ``malls.makeshop.presenters``, an undecided save
waits in ``malls.pending``, and every change is a service call. Every view needs a
signed-in member of a store and looks shops up through the user's memberships
(``malls.access``), so another store's shop is a 404. Pages that show settings are
never cached.
"""

from django.contrib import messages
from django.http import Http404, HttpResponseNotAllowed
from django.shortcuts import redirect, render
from django.utils import dateformat, timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_http_methods, require_POST

from malls import pending, providers, views
from malls.access import mall_shop_or_404, store_member_required
from malls.makeshop import presenters
from malls.makeshop import services as makeshop_services
from malls.makeshop.app.legacy_codes import AppNotInUse, remove_legacy_codes
from malls.makeshop.forms import AddMakeShopShopForm, MakeShopSettingsForm
from malls.makeshop.models import MakeShopConnection
from malls.makeshop.notifications import notification_path
from malls.models import ChangeRecord, Mall, MallShop

RECENT_NOTIFICATIONS = 10

Status = MakeShopConnection.Status


def makeshop_shop_or_404(request, shop_pk) -> MallShop:
    """One of the user's MakeShop shops, with its connection loaded if it has one."""
    return mall_shop_or_404(request, shop_pk, mall_code=Mall.MAKESHOP, related=("makeshop",))


def connection_of(shop) -> MakeShopConnection:
    """The shop's saved connection, or a new unsaved one."""
    try:
        return shop.makeshop
    except MakeShopConnection.DoesNotExist:
        return MakeShopConnection(shop=shop)


@never_cache
@require_http_methods(["GET", "POST"])
@store_member_required
def makeshop_add(request):
    """Add a MakeShop shop to the current store, then open its settings."""
    return views.add_shop(
        request, mall_code=Mall.MAKESHOP, form_class=AddMakeShopShopForm,
        settings_url_name="malls:makeshop_settings", title=_("Add a MakeShop shop"),
        next_step=_("Give the shop a name, then enter its MakeShop settings on the next page."),
    )


# --- A MakeShop shop ---------------------------------------------------------------------


def _shop_context(shop, connection) -> dict:
    """What every page of a MakeShop shop shows: which API it uses and in what state."""
    saved = not connection._state.adding
    app = presenters.app_status(connection)
    legacy_codes = presenters.has_legacy_codes(connection)
    api = presenters.api_in_use(app, legacy_codes)
    return {
        "shop": shop,
        "connection": connection if saved else None,
        "status": presenters.connection_status(connection if saved else None),
        "app": app,
        "api": api,
        "api_label": presenters.API_LABELS[api],
        "legacy_codes": legacy_codes,
        "application_approved": shop.application_status == MallShop.ApplicationStatus.APPROVED,
    }


def _undecided_reason(verification) -> str:
    """Why MakeShop gave no verdict, in plain words."""
    failure = verification.first_failure()
    makeshop = providers.get(Mall.MAKESHOP)
    if failure is None:  # some checks could not run at all
        return makeshop.advice(None, None, rejected=False)
    return makeshop.advice(failure.check, failure.reason, rejected=False)


def _minutes(seconds) -> int:
    return max(1, round(seconds / 60))


def _hours(duration) -> int:
    return max(1, round(duration.total_seconds() / 3600))


SAVED_MESSAGES = {
    Status.VERIFIED: gettext_lazy("The settings were saved and MakeShop accepted them."),
    Status.UNVERIFIED: gettext_lazy(
        "The settings were saved as not yet verified (接続未確認). GoQ will check them with "
        "MakeShop later."
    ),
}


@never_cache
@sensitive_post_parameters(*MakeShopConnection.SECRET_FIELDS)
@require_http_methods(["GET", "POST"])
@store_member_required
def makeshop_settings(request, shop_pk):
    """A MakeShop shop's page: the two ways to connect, and the auth-code settings.

    The auth codes (MakeShop外部システム連携設定) are verified with MakeShop, then
    saved. Accepted: saved, then the next steps. Rejected: nothing saved, the verdict
    on its field. MakeShop unreachable: the merchant decides whether to keep the new
    settings as 接続未確認; the choice is a second POST that carries no secret.
    """
    shop = makeshop_shop_or_404(request, shop_pk)
    connection = connection_of(shop)
    undecided = None
    if request.method == "POST":
        keep_unverified = request.POST.get("action") == "keep_unverified"
        if keep_unverified:
            data = pending.pop(request, shop)
            if data is None:
                minutes = _minutes(pending.PENDING_TTL_SECONDS)
                messages.error(
                    request,
                    ngettext(
                        "The settings you entered were no longer kept (after %(minutes)d "
                        "minute they are discarded). Enter them again.",
                        "The settings you entered were no longer kept (after %(minutes)d "
                        "minutes they are discarded). Enter them again.",
                        minutes,
                    ) % {"minutes": minutes},
                )
                return redirect("malls:makeshop_settings", shop_pk=shop.pk)
        else:
            pending.drop(request, shop)
            data = request.POST
        form = MakeShopSettingsForm(data, connection=connection)
        if form.is_valid():
            result = form.save(keep_unverified=keep_unverified, actor=request.user)
            if result is not None and result.saved:
                status = Status(result.connection.status)
                messages.success(
                    request, SAVED_MESSAGES.get(status, gettext_lazy("The settings were saved."))
                )
                return redirect("malls:makeshop_guide", shop_pk=shop.pk)
            if result is not None and result.needs_decision:
                pending.stash(request, shop, form.cleaned_data)
                undecided = _undecided_reason(result.verification)
    else:
        pending.drop(request, shop)
        form = MakeShopSettingsForm(connection=connection)
    return render(
        request,
        "malls/makeshop_settings.html",
        {
            **_shop_context(shop, connection),
            "is_new": connection._state.adding,
            "form": form,
            "undecided": undecided,
        },
    )


@never_cache
@store_member_required
def makeshop_app(request, shop_pk):
    """Connecting through the MakeShop app (new API): the steps, the state, the way off
    the auth codes.

    Shows only what concerns this shop's own connection; linking an installation to
    the shop is done by the installation's proof or by GoQ staff, never from here.
    """
    shop = makeshop_shop_or_404(request, shop_pk)
    connection = connection_of(shop)
    return render(request, "malls/makeshop_app.html", _shop_context(shop, connection))


@never_cache
@require_POST
@store_member_required
def makeshop_remove_legacy_codes(request, shop_pk):
    """Remove the auth codes of a shop the MakeShop app now serves."""
    shop = makeshop_shop_or_404(request, shop_pk)
    connection = connection_of(shop)
    if connection._state.adding:
        raise Http404
    try:
        remove_legacy_codes(
            connection=connection, actor=request.user, source=ChangeRecord.Source.MERCHANT
        )
    except AppNotInUse:
        messages.error(
            request,
            _(
                "The auth codes were not removed: this shop does not use the MakeShop app yet. "
                "They can be removed once the app's access is verified."
            ),
        )
    else:
        messages.success(
            request,
            _("The auth codes were removed from GoQ. The shop is connected through the MakeShop "
              "app."),
        )
    return redirect("malls:makeshop_app", shop_pk=shop.pk)


def _old_url_valid_until(connection):
    """Until when a retired notification URL still works, or None."""
    until = connection.previous_token_expires_at
    if connection.previous_notification_token and until and until > timezone.now():
        return until
    return None


@never_cache
@store_member_required
def makeshop_guide(request, shop_pk):
    """The next step: what to set in MakeShop, with this shop's update-notification URL."""
    shop = makeshop_shop_or_404(request, shop_pk)
    connection = connection_of(shop)
    if connection._state.adding:
        messages.info(request, _("Save the shop's MakeShop settings first."))
        return redirect("malls:makeshop_settings", shop_pk=shop.pk)
    return render(
        request,
        "malls/makeshop_guide.html",
        {
            **_shop_context(shop, connection),
            "notification_url": request.build_absolute_uri(notification_path(connection)),
            "recent_notifications": connection.notifications.all()[:RECENT_NOTIFICATIONS],
            "old_url_valid_until": _old_url_valid_until(connection),
            "grace_hours": _hours(makeshop_services.NOTIFICATION_TOKEN_GRACE),
        },
    )


def _local(moment) -> str:
    """A moment as the pages print one: Japan time, 2026-11-30 09:00."""
    return dateformat.format(timezone.localtime(moment), "Y-m-d H:i")


@never_cache
@store_member_required
def makeshop_new_notification_url(request, shop_pk):
    """Issue a new update-notification URL; the old one keeps working for the grace period."""
    shop = makeshop_shop_or_404(request, shop_pk)  # another store's shop: 404, any method
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    connection = connection_of(shop)
    if connection._state.adding:
        raise Http404
    try:
        rotated = makeshop_services.rotate_notification_token(
            connection=connection, actor=request.user, source=ChangeRecord.Source.MERCHANT
        )
    except makeshop_services.NotificationUrlInGrace as refused:
        messages.error(
            request,
            _(
                "No new URL was issued: the previous URL still works until %(until)s, and a new "
                "URL now would stop it early. The URL on this page is the current one; a new "
                "one can be issued after that time."
            ) % {"until": _local(refused.until)},
        )
        return redirect("malls:makeshop_guide", shop_pk=shop.pk)
    hours = _hours(makeshop_services.NOTIFICATION_TOKEN_GRACE)
    messages.success(
        request,
        ngettext(
            "A new URL was issued. Paste it into MakeShop's 更新通知APIのURL now: the old URL "
            "keeps working for %(hours)d hour (until %(until)s), then stops.",
            "A new URL was issued. Paste it into MakeShop's 更新通知APIのURL now: the old URL "
            "keeps working for %(hours)d hours (until %(until)s), then stops.",
            hours,
        ) % {"hours": hours, "until": _local(rotated.previous_token_expires_at)},
    )
    return redirect("malls:makeshop_guide", shop_pk=shop.pk)


@never_cache
@store_member_required
def makeshop_stop_old_notification_url(request, shop_pk):
    """Stop the previous update-notification URL now, when it may have leaked."""
    shop = makeshop_shop_or_404(request, shop_pk)  # another store's shop: 404, any method
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    connection = connection_of(shop)
    if connection._state.adding:
        raise Http404
    if makeshop_services.stop_previous_notification_url(
        connection=connection, actor=request.user, source=ChangeRecord.Source.MERCHANT
    ):
        messages.success(
            request,
            _("The previous URL was stopped: GoQ no longer accepts notifications sent to it. "
              "Only the URL on this page works."),
        )
    else:
        messages.info(request, _("No previous URL was still working; nothing was changed."))
    return redirect("malls:makeshop_guide", shop_pk=shop.pk)
