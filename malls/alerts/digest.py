"""The daily staff digest: shops that broke in the last 24 hours or stayed broken, by cause,
then shops that will need their merchant soon.

A jump in one cause across many shops is how a change on a mall's side shows up, so
the digest counts shops per cause (mall, status, failing check, reason) and lists a
few examples of each. It costs the same handful of queries however many shops there
are: one aggregate, one ranked sample, the staff list (permissions included), one insert,
plus each mall's ``digest_upcoming`` (e.g. keys expiring within 14 days), which must
cost a constant number of queries too.
"""

from dataclasses import dataclass, field
from datetime import timedelta

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.db import transaction
from django.db.models import Count, Exists, F, OuterRef, Q, Window
from django.db.models.functions import RowNumber
from django.utils import timezone

from . import emails, states
from .models import AlertMessage, ShopAlert
from .queueing import kick_sender
from .states import ConnectionState

EXAMPLES_PER_CAUSE = 5
WINDOW = timedelta(hours=24)

_CAUSE = ("shop__mall__code", "status", "failed_check", "reason")
# The digest names every store's shops: only staff who may see them in the admin get it.
VIEW_CONNECTIONS = "malls.view_makeshopconnection"


@dataclass
class Cause:
    mall_code: str
    mall_names: dict  # language -> the mall's name
    state: ConnectionState
    broke: int = 0  # shops that broke within the window
    still_broken: int = 0  # shops broken since before the window, still broken
    fixed: int = 0  # shops that broke within the window and work again
    examples: list[dict] = field(default_factory=list)

    @property
    def total(self) -> int:
        return self.broke + self.still_broken


@dataclass(frozen=True)
class Upcoming:
    """Shops of one mall that will need their merchant soon (keys about to expire...),
    as the mall's ``digest_upcoming(now, limit)`` reports them: how many, the first
    ``limit`` as examples ({"shop", "store", "when"}), and the admin list of them all.
    ``label`` and ``when_label`` are lazy texts, read in each recipient's language."""

    mall_code: str
    mall_names: dict  # language -> the mall's name
    label: object
    count: int
    examples: list[dict] = field(default_factory=list)
    when_label: object = ""
    admin_path: str = ""


@dataclass
class DigestReport:
    since: object
    until: object
    causes: list[Cause]
    upcoming: list[Upcoming] = field(default_factory=list)

    @property
    def broke(self) -> int:
        return sum(cause.broke for cause in self.causes)

    @property
    def still_broken(self) -> int:
        return sum(cause.still_broken for cause in self.causes)

    @property
    def fixed(self) -> int:
        return sum(cause.fixed for cause in self.causes)

    def __bool__(self):
        return bool(self.causes or self.upcoming)


def build_report(*, now=None) -> DigestReport:
    until = now or timezone.now()
    since = until - WINDOW
    window = Q(closed_at__isnull=True) | Q(opened_at__gte=since)
    alerts = ShopAlert.objects.filter(window, opened_at__lte=until)
    rows = (
        alerts.values(*_CAUSE, "shop__mall__name", "shop__mall__name_en")
        .annotate(
            broke=Count("shop", distinct=True, filter=Q(opened_at__gte=since)),
            still_broken=Count(
                "shop", distinct=True, filter=Q(closed_at__isnull=True, opened_at__lt=since)
            ),
            fixed=Count(
                "shop", distinct=True, filter=Q(closed_at__isnull=False, opened_at__gte=since)
            ),
        )
        .order_by()
    )
    causes = {
        tuple(row[key] for key in _CAUSE): Cause(
            mall_code=row["shop__mall__code"],
            mall_names={"ja": row["shop__mall__name"], "en": row["shop__mall__name_en"]},
            state=ConnectionState(
                row["status"], row["reason"], row["failed_check"], row["shop__mall__code"]
            ),
            broke=row["broke"], still_broken=row["still_broken"], fixed=row["fixed"],
        )
        for row in rows
    }
    examples = (
        alerts.filter(closed_at__isnull=True)
        .annotate(
            rank=Window(
                RowNumber(),
                partition_by=[F(key) for key in _CAUSE],
                order_by=[F("opened_at").desc(), F("pk").desc()],
            )
        )
        .filter(rank__lte=EXAMPLES_PER_CAUSE)
        .values(*_CAUSE, "opened_at", "shop__name", "shop__store__name")
        .order_by()
    )
    for row in examples:
        cause = causes.get(tuple(row[key] for key in _CAUSE))
        if cause is not None:
            cause.examples.append(
                {
                    "shop": row["shop__name"],
                    "store": row["shop__store__name"],
                    "since": emails.tokyo_time(row["opened_at"]),
                }
            )
    ordered = sorted(
        causes.values(),
        key=lambda c: (-c.broke, -c.total, c.mall_code, c.state.reason, c.state.check),
    )
    for cause in ordered:
        cause.examples.sort(key=lambda example: example["since"], reverse=True)
    return DigestReport(since=since, until=until, causes=ordered, upcoming=upcoming(until))


