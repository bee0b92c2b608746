"""Report which key encrypts each stored secret and which cannot be decrypted."""

from django.core.management.base import BaseCommand

from malls import crypto, services


class Command(BaseCommand):
    help = "Count stored secrets per key id and list rows that fail to decrypt (no values)."

    def handle(self, *args, **options):
        health = services.check_stored_credentials()
        primary = crypto.get_keyring().primary
        self.stdout.write(f"rows: {health.rows}")
        for kid, count in sorted(health.by_kid.items()):
            marker = " (primary)" if kid == primary else ""
            self.stdout.write(f"key {kid}{marker}: {count} secrets")
        if health.undecryptable:
            self.stdout.write(f"undecryptable: {len(health.undecryptable)}")
            for ref in health.undecryptable:
                self.stdout.write(f"  {ref.model} {ref.pk}: {ref.field}")
            raise SystemExit(1)
        self.stdout.write(self.style.SUCCESS("every stored secret decrypts"))
