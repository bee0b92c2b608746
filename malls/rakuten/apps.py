"""Rakuten RMS as its own Django app, beside the generic ``malls`` app."""

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class RakutenConfig(AppConfig):
    name = "malls.rakuten"
    label = "rakuten"
    verbose_name = _("Rakuten RMS")

    def ready(self):
        # Imported for their side effects: each registers itself with the generic core.
        from . import alerts, provider  # noqa: F401

        alerts.register()
