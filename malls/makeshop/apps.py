"""MakeShop as an installed app: Django finds its models, admin, commands and
templates; ``ready()`` registers its provider, alert texts and background jobs."""

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class MakeShopConfig(AppConfig):
    name = "malls.makeshop"
    label = "makeshop"
    verbose_name = _("MakeShop")

    def ready(self):
        # Imported for their side effects: each registers itself with the generic core.
        from . import alerts, provider, tasks  # noqa: F401
        from .app import tasks as _app_tasks  # noqa: F401

        alerts.register()
