"""Send a sample update notification to a shop's URL, the way MakeShop would.

For trials with the sandbox: a merchant (or a developer) sees the shop's "last
notification" change without a real MakeShop shop. It goes over HTTP to a running
server (``make run`` serves on 127.0.0.1:8000), so the whole path is exercised.
"""

import urllib.error
import urllib.parse
import urllib.request

from django.core.management.base import BaseCommand, CommandError

from malls.makeshop.models import MakeShopConnection, NotificationEvent
from malls.makeshop.notifications import PLACEHOLDER_SUFFIX, notification_path

TIMEOUT_SECONDS = 10

# What each event is called in the sample, as MakeShop might spell it.
SAMPLE_COMMANDS = {
    NotificationEvent.Kind.NEW_ORDER: "order",
    NotificationEvent.Kind.ORDER_EDITED: "modify",
    NotificationEvent.Kind.ORDER_CANCELLED: "cancel",
    NotificationEvent.Kind.PAYMENT_COMPLETED: "payment",
    NotificationEvent.Kind.DELIVERY_COMPLETED: "delivery",
}


class Command(BaseCommand):
    help = "Send a sample MakeShop update notification (更新通知) to a shop's notification URL."

    def add_arguments(self, parser):
        parser.add_argument("shop_id", help="the MakeShop shop ID of a connected shop")
        parser.add_argument(
            "--base-url", default="http://127.0.0.1:8000",
            help="where the app is served (default: %(default)s)",
        )
        parser.add_argument(
            "--event", choices=[str(kind) for kind in SAMPLE_COMMANDS],
            default=str(NotificationEvent.Kind.NEW_ORDER),
        )
        parser.add_argument(
            "--order-number", default="",
            help="an order number to mark for refresh; none by default, so the sample "
            "never asks the order import for an order that does not exist",
        )
        parser.add_argument(
            "--via", choices=["path", "query", "form"], default="path",
            help="put the values in the URL's placeholders (as MakeShop does), the query "
            "string, or a POSTed form",
        )

    def handle(self, *args, shop_id, base_url, event, order_number, via, **options):
        connection = MakeShopConnection.objects.filter(makeshop_shop_id=shop_id).first()
        if connection is None:
            raise CommandError(f"No connected MakeShop shop has the shop ID {shop_id!r}.")
        scheme = urllib.parse.urlsplit(base_url).scheme
        if scheme not in ("http", "https"):
            raise CommandError("--base-url must start with http:// or https://")

        values = {"shopid": shop_id, "ordernum": order_number, "cmd": SAMPLE_COMMANDS[event]}
        path = notification_path(connection)
        data = None
        if via == "path":
            # What MakeShop does with the URL the merchant pasted; an order number it
            # does not have stays a placeholder, which the endpoint treats as missing.
            path = path.removesuffix(PLACEHOLDER_SUFFIX) + "/".join(
                urllib.parse.quote(values[name] or f"[{name.upper()}]", safe="[]")
                for name in ("shopid", "ordernum", "cmd")
            ) + "/"
        elif via == "query":
            path += "?" + urllib.parse.urlencode(values)
        else:
            data = urllib.parse.urlencode(values).encode()
        url = base_url.rstrip("/") + path
        shown = url.replace(connection.notification_token, connection.notification_token[:6] + "…")
        # The scheme was checked above: only http(s) is ever opened.
        request = urllib.request.Request(url, data=data, method="POST" if data else "GET")  # noqa: S310
        try:
            with urllib.request.urlopen(request, timeout=TIMEOUT_SECONDS) as response:  # noqa: S310
                status, body = response.status, response.read(200).decode(errors="replace")
        except urllib.error.HTTPError as exc:
            raise CommandError(f"{shown} answered {exc.code} {exc.reason}.") from exc
        except (urllib.error.URLError, OSError) as exc:
            raise CommandError(
                f"Could not reach {base_url} ({exc}). Is the app running (`make run`)?"
            ) from exc
        self.stdout.write(self.style.SUCCESS(
            f"Sent a sample '{NotificationEvent.Kind(event).label}' notification to {shown}: "
            f"{status} {body.strip()}"
        ))
