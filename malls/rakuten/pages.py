"""What the Rakuten settings page shows, built from a connection without touching RMS:
``views.rakuten_settings`` renders ``rakuten/settings.html`` with it."""

from django.utils import timezone

from . import presenters
from .models import RakutenConnection


def settings_context(shop, form, connection: RakutenConnection | None, *, now=None,
                     needs_decision: bool = False, undecided: str = "") -> dict:
    """``needs_decision``: RMS gave no verdict on new keys (``undecided`` says why)."""
    now = now or timezone.now()
    saved = connection is not None and not connection._state.adding
    connection = connection if saved else None
    return {
        "shop": shop,
        "form": form,
        "connection": connection,
        "state": presenters.state(connection, now=now),
        "status": presenters.connection_status(connection, now=now),
        "expiry": presenters.expiry_of(connection, now=now) if saved else None,
        "needs_decision": needs_decision,
        "undecided": undecided,
        "goq_product": form.goq_product,
    }
