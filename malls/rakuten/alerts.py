"""What e-mail alerts need to know of Rakuten: its states, its texts, its shop page,
and the licenseKey expiry warnings.

Registered from ``RakutenConfig.ready``. The labels and advice are the ones the
merchant screens show (the connection's status labels and ``malls.rakuten.verdicts``).
A connection that RMS stops accepting (verified -> rejected, an expired key) sends the
usual "broken" and "fixed" e-mails through ``note_connection_change`` in the services.

Expiry warnings are notices (``malls.alerts.notices``) on the schedule of
``connections.warning_due``: 14, 7, 3 and 1 days before the last valid day and on the
day, once each. Every ``manage.py send_alerts`` run queues those due and records them
on the connection (``warnings_sent``) in the same transaction, so a key saved already
inside the window is warned at the next run, and a renewed key (a new date) owes
nothing of the old date's schedule. This is ``tasks.due_warnings`` and
``services.mark_warning_sent`` done for a batch of shops at once.
"""

from datetime import timedelta
from functools import partial

from django.db import transaction
from django.urls import NoReverseMatch, reverse
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _

from malls.alerts import notices, states
from malls.alerts.digest import Upcoming
from malls.alerts.states import ConnectionState, Description, Health

from . import connections, overview, verdicts
from .api import Reason
from .connections import ExpiryState, ExpiryWarning, Status
from .models import RakutenConnection

MALL_CODE = "rakuten"

# Rakuten's statuses beyond the generic ones (verified, rejected, unset, unverified).
# "expired" is the state word of a key whose date has passed (the provider's
# ``state``); RMS's refusal of it is stored as rejected/expired.
STATUSES = {
    ExpiryState.EXPIRED.value: Health.NEEDS_MERCHANT,
    Status.PENDING_ACTIVATION.value: Health.NEITHER,  # a fresh key RMS does not know yet
    Status.UNREACHABLE.value: Health.NEITHER,
}


def describe(state: ConnectionState) -> Description:
    """The status label and advice the merchant screens show for ``state``."""
    labels = dict(RakutenConnection.Status.choices)
    known = Reason.of(state.reason)
    if state.status == ExpiryState.EXPIRED or known is Reason.EXPIRED:
        return Description(
            verdicts.reason_label(Reason.EXPIRED),
            verdicts.advice(Reason.EXPIRED, rejected=True),
        )
    if state.status not in labels:
        return Description(state.status)
    label = str(labels[state.status])
    if state.status in (Status.VERIFIED, Status.UNSET):
        return Description(label)
    rejected = state.status == Status.REJECTED
    if known is Reason.OTHER_SHOP:
        # The screens name the shop RMS reported; a state does not carry it.
        text = f"{verdicts.reason_label(state.reason)}: {verdicts.ADVICE['rejected']}"
    else:
        text = verdicts.advice(state.reason, rejected=rejected)
    if verdicts.check_label(state.check) and rejected:
        text = f"{verdicts.check_label(state.check)}: {text}"
    return Description(label, text)


def shop_path(shop) -> str:
    """The shop's Rakuten settings page (the merchant's list until that page exists)."""
    try:
        return reverse("malls:rakuten_settings", args=[shop.pk])
    except NoReverseMatch:
        return reverse("malls:mall_list")


# --- Expiry warnings ---------------------------------------------------------------

WARNINGS_PER_BATCH = 500


def describe_warning(warning: ExpiryWarning) -> Description:
    """The warning in the active language: when the key lapses, and how to renew it."""
    expires_on = warning.expires_on.isoformat()
    if warning.days_left <= 0:
        label = gettext("The Rakuten licenseKey expires today (%(date)s)") % {
            "date": expires_on
        }
    else:
        label = ngettext(
            "The Rakuten licenseKey expires in %(days)d day (%(date)s)",
            "The Rakuten licenseKey expires in %(days)d days (%(date)s)",
            warning.days_left,
        ) % {"days": warning.days_left, "date": expires_on}
    steps = "\n".join(
        f"{number}. {step}" for number, step in enumerate(verdicts.renewal_steps(), 1)
    )
    intro = gettext(
        "Once it expires, GoQSystem can no longer import the shop's orders. Issue a new "
        "licenseKey in RMS and paste it on the shop's page in GoQSystem:"
    )
    return Description(label, f"{intro}\n{steps}")


NOTICE_PREFIX = "rakuten-expiry:"


