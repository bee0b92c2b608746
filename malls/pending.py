"""An undecided save, kept in the session until the merchant decides (接続未確認 or not).

When MakeShop gives no verdict the merchant is asked whether to keep the new settings
as not yet verified. The secrets never go back into the page: the confirming POST
carries only the choice, and the values come from here, encrypted with a context
bound to the session and the shop, for ``PENDING_TTL_SECONDS`` at most.
"""

import time

from django.views.decorators.debug import sensitive_variables

from . import crypto
from .models import MakeShopConnection

PENDING_SESSION_KEY = "malls.pending.{shop_pk}"
# How long the new settings of an undecided save wait for "keep as 接続未確認".
PENDING_TTL_SECONDS = 10 * 60


def _context(request, shop) -> str:
    return f"pending:{request.session.session_key}:{shop.pk}"


def _key(shop) -> str:
    return PENDING_SESSION_KEY.format(shop_pk=shop.pk)


@sensitive_variables("data")
def stash(request, shop, data) -> None:
    """Keep the cleaned form ``data`` of an undecided save, its secrets encrypted."""
    if request.session.session_key is None:
        request.session.save()
    context = _context(request, shop)
    request.session[_key(shop)] = {
        "at": time.time(),
        "shop_id": data["shop_id"],
        "version": data["version"],
        "secrets": {
            name: crypto.encrypt(data[name], context=context)
            for name in MakeShopConnection.SECRET_FIELDS
            if data.get(name)
        },
    }


@sensitive_variables("secrets")
def pop(request, shop) -> dict | None:
    """The stashed save as form data, or None if there is none, it expired or is unreadable."""
    kept = request.session.pop(_key(shop), None)
    if not kept or time.time() - kept.get("at", 0) > PENDING_TTL_SECONDS:
        return None
    context = _context(request, shop)
    try:
        secrets = {
            name: crypto.decrypt(token, context=context)
            for name, token in kept["secrets"].items()
        }
    except crypto.DecryptionError:
        return None
    version = kept["version"]
    return {"shop_id": kept["shop_id"], "version": "" if version is None else version, **secrets}


def drop(request, shop) -> None:
    """Forget any undecided save of ``shop``."""
    request.session.pop(_key(shop), None)
