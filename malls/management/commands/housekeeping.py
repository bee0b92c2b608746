"""Periodic clean-up: expired rate counters and notification tokens past their grace."""

from django.core.management.base import BaseCommand
from django.utils import timezone

from malls import ratelimits
from malls.models import MakeShopConnection


class Command(BaseCommand):
    help = "Delete expired rate-limit counters and forget retired notification tokens."

    def handle(self, *args, **options):
        counters = ratelimits.prune()
        tokens = MakeShopConnection.objects.filter(
            previous_token_expires_at__lt=timezone.now()
        ).exclude(previous_notification_token="").update(
            previous_notification_token="", previous_token_expires_at=None
        )
        self.stdout.write(f"removed {counters} rate counters, forgot {tokens} retired tokens")
