"""Staff's overview of Rakuten connections, on the admin index beside the other malls'.

Shops by verification status, and keys by expiry ("expires within 14 days", expired),
each number linking to the connection list filtered to exactly the shops it counts
(the list's own filters, whose conditions are defined here). One query, however many
shops.
"""

from dataclasses import dataclass
from datetime import date, timedelta

from django.db.models import Count, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from malls.admin import figures

from . import connections
from .models import RakutenConnection

QUERIES = 1

# The admin list's expiry filter: its values, labels and conditions.
EXPIRY_CHOICES = [
    ("expiring", _("Expires within 14 days")),
    ("expired", _("Expired")),
    ("unknown", _("Unknown")),
]


def expiry_condition(value: str, today: date) -> Q | None:
    """The shops the expiry filter ``value`` shows on ``today`` (Japan); None for none."""
    horizon = today + timedelta(days=connections.EXPIRING_FROM_DAYS)
    return {
        "expiring": Q(expires_on__gte=today, expires_on__lte=horizon),
        "expired": Q(expires_on__lt=today),
        "unknown": Q(expires_on__isnull=True),
    }.get(value)


CHANGELIST = "admin:rakuten_rakutenconnection_changelist"


def changelist_url(params: dict) -> str:
    """The Rakuten connection list, filtered by the list's own filter parameters."""
    return figures.changelist_url(CHANGELIST, params)


class Figure(figures.Figure):
    changelist = CHANGELIST


@dataclass(frozen=True)
class RakutenOverview:
    total: int
    by_status: list[Figure]
    expiry: list[Figure]


def build_overview(*, now=None) -> RakutenOverview:
    today = connections.japan_today(now or timezone.now())
    Status = RakutenConnection.Status
    shown_expiry = [(value, label) for value, label in EXPIRY_CHOICES if value != "unknown"]
    counts = RakutenConnection.objects.aggregate(
        total=Count("pk"),
        **{f"status:{value}": Count("pk", filter=Q(status=value)) for value in Status.values},
        **{
            f"expiry:{value}": Count("pk", filter=expiry_condition(value, today))
            for value, _label in shown_expiry
        },
    )
    return RakutenOverview(
        total=counts["total"],
        by_status=[
            Figure(value, str(label), counts[f"status:{value}"], {"status__exact": value})
            for value, label in Status.choices
        ],
        expiry=[
            Figure(value, str(label), counts[f"expiry:{value}"], {"expiry": value})
            for value, label in shown_expiry
        ],
    )


def index_context() -> dict:
    """The admin index's context for ``rakuten/admin_overview.html``."""
    return {"rakuten_overview": build_overview(), "rakuten_all_url": changelist_url({})}
