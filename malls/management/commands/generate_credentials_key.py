"""Print a new CREDENTIALS_KEYS entry; nothing is stored."""

from django.core.management.base import BaseCommand

from malls import crypto


class Command(BaseCommand):
    help = "Print a new 'kid:base64key' entry for CREDENTIALS_KEYS (put it first to rotate)."

    def add_arguments(self, parser):
        parser.add_argument("--kid", required=True, help="key id, e.g. 2026-11")

    def handle(self, *args, kid, **options):
        try:
            self.stdout.write(crypto.generate_key_spec(kid))
        except crypto.KeyConfigurationError as exc:
            self.stderr.write(str(exc))
            raise SystemExit(2) from None
