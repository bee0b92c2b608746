"""An undecided save, kept in the session until the merchant decides (接続未確認 or not).

When the mall gives no verdict the merchant is asked whether to keep the new settings
as not yet verified. The secrets never go back into the page: the confirming POST
carries only the choice, and the values come from here, encrypted with a context
bound to the session and the shop, for ``PENDING_TTL_SECONDS`` at most.
"""

import time

from django.views.decorators.debug import sensitive_variables

from . import crypto
from .services.history import secret_field_names

PENDING_SESSION_KEY = "malls.pending.{shop_pk}"
# How long the new settings of an undecided save wait for "keep as 接続未確認".
PENDING_TTL_SECONDS = 10 * 60


def _context(request, shop) -> str:
    return f"pending:{request.session.session_key}:{shop.pk}"


def _key(shop) -> str:
    return PENDING_SESSION_KEY.format(shop_pk=shop.pk)


@sensitive_variables("data")
def stash(request, shop, data) -> None:
    """Keep the cleaned form ``data`` of an undecided save, its secrets encrypted.

    A secret is any field named like an encrypted model field (by type, any mall);
    other plain values are kept as they are.
    """
    if request.session.session_key is None:
        request.session.save()
    context = _context(request, shop)
    secret_names = secret_field_names()
    request.session[_key(shop)] = {
        "at": time.time(),
        "plain": {
            name: value
            for name, value in data.items()
            if name not in secret_names and (value is None or isinstance(value, (str, int)))
        },
        "secrets": {
            name: crypto.encrypt(value, context=context)
            for name, value in data.items()
            if name in secret_names and value
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
    plain = {name: "" if value is None else value for name, value in kept["plain"].items()}
    return {**plain, **secrets}


def drop(request, shop) -> None:
    """Forget any undecided save of ``shop``."""
    request.session.pop(_key(shop), None)
