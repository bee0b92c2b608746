"""Serve the MakeShop sandbox until Ctrl-C, for trying the product offline."""

import ipaddress

from django.core.management.base import BaseCommand, CommandError

from malls.makeshop.sandbox import DEMO_SHOPS, make_server


class Command(BaseCommand):
    help = (
        "Serve a MakeShop stand-in with demo shops. Point MAKESHOP_API_BASE_URL at the "
        "printed URL. Stop with Ctrl-C."
    )
    # It needs neither the database nor the credential keys the system checks insist on.
    requires_system_checks = []

    def add_arguments(self, parser):
        parser.add_argument("--host", default="127.0.0.1", help="address to bind (IPv4)")
        parser.add_argument("--port", type=int, default=8001, help="port to listen on")
        parser.add_argument(
            "--latency", type=float, default=0.0, help="seconds to wait before each answer"
        )

    def handle(self, *args, host, port, latency, **options):
        try:
            server = make_server(host, port, latency=latency)
        except OSError as exc:
            raise CommandError(f"Cannot listen on {host}:{port}: {exc.strerror}") from None
        if not _is_loopback(host):
            self.stderr.write(
                self.style.WARNING(
                    "The sandbox has no authentication and prints its codes: keep it off "
                    "networks others can reach."
                )
            )
        self.stdout.write(f"MakeShop sandbox listening on {server.url}")
        self.stdout.write(f"Use it with: MAKESHOP_API_BASE_URL={server.url}")
        self.stdout.write("Demo shops (sandbox-only codes):")
        for shop in DEMO_SHOPS.values():
            self.stdout.write(
                f"  {shop.shop_id:<18} order {shop.order_token}  product {shop.product_code}"
                f"  password {shop.password}  ({shop.description})"
            )
        self.stdout.write(
            "Rate limit: one call per second per shop, counted from the end of the previous "
            "answer, one at a time; faster calls get HTTP 429."
        )
        try:
            server.serve_forever()
        except KeyboardInterrupt:
            self.stdout.write("Stopped.")
        finally:
            server.server_close()


def _is_loopback(host: str) -> bool:
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return host == "localhost"
