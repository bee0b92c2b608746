"""App configuration: registers the system checks and the background jobs."""

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class MallsConfig(AppConfig):
    name = "malls"
    verbose_name = _("Mall settings")

    def ready(self):
        # Imported for their side effects: the checks register themselves, and the
        # tasks hand their jobs to services.queue.
        from . import checks, tasks  # noqa: F401