def notice_key(warning: ExpiryWarning) -> str:
    """Once per expiry date and schedule point: ``rakuten-expiry:<date>/<days before>``."""
    return NOTICE_PREFIX + connections.warning_mark(warning.expires_on, warning.days_before)


def _date_of(key: str) -> str:
    return key.removeprefix(NOTICE_PREFIX).partition("/")[0]


def due_warnings(now):
    """(connection, warning) pairs due at ``now``, for keys lasting until today or later:
    a key past its date is the "broken" e-mail's (RMS refuses it), and leaving it out
    keeps each run's reading to the 15 days of the window."""
    today = connections.japan_today(now)
    candidates = (
        RakutenConnection.objects.filter(
            expires_on__gte=today,
            expires_on__lte=today + timedelta(days=connections.EXPIRING_FROM_DAYS),
        )
        .exclude(status=Status.UNSET)
        .select_related("shop")
        .only("pk", "expires_on", "warnings_sent", "shop__id")
        .order_by("pk")
    )
    for connection in candidates.iterator(chunk_size=WARNINGS_PER_BATCH):
        warning = connections.warning_due(connection.expires_on, today, connection.warnings_sent)
        if warning is not None:
            yield connection, warning


def queue_expiry_warnings(now) -> int:
    """Queue the expiry warnings due at ``now`` and record them as given, a batch at a
    time in one transaction each (a constant number of queries per batch); returns how
    many were due. Warnings still waiting for the mail server about a date the key no
    longer has (renewed since) are withdrawn first."""
    withdraw_renewed()
    due = list(due_warnings(now))
    for start in range(0, len(due), WARNINGS_PER_BATCH):
        _give(due[start:start + WARNINGS_PER_BATCH], now)
    return len(due)


def withdraw_renewed() -> int:
    """Withdraw unsent warnings about an expiry date the shop's key no longer has."""
    waiting = notices.waiting(NOTICE_PREFIX)
    if not waiting:
        return 0
    dates = {
        shop_id: expires_on.isoformat() if expires_on else ""
        for shop_id, expires_on in RakutenConnection.objects.filter(
            shop_id__in={item.shop_id for item in waiting}
        ).values_list("shop_id", "expires_on")
    }
    stale = [item.message_id for item in waiting
             if dates.get(item.shop_id) != _date_of(item.key)]
    return notices.withdraw(stale, why="the licenseKey was renewed") if stale else 0


def _give(batch, now) -> None:
    with transaction.atomic():
        notices.queue_notices(
            [
                notices.Notice(
                    connection.shop, notice_key(warning), partial(describe_warning, warning)
                )
                for connection, warning in batch
            ],
            now=now,
        )
        for connection, warning in batch:
            connection.warnings_sent = sorted(set(connection.warnings_sent) | set(warning.marks))
        RakutenConnection.objects.bulk_update(
            [connection for connection, _ in batch], ["warnings_sent"]
        )


# --- The staff digest ------------------------------------------------------------------


def expiring_soon(now, limit: int) -> list[Upcoming]:
    """Shops whose licenseKey expires within 14 days, soonest first: the admin list's
    "expires within 14 days" (two queries)."""
    expiring = RakutenConnection.objects.filter(
        overview.expiry_condition("expiring", connections.japan_today(now))
    )
    count = expiring.count()
    if not count:
        return []
    rows = list(
        expiring.order_by("expires_on", "pk").values(
            "expires_on", "shop__name", "shop__store__name", "shop__mall__name",
            "shop__mall__name_en",
        )[:limit]
    )
    return [
        Upcoming(
            mall_code=MALL_CODE,
            mall_names={"ja": rows[0]["shop__mall__name"], "en": rows[0]["shop__mall__name_en"]},
            label=_("licenseKey expires within 14 days"),
            count=count,
            examples=[
                {"shop": row["shop__name"], "store": row["shop__store__name"],
                 "when": row["expires_on"].isoformat()}
                for row in rows
            ],
            when_label=_("last valid day"),
            admin_path=overview.changelist_url({"expiry": "expiring"}),
        )
    ]


def register() -> None:
    states.register_mall(
        MALL_CODE, describe=describe, shop_path=shop_path, statuses=STATUSES,
        connection_models=["rakuten.rakutenconnection"],
        queue_due_notices=queue_expiry_warnings, digest_upcoming=expiring_soon,
    )
