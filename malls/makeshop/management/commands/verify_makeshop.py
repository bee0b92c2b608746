"""Re-verify saved MakeShop settings and app tokens with MakeShop, now or through the queue.

    manage.py verify_makeshop --shop SHOP_ID          one shop, now
    manage.py verify_makeshop --all [--stale 24h]     every shop (or only stale ones), now
    manage.py verify_makeshop --all --stale 24h --enqueue
                                                      cron: queue jobs for the workers

Both kinds of connection are covered: a shop's legacy settings (auth codes,
password) and MakeShop app installations (new API: the token), linked to a shop or
still unclaimed, that are installed, unreachable or verified
(``installations.reverifiable_installations``). With ``--stale`` an installation
whose last check got no answer is retried whatever its age.

Each outcome is printed as one line (MakeShop's message included, never a
credential or token). The exit status is 1 when MakeShop rejected any shop's
settings or app token, so cron or CI notices; an unreachable MakeShop is reported
but exits 0, because the next run retries it. With ``--enqueue`` jobs already
waiting or running for a shop or installation are not queued twice, and jobs whose
worker died are put back on the queue.
"""

import re
from collections import Counter
from datetime import timedelta

from django.core.management.base import BaseCommand, CommandError
from django.db.models import F, Q
from django.utils import timezone

from malls import services
from malls.makeshop import Outcome
from malls.makeshop import jobs as makeshop_jobs
from malls.makeshop import services as makeshop_services
from malls.makeshop.app import installations
from malls.makeshop.app.models import AppInstallationEvent, MakeShopAppInstallation
from malls.makeshop.models import MakeShopConnection
from malls.makeshop.tasks import JobOutcome
from malls.models import ChangeRecord

_DURATION = re.compile(r"\A(\d+)([smhd])\Z")
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days"}


def parse_duration(text: str) -> timedelta:
    """'90s', '30m', '24h' or '7d' as a timedelta."""
    match = _DURATION.match(text.strip())
    if not match:
        raise ValueError(text)
    return timedelta(**{_UNITS[match[2]]: int(match[1])})


