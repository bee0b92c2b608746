"""Periodic clean-up: expired rate counters, then every mall's periodic jobs."""

from django.core.management.base import BaseCommand

from malls import providers, ratelimits


class Command(BaseCommand):
    help = (
        "Delete expired rate-limit counters and run every mall's periodic jobs (e.g. forget "
        "retired notification URLs)."
    )

    def handle(self, *args, **options):
        counters = ratelimits.prune()
        self.stdout.write(f"removed {counters} rate counters")
        for code, provider in providers.registered().items():
            for job in provider.periodic_jobs():
                self.stdout.write(f"{code}: {job.name}: {job.run()}")
