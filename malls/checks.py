"""The app's system check that stops start-up when the credentials keys are unusable
(``malls.E002``; the project's own checks, such as ``SECRET_KEY``, are in ``goq.checks``).

They run with ``manage.py check``, ``migrate`` and ``runserver``; ``goq.wsgi`` runs them
too, so a production server refuses to start instead of running without keys.
"""

from django.conf import settings
from django.core import checks

from . import crypto


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
                id="malls.E002",
            )
        ]
    return []
