"""The generic merchant screens: 各種設定, the store switcher and モール詳細設定 (the
list of the store's shops, each mall's row drawn by its provider).

Each mall's own screens are in its package (``malls.makeshop.views``), found through
its provider's URL patterns. Every view needs a signed-in member of a store.
"""

from django.http import Http404, HttpResponseRedirect
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from . import presenters, providers, services
from .access import member_store, store_member_required, use_store
from .models import ChangeRecord, Mall


@require_POST
@store_member_required
def switch_store(request):
    """Switch to another of the user's stores, then go back where the user was."""
    store = member_store(request, request.POST.get("store"))
    if store is None:
        raise Http404("Not one of the user's stores")
    use_store(request, store)
    next_url = request.POST.get("next", "")
    # Only a local path: redirect() would also take a view's name ("login") for a URL.
    if not next_url.startswith("/") or not url_has_allowed_host_and_scheme(
        next_url, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        next_url = reverse("malls:mall_list")
    return HttpResponseRedirect(next_url)


# --- 各種設定 and モール詳細設定 -----------------------------------------------------------


@never_cache
@store_member_required
def settings_index(request):
    """各種設定: the settings areas a merchant can open."""
    return render(request, "malls/settings_index.html")


@never_cache
@store_member_required
def mall_list(request):
    """モール詳細設定 / 出店中のモール一覧: every shop of the current store and its state.

    A constant number of queries whatever the number of shops: the user's stores, the
    shops, then one per mall with shops (its provider's rows). Each mall whose shops
    are added here offers its own "add a shop" link.
    """
    add_links = [
        (provider.name, url)
        for provider in providers.registered().values()
        if (url := provider.add_url())
    ]
    return render(
        request, "malls/mall_list.html",
        {"rows": presenters.shop_rows(request.store), "add_links": add_links},
    )


def add_shop(request, *, mall_code: str, form_class, settings_url_name: str, title, next_step):
    """Add a shop on ``mall_code`` to the current store, then open its settings page.

    The body of every mall's "add a shop" view (each keeps its own URL, decorators and
    form); the shop is added through ``services.add_shop``, so it has its history.
    """
    mall = get_object_or_404(Mall, code=mall_code)
    form = form_class(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        shop = services.add_shop(
            store=request.store, mall=mall, name=form.cleaned_data["name"], actor=request.user,
            source=ChangeRecord.Source.MERCHANT,
        )
        return redirect(settings_url_name, shop_pk=shop.pk)
    return render(
        request, "malls/add_shop.html", {"form": form, "title": title, "next_step": next_step}
    )
