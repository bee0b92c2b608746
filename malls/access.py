"""Who may see what on the merchant screens: the signed-in user's stores and their shops.

Shops are looked up through the user's memberships, so another store's shop is a 404
and never a 403 that would confirm it exists. The current store is chosen in the
session, and only a POST (the store switcher) changes it.
"""

from functools import wraps

from django.contrib.auth.decorators import login_required
from django.shortcuts import get_object_or_404, render

from .models import MallShop, Store

CURRENT_STORE_SESSION_KEY = "malls.current_store"


def store_member_required(view):
    """Require a signed-in user who belongs to a store; set ``request.store``.

    ``request.member_stores`` lists the user's stores (for the store switcher) and
    ``request.store`` is the one chosen in the session, else the first.
    """

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        stores = list(Store.objects.filter(memberships__user=request.user))
        if not stores:
            return render(request, "malls/no_store.html", status=403)
        chosen = request.session.get(CURRENT_STORE_SESSION_KEY)
        request.member_stores = stores
        request.store = next((store for store in stores if store.pk == chosen), stores[0])
        return view(request, *args, **kwargs)

    return login_required(wrapper)


def member_store(request, store_pk) -> Store | None:
    """One of the user's stores by its primary key (as sent by a form), or None."""
    return next((store for store in request.member_stores if str(store.pk) == str(store_pk)), None)


def use_store(request, store) -> None:
    """Make ``store`` (one of the user's) the current store, for this and later requests."""
    request.store = store
    request.session[CURRENT_STORE_SESSION_KEY] = store.pk


def mall_shop_or_404(request, shop_pk, *, mall_code: str, related=()) -> MallShop:
    """One of the user's shops on the mall ``mall_code``, with ``related`` joined.

    A shop of another of the user's stores opens too (a link to it works whichever
    store is selected) and this request is served as that store, but the session's
    current store stays: a GET changes nothing. The page offers the switch as a form
    (``other_store``).
    """
    shop = get_object_or_404(
        MallShop.objects.select_related("mall", "store", *related),
        pk=shop_pk,
        store__in=request.member_stores,
        mall__code=mall_code,
    )
    request.other_store = shop.store if shop.store_id != request.store.pk else None
    request.store = shop.store
    return shop
