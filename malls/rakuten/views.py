"""Rakuten's merchant screens: add a shop, and its settings page (RMS keys, expiry, guides).

Views only: what a state says is ``presenters``/``pages``, every change is a service
call through the form, and an undecided save (RMS unreachable) waits in
``malls.pending`` while the merchant decides. Shops are looked up through the user's
memberships (``malls.access``), so another store's shop is a 404. Pages that show
settings are never cached, and the keys are hidden from error reports.
"""

from django.contrib import messages
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_http_methods

from malls import pending, views
from malls.access import mall_shop_or_404, store_member_required
from malls.models import MallShop

from . import pages, verdicts
from .client import MALL
from .connections import Status
from .forms import AddRakutenShopForm, RakutenSettingsForm
from .models import RakutenConnection

KEEP_UNVERIFIED = "keep_unverified"

SAVED_MESSAGES = {
    Status.VERIFIED: gettext_lazy("The keys were saved and Rakuten accepted them."),
    Status.PENDING_ACTIVATION: gettext_lazy(
        "The keys were saved. Rakuten does not accept the new licenseKey yet (a new key can "
        "take up to about an hour and a half): GoQ checks it again every 10 minutes."
    ),
    Status.UNREACHABLE: gettext_lazy(
        "The keys were saved as not yet verified: Rakuten could not be reached. GoQ will "
        "check them with Rakuten later."
    ),
    Status.UNVERIFIED: gettext_lazy(
        "The keys were saved as not yet verified: Rakuten's answer could not be read. GoQ "
        "will check them with Rakuten later."
    ),
}


def rakuten_shop_or_404(request, shop_pk) -> MallShop:
    """One of the user's Rakuten shops, with its connection loaded if it has one."""
    return mall_shop_or_404(request, shop_pk, mall_code=MALL, related=("rakuten",))


def connection_of(shop) -> RakutenConnection:
    """The shop's saved connection, or a new unsaved one."""
    try:
        return shop.rakuten
    except RakutenConnection.DoesNotExist:
        return RakutenConnection(shop=shop)


@never_cache
@require_http_methods(["GET", "POST"])
@store_member_required
def rakuten_add(request):
    """Add a Rakuten shop to the current store, then open its settings."""
    return views.add_shop(
        request, mall_code=MALL, form_class=AddRakutenShopForm,
        settings_url_name="malls:rakuten_settings", title=_("Add a Rakuten Ichiba shop"),
        next_step=_("Give the shop a name, then enter its RMS keys on the next page."),
    )


def _expired_message(request) -> None:
    minutes = max(1, round(pending.PENDING_TTL_SECONDS / 60))
    messages.error(
        request,
        ngettext(
            "The settings you entered were no longer kept (after %(minutes)d minute they are "
            "discarded). Enter them again.",
            "The settings you entered were no longer kept (after %(minutes)d minutes they are "
            "discarded). Enter them again.",
            minutes,
        ) % {"minutes": minutes},
    )


@never_cache
@sensitive_post_parameters(*RakutenConnection.SECRET_FIELDS)
@require_http_methods(["GET", "POST"])
@store_member_required
def rakuten_settings(request, shop_pk):
    """A Rakuten shop's page: its state and expiry, the RMS keys, the guides.

    The keys are checked with RMS, then saved. Accepted, or new and not active yet
    (有効化待ち): saved, and the page again with its new state. Refused: nothing saved,
    the advice on its field. RMS unreachable while verified keys are in use: the
    merchant decides whether to keep the new keys as 未確認; the choice is a second
    POST that carries no key.
    """
    shop = rakuten_shop_or_404(request, shop_pk)
    connection = connection_of(shop)
    undecided = ""
    if request.method == "POST":
        keep_unverified = request.POST.get("action") == KEEP_UNVERIFIED
        if keep_unverified:
            data = pending.pop(request, shop)
            if data is None:
                _expired_message(request)
                return redirect("malls:rakuten_settings", shop_pk=shop.pk)
        else:
            pending.drop(request, shop)
            data = request.POST
        form = RakutenSettingsForm(data, connection=connection)
        if form.is_valid():
            result = form.save(actor=request.user, keep_unverified=keep_unverified)
            if result is not None and result.saved:
                status = Status(result.connection.status)
                messages.success(
                    request, SAVED_MESSAGES.get(status, gettext_lazy("The settings were saved."))
                )
                return redirect("malls:rakuten_settings", shop_pk=shop.pk)
            if result is not None:
                connection = result.connection  # a refusal of the saved keys is recorded
            if result is not None and result.needs_decision:
                pending.stash(request, shop, form.cleaned_data)
                undecided = verdicts.advice(result.verification.reason, rejected=False)
    else:
        pending.drop(request, shop)
        form = RakutenSettingsForm(connection=connection)
    return render(
        request,
        "rakuten/settings.html",
        pages.settings_context(
            shop, form, connection, needs_decision=bool(undecided), undecided=undecided
        ),
    )
