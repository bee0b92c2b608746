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
        parser.add_argument("--shop-id", required=True, help="the shop's MakeShop shop ID")
        parser.add_argument(
            "--out", type=Path, default=capture.CAPTURES_DIR,
            help=f"folder for the capture file (default: {capture.CAPTURES_DIR})",
        )
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
        if not SHOP_ID_RE.fullmatch(shop_id):
            raise CommandError("That is not a MakeShop shop ID (letters, digits, '-' or '_').")
        self.input = options.get("stdin") or sys.stdin
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
