"""What the Rakuten settings page shows, built from a connection without touching RMS:
the view the connection core adds calls this and renders ``rakuten/settings.html``."""

from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from .connections import ExpiryState
from .models import RakutenConnection
from .provider import RAKUTEN

_EXPIRED = _("licenseKey expired")


def settings_context(shop, form, connection: RakutenConnection | None, *, now=None,
                     needs_decision: bool = False) -> dict:
    now = now or timezone.now()
    saved = connection is not None and not connection._state.adding
    state = RAKUTEN.state(connection if saved else None, now=now)
    if state == ExpiryState.EXPIRED:
        state_label = _EXPIRED
    else:
        state_label = RakutenConnection.Status(state).label
    advice = ""
    if saved and connection.failure_reason:
        advice = RAKUTEN.advice(connection)
    return {
        "shop": shop,
        "form": form,
        "connection": connection if saved else None,
        "state": state,
        "state_label": state_label,
        "expiry": RAKUTEN.expiry(connection, now=now) if saved else None,
        "advice": advice,
        "needs_decision": needs_decision,
    }
