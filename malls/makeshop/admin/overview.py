"""The figures staff see first: MakeShop connections counted by state, cause of failure,
application and API, and a 30-day series of working / rejected / unverified shops.

Every figure comes from an aggregate query, so the overview costs the same number of
queries at ten shops as at 100,000 (``QUERIES``). Each count carries the admin list's
query string that selects exactly the shops it counts: a number on the page is a link
to those shops, and following it shows as many rows as the number says.
"""

from collections import Counter
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django.db.models import Count, Q
from django.db.models.fields.json import KT
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from malls import providers
from malls.admin import figures
from malls.makeshop.app import usage
from malls.makeshop.models import MakeShopConnection
from malls.models import ChangeRecord, MallShop

Status = MakeShopConnection.Status
Application = MallShop.ApplicationStatus

# Queries one full overview costs, whatever the number of shops.
QUERIES = 4

CHART_DAYS = 30

# A failure's cause is read only on shops MakeShop is failing now: a shop whose new
# settings wait for their check keeps its last failure on the row until then.
FAILING = (Status.REJECTED, Status.UNVERIFIED)

# "Broke" = verified once, rejected now (the list's "broken" filter), and since when.
BROKE_WITHIN = {"24h": timedelta(hours=24), "7d": timedelta(days=7)}
# A shop on the app is not broken, whatever its legacy row says (usage.status_is).
BROKEN = usage.status_is(Status.REJECTED) & Q(verified_at__isnull=False)

# A cause filter value for a failure MakeShop gave no reason for (or no failing check).
NO_VALUE = "none"


# --- Staff's words for MakeShop's verdicts ----------------------------------------------
# From the mall's provider (overview_filters and connection_columns come through here).


def _makeshop():
    return providers.get("makeshop")


def reason_labels() -> dict:
    """Failure reason code -> staff's words."""
    return _makeshop().reason_labels()


def reason_label(reason: str) -> str:
    """Staff's words for a failure reason code (MakeShop's raw code when we have none)."""
    if not reason:
        return str(_("no reason given"))
    return str(reason_labels().get(reason, reason))


def is_broken(connection) -> bool:
    """Verified once, rejected now, and not on the app (``BROKEN`` for one row)."""
    return connection.is_broken and usage.status_in_use(connection) == Status.REJECTED


def likely_cause(connection) -> str:
    """Staff's one-line guess at why a shop that worked is now rejected ("" otherwise)."""
    return _makeshop().likely_cause(connection)


CHANGELIST = "admin:malls_makeshopconnection_changelist"


def changelist_url(params: dict) -> str:
    """The MakeShop connection list, filtered by the list's own filter parameters."""
    return figures.changelist_url(CHANGELIST, params)


class Figure(figures.Figure):
    changelist = CHANGELIST


# --- Counts ----------------------------------------------------------------------------


def connection_counts(*, now: datetime | None = None) -> dict[str, int]:
    """Connections in total, per status, broken, broken within 24 hours / 7 days, per API.

    One query, whatever the number of shops.
    """
    now = now or timezone.now()
    aggregates = {"total": Count("pk")}
    for status in Status:
        aggregates[status.value] = Count("pk", filter=usage.status_is(status))
    aggregates["broken"] = Count("pk", filter=BROKEN)
    for key, span in BROKE_WITHIN.items():
        aggregates[f"broke_{key}"] = Count(
            "pk", filter=BROKEN & Q(failing_since__gte=now - span)
        )
    for api, condition in usage.CONDITIONS.items():
        aggregates[f"api_{api}"] = Count("pk", filter=condition)
    return MakeShopConnection.objects.order_by().aggregate(**aggregates)


def status_figures(counts: dict[str, int]) -> list[Figure]:
    """Connections by verification status, then the broken ones (a part of "rejected")."""
    figures = [
        Figure(status.value, str(status.label), counts[status.value], {"status": status.value})
        for status in (Status.VERIFIED, Status.REJECTED, Status.UNVERIFIED, Status.PENDING,
                       Status.UNSET)
    ]
    figures.append(
        Figure("broken", str(_("Rejected after having worked")), counts["broken"],
               {"status": "broken"})
    )
    return figures


def broke_figures(counts: dict[str, int]) -> list[Figure]:
    labels = {"24h": _("in the last 24 hours"), "7d": _("in the last 7 days")}
    return [
        Figure(f"broke_{key}", str(labels[key]), counts[f"broke_{key}"], {"broke_within": key})
        for key in BROKE_WITHIN
    ]


def cause_figures() -> list[Figure]:
    """Failing shops by (reason, failing check), most frequent first. One query.

    A jump of one cause across many shops is how a change on MakeShop's side shows.
    """
    rows = (
        MakeShopConnection.objects.filter(status__in=FAILING)
        .order_by()
        .values("failure_reason", "failed_check")
        .annotate(n=Count("pk"))
    )
    checks = dict(MakeShopConnection._meta.get_field("failed_check").choices)
    figures = [
        Figure(
            f"cause:{row['failure_reason']}:{row['failed_check']}",
            "{}: {}".format(
                checks.get(row["failed_check"], row["failed_check"]) or "—",
                reason_label(row["failure_reason"]),
            ),
            row["n"],
            {"cause": row["failure_reason"] or NO_VALUE, "check": row["failed_check"] or NO_VALUE},
        )
        for row in rows
    ]
    figures.sort(key=lambda figure: (-figure.count, figure.label))
    return figures


