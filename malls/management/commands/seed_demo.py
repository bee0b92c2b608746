"""Create the demo users, stores and MakeShop shops (idempotent)."""

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from malls.demo import seed_demo


class Command(BaseCommand):
    help = "Create demo users, stores and shops for trying the product. Safe to rerun."

    def add_arguments(self, parser):
        parser.add_argument(
            "--force", action="store_true", help="run even with DEBUG off (never in production)"
        )

    def handle(self, *args, force, **options):
        if not settings.DEBUG and not force:
            raise CommandError(
                "Refusing to create demo logins with DEBUG off; pass --force if this really "
                "is a trial installation."
            )
        for line in seed_demo():
            self.stdout.write(line)
