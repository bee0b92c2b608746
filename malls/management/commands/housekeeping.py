"""Periodic clean-up and every mall's periodic jobs, each at most once per its interval.

Run it from cron every few minutes (``make run`` runs it every minute): a job runs
when its interval's window (``PeriodicJob.every``) has not seen it run yet, counted
in the shared rate counters, so several machines running the command run each job
once per window. ``--all`` runs every job now.
"""

from django.core.management.base import BaseCommand

from malls import providers, ratelimits


class Command(BaseCommand):
    help = (
        "Delete expired rate-limit counters and run every mall's periodic jobs that are due "
        "(e.g. forget retired notification URLs, re-check keys waiting for activation)."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--all", action="store_true", help="run every periodic job now, due or not"
        )

    def handle(self, *args, all=False, **options):
        counters = ratelimits.prune()
        self.stdout.write(f"removed {counters} rate counters")
        for code, provider in providers.registered().items():
            for job in provider.periodic_jobs():
                key = f"periodic:{code}:{job.name}"
                if all or ratelimits.hit(key, limit=1, window_seconds=max(1, int(job.every))):
                    self.stdout.write(f"{code}: {job.name}: {job.run()}")
