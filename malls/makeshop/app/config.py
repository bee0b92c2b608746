"""The new API's configuration, read from settings on each use.

Four settings (see README's configuration table), and an optional fifth,
``MAKESHOP_APP_API_SECRET`` (webhook signatures, ``authenticity``). With all four unset the new-API
path is off: webhook URLs answer 404 and nothing calls MakeShop's GraphQL endpoint.
Half a configuration is treated as off too, and stopped at start-up by
``malls.makeshop.app.checks``.

``MAKESHOP_APP_WEBHOOK_SECRET`` may list several secrets, comma-separated, every one
served: MakeShop holds the webhook URLs registered with the app and changes them only
through its application process (days), so a new secret is added first and the old
one removed once MakeShop uses the new URLs (docs/operations.md). The first is the one
commands and docs print (``webhook_secret``).
"""

import re
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from django.conf import settings

MIN_WEBHOOK_SECRET_LENGTH = 32
# The secret is a URL path segment: only characters that need no encoding.
WEBHOOK_SECRET_PATTERN = re.compile(r"[A-Za-z0-9_-]+", re.ASCII)
SETTING_NAMES = (
    "MAKESHOP_APP_GRAPHQL_URL",
    "MAKESHOP_APP_ID",
    "MAKESHOP_APP_API_KEY",
    "MAKESHOP_APP_WEBHOOK_SECRET",
)
_LOOPBACK_HOSTS = {"127.0.0.1", "localhost", "::1"}


@dataclass(frozen=True)
class AppConfig:
    """GoQ's registration with MakeShop; ``repr`` never shows the two secrets."""

    graphql_url: str = ""
    app_id: str = ""
    api_key: str = field(default="", repr=False)
    webhook_secret: str = field(default="", repr=False)
    # Further secrets still served during a change of webhook URLs (see the docstring).
    other_webhook_secrets: tuple[str, ...] = field(default=(), repr=False)
    # Optional: MakeShop's API secret; when set, webhooks must be signed (``authenticity``).
    api_secret: str = field(default="", repr=False)

    @property
    def problems(self) -> list[str]:
        """What is wrong with a configuration that is at least partly set; [] when fine."""
        values = dict(zip(SETTING_NAMES, self._values(), strict=True))
        if not any(values.values()):
            return []
        problems = [f"{name} is not set" for name, value in values.items() if not value]
        unusable = [
            position for position, secret in enumerate(self.webhook_secrets, start=1)
            if not (len(secret) >= MIN_WEBHOOK_SECRET_LENGTH
                    and WEBHOOK_SECRET_PATTERN.fullmatch(secret))
        ]
        if unusable:
            problems.append(
                f"MAKESHOP_APP_WEBHOOK_SECRET must be at least {MIN_WEBHOOK_SECRET_LENGTH} "
                "characters of A-Z, a-z, 0-9, '-' and '_' per secret (several: comma-"
                "separated); not so: secret number " + ", ".join(map(str, unusable))
            )
        if self.graphql_url and not _usable_url(self.graphql_url):
            problems.append(
                "MAKESHOP_APP_GRAPHQL_URL must be an https URL without credentials, query or "
                "fragment (plain http only for a loopback host such as the sandbox)"
            )
        return problems

    @property
    def enabled(self) -> bool:
        """True only when every setting is present and usable."""
        return all(self._values()) and not self.problems

    @property
    def webhook_secrets(self) -> tuple[str, ...]:
        """Every secret the webhooks answer to, the printed one first."""
        return (self.webhook_secret, *self.other_webhook_secrets) if self.webhook_secret else ()

    def _values(self):
        return (self.graphql_url, self.app_id, self.api_key, self.webhook_secret)


def _usable_url(url: str) -> bool:
    parts = urlsplit(url)
    if parts.username is not None or parts.password is not None or parts.query or parts.fragment:
        return False
    if not parts.hostname:
        return False
    return parts.scheme == "https" or (
        parts.scheme == "http" and parts.hostname in _LOOPBACK_HOSTS
    )


def split_secrets(value: str) -> list[str]:
    """A comma-separated list of secrets, spaces around them ignored, empty ones dropped."""
    return [part.strip() for part in value.split(",") if part.strip()]


def get_config() -> AppConfig:
    """The current configuration (settings may change in tests: read every time)."""
    secrets = split_secrets(getattr(settings, "MAKESHOP_APP_WEBHOOK_SECRET", "") or "")
    return AppConfig(
        graphql_url=getattr(settings, "MAKESHOP_APP_GRAPHQL_URL", "") or "",
        app_id=getattr(settings, "MAKESHOP_APP_ID", "") or "",
        api_key=getattr(settings, "MAKESHOP_APP_API_KEY", "") or "",
        webhook_secret=secrets[0] if secrets else "",
        other_webhook_secrets=tuple(secrets[1:]),
        api_secret=(getattr(settings, "MAKESHOP_APP_API_SECRET", "") or "").strip(),
    )


def is_enabled() -> bool:
    """Whether the new-API path is on; screens say so plainly when it is not."""
    return get_config().enabled
