"""System checks that stop start-up when secrets are missing or weak.

They run with ``manage.py check``, ``migrate`` and ``runserver``; ``goq.wsgi`` runs them
too, so a production server refuses to start instead of running without keys.
"""

from django.conf import settings
from django.core import checks
from django.core.exceptions import ImproperlyConfigured

from . import crypto

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


@checks.register(checks.Tags.security)
def check_credentials_keys(app_configs=None, **kwargs):
    try:
        crypto.parse_keys(settings.CREDENTIALS_KEYS)
    except crypto.KeyConfigurationError as exc:
        level = checks.Warning if settings.DEBUG else checks.Error
        return [
            level(
                f"CREDENTIALS_KEYS is not usable: {exc}",
                hint=(
                    "Set CREDENTIALS_KEYS to 'kid:base64key[,kid:base64key...]' (32-byte keys); "
                    "`python manage.py generate_credentials_key` prints one."
                ),
                id="goq.E002",
            )
        ]
    return []
