"""``manage.py rakuten_capture``: record RMS's real answers for one shop, keys removed."""

import getpass
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from malls.rakuten import capture
from malls.rakuten.api import clean_key, normalize_shop_url


class Command(BaseCommand):
    help = (
        "Call RMS with a shop's keys (asked for at the prompt, never on the command line) "
        "and write each answer, keys removed, under tests/rakuten/captures/."
    )

    def add_arguments(self, parser):
        parser.add_argument("shop_url", help="the shop code (the xxxx of rakuten.co.jp/xxxx/)")
        parser.add_argument("--base-url", default=None, help="default: RAKUTEN_API_BASE_URL")
        parser.add_argument("--directory", type=Path, default=capture.CAPTURES_DIR)

    def handle(self, *args, shop_url, base_url, directory, **options):
        code = normalize_shop_url(shop_url)
        if code is None:
            raise CommandError("not a shop URL")
        try:
            secret = settings.RAKUTEN_SERVICE_SECRET or clean_key(
                getpass.getpass("serviceSecret: ")
            )
            key = clean_key(getpass.getpass("licenseKey: "))
        except ValueError as error:
            raise CommandError(f"not a key ({error})") from None
        files = capture.capture(
            base_url=base_url or settings.RAKUTEN_API_BASE_URL, service_secret=secret,
            license_key=key, shop_url=code, directory=directory,
        )
        for path in files:
            verdict = capture.replay(path)
            self.stdout.write(f"{path.name}: {verdict.outcome if verdict else 'no verdict'}")