def application_figures() -> list[Figure]:
    """Connected shops by API-use application state, every state shown. One query."""
    counts = dict(
        MakeShopConnection.objects.order_by()
        .values_list("shop__application_status")
        .annotate(n=Count("pk"))
    )
    return [
        Figure(state.value, str(state.label), counts.get(state.value, 0),
               {"shop__application_status__exact": state.value})
        for state in Application
    ]


API_LABELS = {
    usage.LEGACY: pgettext_lazy("MakeShop API", "Auth-code API (legacy)"),
    usage.APP: pgettext_lazy("MakeShop API", "MakeShop app (new API)"),
}


def api_counts(counts: dict[str, int]) -> dict[str, int]:
    """Shops per MakeShop API: on the app once its installation is verified, on the
    legacy API while they have auth codes and no verified app (``makeshop.app.usage``).

    A shop with neither uses no API yet and is in neither count. Another API is
    counted in ``connection_counts`` (one more aggregate, same query) and labelled in
    ``API_LABELS``; ``api_figures`` and the page follow.
    """
    return {api: counts[f"api_{api}"] for api in usage.CONDITIONS}


# The connection list's API filter (malls.makeshop.admin.overview_filters.ApiFilter) takes these.
API_LIST_PARAMS = {api: {"api": api} for api in usage.CONDITIONS}


def api_figures(counts: dict[str, int]) -> list[Figure]:
    return [
        Figure(f"api:{api}", str(API_LABELS[api]), n, API_LIST_PARAMS[api])
        for api, n in api_counts(counts).items()
    ]


# --- The 30-day series --------------------------------------------------------------------

# The chart's three lines; a status outside them (not configured) is not drawn.
SERIES = {
    "working": (Status.VERIFIED,),
    "rejected": (Status.REJECTED,),
    "unverified": (Status.UNVERIFIED, Status.PENDING),
}
SERIES_LABELS = {
    "working": pgettext_lazy("chart", "Working (verified)"),
    "rejected": pgettext_lazy("chart", "Rejected by MakeShop"),
    "unverified": pgettext_lazy("chart", "Not verified (pending or unconfirmed)"),
}


@dataclass(frozen=True)
class Day:
    """Shops per series at the end of one day (Asia/Tokyo); today: as of now."""

    day: date
    working: int
    rejected: int
    unverified: int

    def value(self, series: str) -> int:
        return getattr(self, series)


def daily_series(
    counts: dict[str, int], *, days: int = CHART_DAYS, now: datetime | None = None
) -> list[Day]:
    """Each of the last ``days`` days (oldest first), read back from today's counts.

    A day's value is the number of shops in each state at the end of that day in the
    site's time zone (Asia/Tokyo); today's is the state now. It is worked out
    backwards: a day's state is today's ``counts`` with every status change recorded
    after that day's end undone (``ChangeRecord.changes["status"] == [old, new]``).
    One query, whatever the number of shops or changes: the changes are grouped by
    (old, new) with one count per day's end. Day ends are computed here, so the
    database compares timestamps only (no per-row time-zone arithmetic). A shop with
    no recorded change is taken to have been in its current state all along; a
    deleted connection counts until its deletion only if the deletion recorded its
    status.
    """
    now = now or timezone.now()
    zone = timezone.get_default_timezone()
    today = timezone.localdate(now, zone)
    listed = [today - timedelta(days=offset) for offset in range(days - 1, -1, -1)]
    # The end of each listed day but today: midnight (Tokyo) that starts the next day.
    ends = {
        day: datetime.combine(day + timedelta(days=1), time.min, tzinfo=zone)
        for day in listed[:-1]
    }
    after = {f"after_{index}": day for index, day in enumerate(ends)}
    undone: dict[date, Counter] = {day: Counter() for day in ends}
    if ends:
        rows = (
            ChangeRecord.objects.filter(at__gte=min(ends.values()), changes__has_key="status")
            .order_by()
            .annotate(old=KT("changes__status__0"), new=KT("changes__status__1"))
            .values("old", "new")
            .annotate(**{
                name: Count("pk", filter=Q(at__gte=ends[day])) for name, day in after.items()
            })
        )
        for row in rows:
            for name, day in after.items():
                if row["old"]:
                    undone[day][row["old"]] += row[name]
                if row["new"]:
                    undone[day][row["new"]] -= row[name]

    current = Counter({status.value: counts[status.value] for status in Status})
    points = []
    for day in listed:
        state = current if day == today else _undo(current, undone[day])
        points.append(
            Day(day, **{
                series: sum(state[status] for status in statuses)
                for series, statuses in SERIES.items()
            })
        )
    return points


def _undo(current: Counter, undone: Counter) -> Counter:
    state = Counter(current)
    state.update(undone)  # update() adds, keeping negative counts (unlike +)
    return state


# --- All of it ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Overview:
    total: int
    by_status: list[Figure]
    broke: list[Figure]
    by_cause: list[Figure]
    by_application: list[Figure]
    by_api: list[Figure]
    days: list[Day]


def build_overview(*, now: datetime | None = None) -> Overview:
    """Everything the overview page shows, in ``QUERIES`` queries."""
    now = now or timezone.now()
    counts = connection_counts(now=now)
    return Overview(
        total=counts["total"],
        by_status=status_figures(counts),
        broke=broke_figures(counts),
        by_cause=cause_figures(),
        by_application=application_figures(),
        by_api=api_figures(counts),
        days=daily_series(counts, now=now),
    )
