"""``manage.py rakuten_sandbox [--port 8002]``: serve the RMS stand-in until Ctrl-C.

Point ``RAKUTEN_API_BASE_URL`` at the address it prints. ``make run`` needs none of
this: the bundled sandbox (``makeshop_sandbox``) serves the same emulator on its own
port. ``--list`` prints the demo shops and their keys only.
"""

from django.core.management.base import BaseCommand, CommandError

from malls.rakuten.sandbox import DEMO_SHOPS, SANDBOX_SERVICE_SECRET, make_server

DEFAULT_PORT = 8002


class Command(BaseCommand):
    help = "Serve a Rakuten RMS stand-in with demo shops for every case GoQ must handle."
    # It needs neither the database nor the credential keys the system checks insist on.
    requires_system_checks = []

    def add_arguments(self, parser):
        parser.add_argument("--port", type=int, default=DEFAULT_PORT)
        parser.add_argument(
            "--list", dest="list_only", action="store_true", help="print the demo shops and exit"
        )

    def handle(self, *args, port, list_only, **options):
        self.stdout.write("店舗URL / serviceSecret / licenseKey: what it does")
        for shop in DEMO_SHOPS.values():
            self.stdout.write(
                f"  {shop.shop_url} / {shop.service_secret} / {shop.license_key}: {shop.notes}"
            )
        self.stdout.write(f"GoQ's product (RAKUTEN_SERVICE_SECRET): {SANDBOX_SERVICE_SECRET}")
        if list_only:
            return
        try:
            server = make_server(port=port)
        except OSError as error:
            raise CommandError(f"cannot listen on 127.0.0.1:{port}: {error.strerror}") from None
        self.stdout.write(f"RAKUTEN_API_BASE_URL={server.url}  (Ctrl-C stops it)")
        try:
            server.serve_forever(poll_interval=0.2)
        except KeyboardInterrupt:
            pass
        finally:
            server.server_close()
