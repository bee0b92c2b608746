"""App configuration: registers the system checks, the mall providers and the background jobs."""

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class MallsConfig(AppConfig):
    name = "malls"
    verbose_name = _("Mall settings")

    def ready(self):
        # Imported for their side effects: the checks register themselves, the tasks
        # hand their jobs to services.queue, MakeShop registers its provider.
        from . import checks, tasks  # noqa: F401
        from .alerts import admin as _alerts_admin  # noqa: F401  (alerts: admin pages)
        from .alerts import tasks as _alerts_tasks  # noqa: F401  (hands its job to queueing)
        from .makeshop import alerts as makeshop_alerts  # alerts: MakeShop's states and texts
        from .makeshop import provider  # noqa: F401  (registers MakeShop, see malls.providers)
        from .makeshop.app import tasks as _app_tasks  # noqa: F401  (app installations' job)

        makeshop_alerts.register()
