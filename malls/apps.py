"""App configuration: registers the system checks and the generic background jobs."""

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class MallsConfig(AppConfig):
    name = "malls"
    verbose_name = _("Mall settings")

    def ready(self):
        # Imported for their side effects: the checks register themselves, the tasks
        # hand their jobs to services.queue. Each mall's app registers its provider in
        # its own ready().
        from . import checks  # noqa: F401
        from .alerts import admin as _alerts_admin  # noqa: F401  (alerts: admin pages)
        from .alerts import tasks as _alerts_tasks  # noqa: F401  (hands its job to queueing)