def upcoming(now) -> list[Upcoming]:
    """What every registered mall says will need merchants soon (none counted 0)."""
    return [
        item
        for mall in states.PROVIDERS.values()
        if mall.digest_upcoming is not None
        for item in mall.digest_upcoming(now, EXAMPLES_PER_CAUSE)
        if item.count
    ]


def may_view_connections():
    """``has_perm(VIEW_CONNECTIONS)`` for every user at once: superusers, and users
    holding the permission themselves or through a group (one query, no loop)."""
    user_model = get_user_model()
    app_label, codename = VIEW_CONNECTIONS.split(".")
    permission = Permission.objects.filter(
        content_type__app_label=app_label, codename=codename
    )
    own = user_model.user_permissions.through.objects.filter(
        **{user_model.user_permissions.field.m2m_field_name(): OuterRef("pk")},
        permission__in=permission,
    )
    by_group = user_model.groups.through.objects.filter(
        **{user_model.groups.field.m2m_field_name(): OuterRef("pk")},
        group__permissions__in=permission,
    )
    return Q(is_superuser=True) | Exists(own) | Exists(by_group)


def staff_recipients() -> list[tuple[int, str]]:
    """(user id, language) of active staff who may view shops' connections, with an
    address, who want alert e-mails."""
    from .services import default_language

    users = (
        get_user_model().objects.filter(is_staff=True, is_active=True)
        .filter(may_view_connections())
        .exclude(email="")
        .exclude(alert_preference__alerts_enabled=False)
        .values_list("pk", "alert_preference__language")
        .order_by("pk")
    )
    return [(pk, language or default_language()) for pk, language in users]


def queue_staff_digest(*, now=None) -> int:
    """Queue today's digest for every staff recipient; at most one per user per day.

    Returns how many e-mails were queued (0 when nothing is broken, or when today's
    digest was already queued).
    """
    now = now or timezone.now()
    report = build_report(now=now)
    if not report:
        return 0
    day = now.astimezone(emails.TOKYO).date().isoformat()
    rendered = {}
    messages = []
    for user_id, language in staff_recipients():
        if language not in rendered:
            rendered[language] = emails.render_digest(language=language, report=report)
        text = rendered[language]
        messages.append(
            AlertMessage(
                recipient_id=user_id, kind=AlertMessage.Kind.DIGEST, language=language,
                subject=text.subject, body=text.body, next_attempt_at=now,
                dedup_key=f"digest:{day}:{user_id}",
            )
        )
    if not messages:
        return 0
    with transaction.atomic():
        existing = set(
            AlertMessage.objects.filter(
                dedup_key__in=[message.dedup_key for message in messages]
            ).values_list("dedup_key", flat=True)
        )
        new = [message for message in messages if message.dedup_key not in existing]
        AlertMessage.objects.bulk_create(new, ignore_conflicts=True)
        if new:
            transaction.on_commit(kick_sender)
    return len(new)
