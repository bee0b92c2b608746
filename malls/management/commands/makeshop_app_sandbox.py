"""MakeShop's new API, emulated: install or uninstall GoQ's app for a demo shop, or serve
the GraphQL endpoint.

Subcommands rather than options, because each action takes different arguments:

    manage.py makeshop_app_sandbox install --shop demo-shop [--app-url http://127.0.0.1:8000]
    manage.py makeshop_app_sandbox uninstall --shop demo-shop
    manage.py makeshop_app_sandbox order-update --shop demo-shop [--order D000000101]
    manage.py makeshop_app_sandbox serve [--port 8002]

The webhook secret and app id come from settings (never from the command line, where
they would land in shell history and process lists).
"""

import ipaddress

from django.core.management.base import BaseCommand, CommandError

from malls.makeshop.app import sandbox
from malls.makeshop.app.config import get_config


class Command(BaseCommand):
    help = "Play MakeShop's app store for a demo shop, or serve the GraphQL sandbox."
    requires_system_checks = []

    def add_arguments(self, parser):
        actions = parser.add_subparsers(dest="action", required=True)
        for name, what in (
            ("install", "POST the install webhook (the demo shop's token) to the app"),
            ("uninstall", "POST the uninstall webhook to the app"),
            ("order-update", "POST an order-update webhook to the app"),
        ):
            action = actions.add_parser(name, help=what)
            action.add_argument("--shop", required=True, choices=sorted(sandbox.DEMO_APP_SHOPS))
            action.add_argument("--app-url", default="http://127.0.0.1:8000",
                                help="where GoQ runs")
            if name == "order-update":
                action.add_argument("--order", default="D000000101", help="order number")
        serve = actions.add_parser("serve", help="serve the GraphQL sandbox until Ctrl-C")
        serve.add_argument("--host", default="127.0.0.1")
        serve.add_argument("--port", type=int, default=8002)

    def handle(self, *args, action, **options):
        if action == "serve":
            return self._serve(options["host"], options["port"])
        config = get_config()
        if not config.enabled:
            raise CommandError(
                "MakeShop's new API is off: set the four MAKESHOP_APP_* settings "
                f"(MAKESHOP_APP_ID={sandbox.SANDBOX_APP_ID} for the sandbox)."
            )
        target = {"app_url": options["app_url"], "secret": config.webhook_secret,
                  "app_id": config.app_id}
        shop = options["shop"]
        try:
            if action == "install":
                status = sandbox.send_install(shop, **target)
            elif action == "uninstall":
                status = sandbox.send_uninstall(shop, **target)
            else:
                status = sandbox.send_order_update(shop, order_number=options["order"], **target)
        except OSError as exc:  # requests' errors are OSErrors; their text holds the URL
            raise CommandError(f"The app did not answer ({type(exc).__name__}).") from None
        message = f"{action} for {shop}: the app answered HTTP {status}"
        if status != 200:
            raise CommandError(message)
        self.stdout.write(self.style.SUCCESS(message))

    def _serve(self, host, port):
        try:
            server = sandbox.make_app_server(host, port)
        except OSError as exc:
            raise CommandError(f"Cannot listen on {host}:{port}: {exc.strerror}") from None
        if not ipaddress.ip_address(host).is_loopback:
            self.stderr.write(self.style.WARNING("The sandbox prints its tokens: keep it local."))
        self.stdout.write(f"MakeShop GraphQL sandbox on {server.url}")
        self.stdout.write(
            f"Use it with: MAKESHOP_APP_GRAPHQL_URL={server.url} "
            f"MAKESHOP_APP_ID={sandbox.SANDBOX_APP_ID} "
            f"MAKESHOP_APP_API_KEY={sandbox.SANDBOX_API_KEY}"
        )
        for shop in sandbox.DEMO_APP_SHOPS.values():
            self.stdout.write(f"  {shop.shop_id:<10} app token {shop.token}")
        try:
            server.serve_forever()
        except KeyboardInterrupt:
            pass
        finally:
            server.server_close()
