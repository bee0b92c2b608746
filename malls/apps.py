"""App configuration: registers the system checks and the mall providers."""

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class MallsConfig(AppConfig):
    name = "malls"
    verbose_name = _("Mall settings")

    def ready(self):
        from . import checks  # noqa: F401  (registers the checks)
        from .makeshop import provider  # noqa: F401  (registers MakeShop, see malls.providers)
