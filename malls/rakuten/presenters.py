"""What Rakuten's screens show of a shop, in the merchant's words, ready for a template.

One state word per connection (``state``): its status, except that a licenseKey past
its expiry date is "expired" whatever was last verified. ``connection_status`` says
it for the shop page, the merchant's list (``list_rows``, through the provider) and
staff's lists (``shop_status``), with the days left from 14 days before the expiry.
Nothing here calls RMS or shows a key.
"""

from dataclasses import dataclass
from datetime import date, datetime

from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from malls.presenters import ConnectionStatus, MallRow
from malls.verdicts import UNREADABLE

from . import connections, verdicts
from .api import Reason
from .connections import Expiry, ExpiryState, Status
from .models import RakutenConnection

EXPIRED = "expired"  # the state word of a key past its expiry date
MUST_REENTER = "must_reenter"  # a saved key GoQ can no longer decrypt

STATE_LABELS = {
    **{status.value: status.label for status in RakutenConnection.Status},
    EXPIRED: gettext_lazy("licenseKey expired"),
    MUST_REENTER: gettext_lazy("Must be entered again"),
}
_TONES = {
    Status.VERIFIED: "ok",
    Status.REJECTED: "error",
    EXPIRED: "error",
    MUST_REENTER: "error",
    Status.UNREACHABLE: "warning",
    Status.UNVERIFIED: "warning",
}


@dataclass(slots=True)
class ListedConnection:
    """What a status needs of a connection, read as plain values (one query per list)."""

    status: str
    failed_check: str
    failure_reason: str
    verified_at: datetime | None
    failing_since: datetime | None
    last_checked_at: datetime | None
    expires_on: date | None
    reported_shop: str
    has_unreadable_secret: bool

    FIELDS = (
        "status", "failed_check", "failure_reason", "verified_at", "failing_since",
        "last_checked_at", "expires_on", "reported_shop",
    )


def expiry_of(connection, *, now=None) -> Expiry:
    """The licenseKey's expiry as of ``now`` (the date is Japan's)."""
    today = connections.japan_today(now or timezone.now())
    return connections.expiry(connection.expires_on if connection else None, today)


def state(connection, *, now=None) -> str:
    """The connection's state word (a ``Status`` value, ``EXPIRED`` or ``MUST_REENTER``)."""
    if connection is None or connection.status == Status.UNSET:
        return Status.UNSET
    if connection.has_unreadable_secret:
        return MUST_REENTER
    if expiry_of(connection, now=now).state is ExpiryState.EXPIRED:
        return EXPIRED
    return connection.status


def advice(connection) -> str:
    """What the merchant should do about the connection's last verdict ("" if nothing)."""
    reason = connection.failure_reason
    if not reason:
        return ""
    text = verdicts.advice(
        reason, rejected=connection.status in (Status.REJECTED, Status.PENDING_ACTIVATION),
        reported_shop=connection.reported_shop,
    )
    check_label = verdicts.check_label(connection.failed_check)
    known = Reason.of(reason)
    if check_label and known is not None and known.not_enabled:
        return f"{check_label}: {text}"
    return text


def connection_status(connection, *, now=None) -> ConnectionStatus:
    """A connection's state in the merchant's words (``connection``: a
    ``RakutenConnection``, a ``ListedConnection`` or None)."""
    word = state(connection, now=now)
    label = str(STATE_LABELS[word])
    tone = _TONES.get(word, "neutral")
    if word == Status.UNSET:
        return ConnectionStatus(label, tone, advice=_("Enter the shop's RMS keys."))
    if word == MUST_REENTER:
        return ConnectionStatus(label, tone, advice=verdicts.advice(Reason.UNREADABLE,
                                                                    rejected=True))
    if word == EXPIRED:
        return ConnectionStatus(label, tone, advice=expired_advice(connection.expires_on))
    if word == Status.VERIFIED:
        expiry = expiry_of(connection, now=now)
        if expiry.state is ExpiryState.EXPIRING:
            return ConnectionStatus(
                days_left_label(label, expiry.days_left), "warning", connection.verified_at,
                _("Verified at"), renewal_advice(connection.expires_on),
            )
        return ConnectionStatus(label, tone, connection.verified_at, _("Verified at"))
    if word == Status.PENDING_ACTIVATION:
        return ConnectionStatus(label, tone, connection.last_checked_at, _("Last tried at"),
                                advice(connection))
    if word == Status.REJECTED:
        return ConnectionStatus(label, tone, connection.failing_since, _("Failing since"),
                                advice(connection))
    return ConnectionStatus(label, tone, connection.last_checked_at, _("Last tried at"),
                            advice(connection) or verdicts.advice(None, rejected=False))


def days_left_label(label: str, days_left: int) -> str:
    """The state word with the days the key has left ("確認済み（残り3日）")."""
    if days_left == 0:
        return _("%(state)s (expires today)") % {"state": label}
    return ngettext(
        "%(state)s (%(days)d day left)", "%(state)s (%(days)d days left)", days_left
    ) % {"state": label, "days": days_left}


def expired_advice(expires_on: date) -> str:
    return _(
        "The licenseKey expired after %(date)s: GoQ cannot import orders with it. Issue a new "
        "one in RMS and paste it on the shop's page (the renewal steps are there)."
    ) % {"date": expires_on.isoformat()}


def renewal_advice(expires_on: date) -> str:
    return _(
        "The licenseKey expires on %(date)s. Issue a new one in RMS and paste it on the "
        "shop's page (the renewal steps are there)."
    ) % {"date": expires_on.isoformat()}


# --- Lists -------------------------------------------------------------------------------

_SECRET_FIELDS = RakutenConnection.SECRET_FIELDS


def _listed(values: dict, readable_kids) -> ListedConnection:
    # A key whose encryption key is no longer configured (how keys become unreadable
    # in practice) is flagged without decrypting; the shop page decrypts.
    return ListedConnection(
        *(values[name] for name in ListedConnection.FIELDS),
        has_unreadable_secret=values["failure_reason"] == UNREADABLE or any(
            values[name] is not None and values[name].kid not in readable_kids
            for name in _SECRET_FIELDS
        ),
    )


def list_rows(shop_pks, *, now=None) -> dict:
    """A ``MallRow`` per Rakuten shop pk, in one query whatever the number of shops."""
    from malls.services.keys import readable_key_ids

    rows = RakutenConnection.objects.filter(shop_id__in=shop_pks).values(
        "shop_id", "shop_url", *ListedConnection.FIELDS, *_SECRET_FIELDS
    )
    readable_kids = readable_key_ids()
    now = now or timezone.now()
    found = {}
    for values in rows:
        found[values["shop_id"]] = _row(
            values["shop_id"], values["shop_url"], _listed(values, readable_kids), now
        )
    for pk in shop_pks:
        if pk not in found:
            found[pk] = _row(pk, "", None, now)
    return found


def _row(pk, shop_url, connection, now) -> MallRow:
    return MallRow(
        shop_id=shop_url,
        settings_url=reverse("malls:rakuten_settings", args=[pk]),
        api_label=_("RMS WEB SERVICE"),
        status=connection_status(connection, now=now),
    )


def shop_status(connection, *, now=None) -> ConnectionStatus:
    """The one state every list (merchant's and staff's) shows for a connection."""
    return connection_status(connection, now=now)