class Command(BaseCommand):
    help = (
        "Verify saved MakeShop settings with MakeShop and print each outcome, or queue "
        "verification jobs with --enqueue. Exits 1 if MakeShop rejected any shop."
    )

    def add_arguments(self, parser):
        which = parser.add_mutually_exclusive_group(required=True)
        which.add_argument("--shop", metavar="SHOP_ID", help="one shop, by MakeShop shop ID")
        which.add_argument(
            "--all", action="store_true", dest="every_shop", help="every configured shop"
        )
        parser.add_argument(
            "--stale",
            metavar="AGE",
            help="only shops not checked within AGE (e.g. 30m, 24h, 7d)",
        )
        parser.add_argument(
            "--enqueue",
            action="store_true",
            help="queue jobs for the background workers instead of verifying here",
        )

    def handle(self, *args, shop, every_shop, stale, enqueue, **options):
        connections = makeshop_services.verifiable_connections()
        cutoff = None
        if stale:
            try:
                age = parse_duration(stale)
            except ValueError:
                raise CommandError(
                    f"--stale takes an age such as 30m, 24h or 7d, not {stale!r}."
                ) from None
            cutoff = timezone.now() - age
        apps = installations.reverifiable_installations(checked_before=cutoff)
        if shop:
            if not (
                MakeShopConnection.objects.filter(makeshop_shop_id=shop).exists()
                or MakeShopAppInstallation.objects.filter(shop_id=shop).exists()
            ):
                raise CommandError(
                    f"No MakeShop connection or app installation has the shop ID {shop!r}."
                )
            connections = connections.filter(makeshop_shop_id=shop)
            apps = apps.filter(shop_id=shop)
        if cutoff is not None:
            connections = connections.filter(
                Q(last_checked_at__lt=cutoff) | Q(last_checked_at__isnull=True)
            )
        # Oldest check first, so a run cut short still covers the most overdue shops.
        ids = list(
            connections.order_by(F("last_checked_at").asc(nulls_first=True), "pk").values_list(
                "pk", flat=True
            )
        )
        app_ids = list(apps.values_list("pk", flat=True))
        if enqueue:
            self._enqueue(ids, app_ids)
        else:
            rejected = self._verify_now(ids) + self._verify_apps_now(app_ids)
            if rejected:
                raise CommandError(
                    f"MakeShop rejected the settings or app token of {rejected} shop(s).",
                    returncode=1,
                )

    def _enqueue(self, ids, app_ids):
        requeued = services.requeue_stalled_jobs()
        if requeued:
            self.stdout.write(f"put back on the queue: {requeued} job(s) whose worker died")
        queued, already_open = makeshop_jobs.enqueue_verification(connection_ids=ids)
        self.stdout.write(
            f"queued {queued} shop(s) for verification; {already_open} already had a job open"
        )
        if app_ids:
            queued, already_open = makeshop_jobs.enqueue_installation_verification(
                installation_ids=app_ids
            )
            self.stdout.write(
                f"queued {queued} app installation(s) for verification; {already_open} "
                "already had a job open"
            )

    def _verify_now(self, ids) -> int:
        """Verify the shops' legacy settings; returns how many MakeShop rejected."""
        tally = Counter()
        for pk in ids:
            connection = (
                MakeShopConnection.objects.select_related("shop").filter(pk=pk).first()
            )
            if connection is None:  # deleted while we were working through the list
                continue
            verification = makeshop_services.verify_connection(
                connection=connection, force=True, source=ChangeRecord.Source.COMMAND
            )
            outcome = (
                JobOutcome.NOTHING_TO_VERIFY if verification is None else verification.outcome
            )
            tally[outcome] += 1
            self.stdout.write(self._line(connection, verification, outcome))
        summary = ", ".join(f"{count} {outcome}" for outcome, count in sorted(tally.items()))
        self.stdout.write(f"{sum(tally.values())} shop(s): {summary or 'none selected'}")
        return tally[Outcome.REJECTED]

    def _verify_apps_now(self, app_ids) -> int:
        """Verify the app installations' tokens; returns how many MakeShop rejected."""
        if not app_ids:
            return 0
        tally = Counter()
        for pk in app_ids:
            installation = MakeShopAppInstallation.objects.filter(pk=pk).first()
            if installation is None:  # deleted meanwhile
                continue
            result = installations.verify_installation(
                installation=installation, source=AppInstallationEvent.Source.COMMAND
            )
            outcome = JobOutcome.NOTHING_TO_VERIFY if result is None else result.outcome
            tally[outcome] += 1
            line = f"{installation.shop_id} (MakeShop app): {outcome}"
            if result is not None and not result.ok:
                detail = " ".join(
                    part for part in (installation.state, installation.failure_reason) if part
                )
                if installation.makeshop_message:
                    detail += f' "{installation.makeshop_message}"'
                style = self.style.ERROR if outcome == Outcome.REJECTED else self.style.WARNING
                line = style(f"{line} ({detail})")
            self.stdout.write(line)
        summary = ", ".join(f"{count} {outcome}" for outcome, count in sorted(tally.items()))
        self.stdout.write(f"{sum(tally.values())} app installation(s): {summary}")
        return tally[Outcome.REJECTED]

    def _line(self, connection, verification, outcome) -> str:
        line = f"{connection.makeshop_shop_id}: {outcome}"
        if verification is None or verification.ok:
            return line
        parts = [connection.failed_check, connection.failure_reason]
        if verification.not_run:
            parts.append("not checked: " + ",".join(str(check) for check in verification.not_run))
        detail = " ".join(part for part in parts if part)
        if connection.makeshop_message:
            detail += f' "{connection.makeshop_message}"'
        style = self.style.ERROR if outcome == Outcome.REJECTED else self.style.WARNING
        return style(f"{line} ({detail})")
