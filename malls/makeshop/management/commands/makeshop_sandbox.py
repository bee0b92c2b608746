"""The MakeShop sandbox: serve it, or play MakeShop's app store in the running one.

    manage.py makeshop_sandbox [--port 8001]                  serve until Ctrl-C
    manage.py makeshop_sandbox install-app --shop demo-app    install GoQ's app in a demo shop
    manage.py makeshop_sandbox uninstall-app --shop demo-app  uninstall it (the token stops working)
    manage.py makeshop_sandbox order-update --shop demo-app   an order-update webhook

Every other installed mall's stand-in is served on the same port (its provider's
``sandbox_routes``, found through the registry: ``malls.sandbox``).

The three actions ask the running sandbox (``--sandbox-url``) over its sandbox-only
admin path, and the sandbox POSTs the webhook to GoQ (``--app-url``) itself: so an
uninstall revokes the token inside the sandbox before GoQ hears of it, as on MakeShop.
The webhook secret and app id come from the settings (never from the command line,
where they would land in shell history and process lists).
"""

from urllib.parse import urlsplit

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from malls import sandbox as mall_sandboxes
from malls.makeshop.app import sandbox as app_sandbox
from malls.makeshop.app.config import get_config
from malls.makeshop.sandbox import DEMO_SHOPS, make_server

DEFAULT_PORT = 8001
MALL = "makeshop"  # Mall.MAKESHOP: this sandbox's own mall, which mounts the others
ACTIONS = {
    "install-app": ("install", "install GoQ's app in a demo shop: MakeShop POSTs the install "
                               "webhook with the shop's token"),
    "uninstall-app": ("uninstall", "uninstall GoQ's app: the token stops working, then MakeShop "
                                   "POSTs the uninstall webhook"),
    "order-update": ("order-update", "POST an order-update webhook for a demo shop"),
}


