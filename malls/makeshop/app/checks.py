"""Start-up check for the new API's configuration (IDs makeshop.E101).

Registered when ``malls.makeshop.app.models`` is imported (that is, at app loading).
All settings unset is fine: the feature is off. Anything in between is a mistake
that would leave webhooks or verification half working, so it stops start-up with
DEBUG off and warns with DEBUG on, like ``malls.E002``. The message names settings,
never their values.
"""

from django.conf import settings
from django.core import checks

from .config import get_config


@checks.register(checks.Tags.security)
def check_app_configuration(app_configs=None, **kwargs):
    problems = get_config().problems
    if not problems:
        return []
    level = checks.Warning if settings.DEBUG else checks.Error
    return [
        level(
            "MakeShop's new API is partly configured: " + "; ".join(problems) + ".",
            hint=(
                "Set all four MAKESHOP_APP_* settings (see README), or none to turn the "
                "new API off. A webhook secret: `python -c \"import secrets; "
                "print(secrets.token_urlsafe(32))\"`; several, while MakeShop changes the "
                "webhook URLs: comma-separated, the new one first (docs/operations.md)."
            ),
            id="makeshop.E101",
        )
    ]
