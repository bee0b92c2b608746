"""Deploy checks on the project's own settings (``manage.py check --deploy``).

``goq.E003``: links in e-mails are built from ``GOQ_BASE_URL``, never from a request's
Host. Left at its development default in production, every alert would point at
``http://127.0.0.1:8000``; over plain HTTP a sign-in link would leak the session.
"""

import ipaddress
from urllib.parse import urlsplit

from django.conf import settings
from django.core import checks
from django.core.exceptions import ImproperlyConfigured
from django.http.request import validate_host


def _is_loopback(host: str) -> bool:
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return False
    return address.is_loopback or address.is_unspecified


def base_url_problem(url: str, allowed_hosts) -> str | None:
    """What is wrong with ``url`` as the public address, or None."""
    if not url:
        return "GOQ_BASE_URL is not set."
    try:
        parts = urlsplit(url)
        host = (parts.hostname or "").rstrip(".")
    except ValueError:
        return "GOQ_BASE_URL is not a URL."
    if parts.scheme != "https":
        return "GOQ_BASE_URL must be an https:// address."
    if not host:
        return "GOQ_BASE_URL has no host."
    if _is_loopback(host):
        return "GOQ_BASE_URL points at this machine (a loopback address)."
    if not validate_host(host, allowed_hosts):
        return "GOQ_BASE_URL's host is not in ALLOWED_HOSTS."
    return None


@checks.register(checks.Tags.security, deploy=True)
def check_base_url(app_configs=None, **kwargs):
    if settings.DEBUG:
        return []
    problem = base_url_problem(getattr(settings, "GOQ_BASE_URL", ""), settings.ALLOWED_HOSTS)
    if problem is None:
        return []
    return [
        checks.Error(
            problem,
            hint=(
                "Set GOQ_BASE_URL to the address merchants open the app at, e.g. "
                "https://goq.example.jp, with its host in ALLOWED_HOSTS."
            ),
            id="goq.E003",
        )
    ]


MIN_SECRET_KEY_LENGTH = 50
MIN_SECRET_KEY_UNIQUE_CHARACTERS = 5


@checks.register(checks.Tags.security)
def check_secret_key(app_configs=None, **kwargs):
    if settings.DEBUG:
        return []
    try:
        key = settings.SECRET_KEY or ""
    except ImproperlyConfigured:  # Django refuses to hand out an empty key
        key = ""
    if (
        len(key) < MIN_SECRET_KEY_LENGTH
        or len(set(key)) < MIN_SECRET_KEY_UNIQUE_CHARACTERS
        or key.startswith("django-insecure-")
    ):
        return [
            checks.Error(
                "SECRET_KEY is missing or weak.",
                hint=(
                    "Set SECRET_KEY in the environment to at least 50 random characters, "
                    "e.g. the output of `python -c \"import secrets; "
                    "print(secrets.token_urlsafe(50))\"`."
                ),
                id="goq.E001",
            )
        ]
    return []
