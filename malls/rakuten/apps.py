"""Rakuten RMS as its own Django app, beside the generic ``malls`` app."""

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class RakutenConfig(AppConfig):
    name = "malls.rakuten"
    label = "rakuten"
    verbose_name = _("Rakuten RMS")

    def ready(self):
        from . import alerts

        alerts.register()
