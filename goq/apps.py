"""The project package as an app: it wires the sign-in limits (``goq.signin``)."""

from axes.apps import AppConfig as AxesAppConfig
from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class GoqConfig(AppConfig):
    name = "goq"
    verbose_name = "GoQ"

    def ready(self):
        from . import signin  # noqa: F401  (connects the sign-in log receivers)


class SigninLimitsConfig(AxesAppConfig):
    """django-axes under a name staff understand in the admin."""

    verbose_name = _("Sign-in limits")
