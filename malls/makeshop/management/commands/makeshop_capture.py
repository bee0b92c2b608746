"""Capture a real MakeShop shop's answers, secrets removed, for the replay test.

See ``malls.makeshop.capture`` and docs/operations.md ("Capturing MakeShop's real
answers").
"""

import getpass
import sys
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from malls.makeshop import capture
from malls.makeshop.api import SHOP_ID_RE, Outcome
from malls.makeshop.app.config import get_config
from malls.makeshop.app.models import AppWebhookReceipt
from malls.makeshop.throttle import makeshop_call_slot

VERDICTS = [outcome.value for outcome in Outcome]


class Command(BaseCommand):
    help = (
        "Call MakeShop's legacy API a few times for one real shop (right order code over "
        "the last minute, a wrong token, a wrong password, the product call), and write "
        "the answers with every secret removed, plus what you say the right verdicts are, "
        "as a JSON file for the replay test. Asks for the codes without echoing them."
    )
    # Tests feed the answers through ``stdin`` instead of a terminal.
    stealth_options = ("stdin",)

    def add_arguments(self, parser):
        parser.add_argument("--shop-id", default="", help="the shop's MakeShop shop ID")
        parser.add_argument(
            "--out", type=Path, default=None,
            help=f"folder for the capture file (default: {capture.CAPTURES_DIR}, or its app/ "
            "and webhooks/ folders)",
        )
        mode = parser.add_mutually_exclusive_group()
        mode.add_argument(
            "--app", action="store_true",
            help="capture the new API (GraphQL) instead: asks for the shop's app token; the "
            "URL and API key come from the MAKESHOP_APP_* settings",
        )
        mode.add_argument(
            "--app-uninstalled", action="store_true",
            help="like --app, with the token of an app the shop has uninstalled (one call)",
        )
        mode.add_argument(
            "--webhooks", action="store_true",
            help="write the latest app webhooks GoQ received (header names and body shapes, no "
            "value) as a fixture file",
        )
        parser.add_argument("--limit", type=int, default=50,
                            help="--webhooks: how many of the latest (default 50)")
        parser.add_argument(
            "--with-login", action="store_true",
            help="also ask for the main administrator's password and log in with it (a "
            "bulk-upload login may void a key another tool holds: only with the merchant's "
            "consent)",
        )
        parser.add_argument(
            "--base-url", default="",
            help="MakeShop's base URL (default: the MAKESHOP_API_BASE_URL setting)",
        )

    def handle(self, *args, shop_id, out, base_url, with_login, **options):
        self.input = options.get("stdin") or sys.stdin
        if options["webhooks"]:
            return self._webhooks(out or capture.WEBHOOK_CAPTURES_DIR, options["limit"])
        if not SHOP_ID_RE.fullmatch(shop_id):
            raise CommandError("That is not a MakeShop shop ID (letters, digits, '-' or '_').")
        if options["app"] or options["app_uninstalled"]:
            return self._app(shop_id, out or capture.APP_CAPTURES_DIR,
                             uninstalled=options["app_uninstalled"])
        out = out or capture.CAPTURES_DIR
        base_url = base_url or settings.MAKESHOP_API_BASE_URL
        self.stdout.write(
            f"Capturing MakeShop's answers for shop {shop_id} at {base_url}.\n"
            "Nothing you type is shown or written anywhere; the file keeps no code, token, "
            "shop ID or buyer detail."
        )
        codes = {
            "order": self._secret("Order data auth code (設定 → API → 注文): "),
            "product": self._secret("Product data auth code (設定 → API → 商品): "),
        }
        if with_login:
            codes["password"] = self._secret("Main administrator's password: ")
        if not all(codes.values()):
            raise CommandError("Every code asked for is needed.")
        right = self._ask(
            "Are these the codes MakeShop shows now (so they should be accepted)? [y/n] ", "y"
        ).lower().startswith("y")

        try:
            cases = capture.CASES + ((capture.LOGIN_CASE,) if with_login else ())
            captured = capture.capture(
                base_url, shop_id, codes, slot=makeshop_call_slot, cases=cases
            )
        except Exception as exc:  # the text may hold the URL and its token
            raise CommandError(f"MakeShop could not be asked: {type(exc).__name__}") from None

        truths = {}
        for item in captured:
            default = item.case.expected
            if not right and item.case.secret != "wrong":  # noqa: S105 - names a kind of secret
                default = Outcome.REJECTED
            self.stdout.write(
                f"\n{item.case.name}: {item.case.question}\n"
                f"  MakeShop answered HTTP {item.status} "
                f"({item.headers.get('Content-Type', 'no content type')}); GoQ reads it as "
                f"{item.verdict.outcome}"
                f"{' (' + item.verdict.reason + ')' if item.verdict.reason else ''}"
                f" by rule {item.verdict.rule}."
            )
            truths[item.case.name] = self._verdict(
                f"  What is the right verdict? {'/'.join(VERDICTS)} [{default}]: ", default
            )
        note = self._ask("A note for the file (e.g. 'no orders in that minute'; Enter: none): ")
        content = capture.record(
            captured, shop_id=shop_id, codes=codes, truths=truths, base_url=base_url,
            statement={"codes_were_right": right, "note": note},
        )
        path = capture.write(content, out)
        disagree = [
            item.case.name for item in captured
            if str(item.verdict.outcome) != truths[item.case.name]
        ]
        self.stdout.write(f"\nWrote {path}")
        if disagree:
            self.stdout.write(self.style.WARNING(
                "GoQ's verdict disagrees with yours for: " + ", ".join(disagree)
                + ". The replay test fails until the rules in malls/makeshop/legacy/answers.py "
                "agree: that is the point."
            ))

    def _app(self, shop_id, out, *, uninstalled):
        config = get_config()
        if not config.enabled:
            raise CommandError("The new API is off: set the MAKESHOP_APP_* settings first.")
        self.stdout.write(
            f"Capturing MakeShop's new API for shop {shop_id} at {config.graphql_url}.\n"
            "Nothing you type is shown or written anywhere; the file keeps no token, key or "
            "shop ID."
        )
        token = self._secret("The shop's app token (from its installation): ")
        if not token:
            raise CommandError("The token is needed.")
        cases = (capture.APP_UNINSTALLED_CASE,) if uninstalled else capture.APP_CASES
        try:
            captured = capture.capture_app(config.graphql_url, config.api_key, shop_id, token,
                                           slot=makeshop_call_slot, cases=cases)
        except Exception as exc:  # the text may hold anything
            raise CommandError(f"MakeShop could not be asked: {type(exc).__name__}") from None
        truths = {}
        for item in captured:
            self.stdout.write(
                f"\n{item.case.name}: {item.case.question}\n  MakeShop answered HTTP "
                f"{item.status}; GoQ reads it as {item.outcome}"
                f"{' (' + item.reason + ')' if item.reason else ''}."
            )
            truths[item.case.name] = self._verdict(
                f"  What is the right verdict? {'/'.join(VERDICTS)} [{item.case.expected}]: ",
                item.case.expected,
            )
        note = self._ask("A note for the file (Enter: none): ")
        content = capture.record_app(
            captured, shop_id=shop_id, secrets=[token, config.api_key], truths=truths,
            statement={"note": note}, graphql_url=config.graphql_url,
        )
        path = capture.write(content, out, "-app")
        self.stdout.write(f"\nWrote {path}")

    def _webhooks(self, out, limit):
        latest = AppWebhookReceipt.objects.order_by("-pk")[:max(limit, 1)]
        content = capture.record_webhooks(latest)
        path = capture.write(content, out, "-webhooks")
        self.stdout.write(f"Wrote {path} ({len(content['webhooks'])} webhooks, no values)")

    def _secret(self, prompt: str) -> str:
        if self.input is sys.stdin and sys.stdin.isatty():
            return getpass.getpass(prompt).strip()
        self.stdout.write(prompt)
        return self.input.readline().strip()

    def _ask(self, prompt: str, default: str = "") -> str:
        self.stdout.write(prompt, ending="")
        self.stdout.flush()
        answer = self.input.readline().strip()
        return answer or default

    def _verdict(self, prompt: str, default) -> str:
        while True:
            answer = self._ask(prompt, str(default)).lower()
            if answer in VERDICTS:
                return answer
            self.stdout.write(f"  one of: {', '.join(VERDICTS)}")
