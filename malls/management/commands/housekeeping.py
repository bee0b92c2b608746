"""Periodic clean-up: expired rate counters and notification tokens past their grace."""

from django.core.management.base import BaseCommand

from malls import ratelimits, services


class Command(BaseCommand):
    help = "Delete expired rate-limit counters and forget retired notification tokens."

    def handle(self, *args, **options):
        counters = ratelimits.prune()
        tokens = services.forget_expired_notification_tokens()
        self.stdout.write(f"removed {counters} rate counters, forgot {tokens} retired tokens")