class Command(BaseCommand):
    help = (
        "Serve a MakeShop stand-in with demo shops (legacy API and the new API's GraphQL "
        "endpoint), or install / uninstall GoQ's app in a demo shop of the running one."
    )
    # It needs neither the database nor the credential keys the system checks insist on.
    requires_system_checks = []

    def add_arguments(self, parser):
        parser.add_argument("--host", default="127.0.0.1", help="address to bind (IPv4)")
        parser.add_argument("--port", type=int, default=DEFAULT_PORT, help="port to listen on")
        parser.add_argument(
            "--latency", type=float, default=0.0, help="seconds to wait before each answer"
        )
        actions = parser.add_subparsers(dest="action", metavar="ACTION")
        for name, (_, what) in ACTIONS.items():
            action = actions.add_parser(name, help=what, description=what)
            action.add_argument("--shop", required=True,
                                choices=sorted(app_sandbox.DEMO_APP_SHOPS))
            action.add_argument("--app-url", default="http://127.0.0.1:8000",
                                help="where GoQ runs (default http://127.0.0.1:8000)")
            action.add_argument("--sandbox-url", default=None,
                                help="the running sandbox (default: from the settings, else "
                                     f"http://127.0.0.1:{DEFAULT_PORT})")
            if name == "order-update":
                action.add_argument("--order", default="D000000101", help="order number")

    def handle(self, *args, action=None, **options):
        if action is None:
            return self._serve(options["host"], options["port"], options["latency"])
        return self._act(action, options)

    # --- Playing the app store ---------------------------------------------------------------

    def _act(self, action, options):
        config = get_config()
        if not config.enabled:
            raise CommandError(
                "MakeShop's new API is off: set the four MAKESHOP_APP_* settings "
                f"(MAKESHOP_APP_ID={app_sandbox.SANDBOX_APP_ID} for the sandbox; `make run` "
                "writes them to .env)."
            )
        sandbox_url = options["sandbox_url"] or default_sandbox_url()
        if not app_sandbox.is_loopback_url(sandbox_url):
            # The request carries GoQ's webhook secret: it never leaves this machine.
            raise CommandError("--sandbox-url must be a loopback address (127.0.0.1, ::1).")
        shop = options["shop"]
        try:
            status, answer = app_sandbox.remote_control(
                sandbox_url, ACTIONS[action][0], shop_id=shop, app_url=options["app_url"],
                webhook_secret=config.webhook_secret, app_id=config.app_id,
                order_number=options.get("order") or "",
            )
        except OSError as exc:
            raise CommandError(
                f"No MakeShop sandbox answered at {sandbox_url} ({type(exc).__name__}): start "
                "it with `manage.py makeshop_sandbox` (or `make run`), or pass --sandbox-url."
            ) from None
        if status != 200:
            raise CommandError(f"The sandbox refused: HTTP {status} {answer.get('error', '')}")
        app_status = answer.get("app_status")
        token = "works" if answer.get("token_works") else "revoked"
        message = f"{action} for {shop}: GoQ answered HTTP {app_status}; the app token {token}"
        if app_status != 200:
            raise CommandError(message)
        self.stdout.write(self.style.SUCCESS(message))

    # --- Serving -----------------------------------------------------------------------------

    def _serve(self, host, port, latency):
        api_key, api_key_source = app_api_key()
        mounts = mall_sandboxes.mall_routes(serving=MALL)
        try:
            server = make_server(host, port, latency=latency, app_api_key=api_key, mounts=mounts)
        except OSError as exc:
            raise CommandError(f"Cannot listen on {host}:{port}: {exc.strerror}") from None
        if not app_sandbox.is_loopback_host(host):
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
        self.stdout.write(
            f"New API (GraphQL): MAKESHOP_APP_GRAPHQL_URL={server.url}{app_sandbox.GRAPHQL_PATH}"
            f"  MAKESHOP_APP_ID={app_sandbox.SANDBOX_APP_ID}  x-api-key: {api_key_source}"
        )
        for shop in app_sandbox.DEMO_APP_SHOPS.values():
            self.stdout.write(f"  {shop.shop_id:<18} app token {shop.token}")
        self.stdout.write(
            "Install GoQ's app in a demo shop: manage.py makeshop_sandbox install-app "
            "--shop demo-app (uninstall-app, order-update likewise)."
        )
        for route in mounts:
            self.stdout.write(f"Also served here: mall {route.mall!r} under {server.url}"
                              f"{route.prefix} (its base URL: {server.url})")
        try:
            server.serve_forever()
        except KeyboardInterrupt:
            self.stdout.write("Stopped.")
        finally:
            server.server_close()


def app_api_key() -> tuple[str, str]:
    """The x-api-key the sandbox accepts, and how to say which it is (never the value).

    The settings' key when the settings point the new API at a loopback host (this
    sandbox: ``make run`` writes a fresh key to .env); otherwise the sandbox's demo key,
    so a real key is never held by the sandbox.
    """
    key = getattr(settings, "MAKESHOP_APP_API_KEY", "") or ""
    graphql_url = getattr(settings, "MAKESHOP_APP_GRAPHQL_URL", "") or ""
    if key and app_sandbox.is_loopback_url(graphql_url):
        return key, "MAKESHOP_APP_API_KEY from the settings"
    return app_sandbox.SANDBOX_API_KEY, f"MAKESHOP_APP_API_KEY={app_sandbox.SANDBOX_API_KEY}"


def default_sandbox_url() -> str:
    """The running sandbox: where the settings point the new API (or the legacy one)."""
    for name in ("MAKESHOP_APP_GRAPHQL_URL", "MAKESHOP_API_BASE_URL"):
        url = getattr(settings, name, "") or ""
        if app_sandbox.is_loopback_url(url):
            parts = urlsplit(url)
            return f"{parts.scheme}://{parts.netloc}"
    return f"http://127.0.0.1:{DEFAULT_PORT}"


