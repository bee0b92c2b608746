"""The project package as an app: it wires the sign-in limits (``goq.signin``) and
registers the project's deploy checks (``goq.checks``)."""

from axes.apps import AppConfig as AxesAppConfig
from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class GoqConfig(AppConfig):
    # This module holds other AppConfig classes (axes' below): say which one is "goq".
    default = True
    name = "goq"
    verbose_name = "GoQ"

    def ready(self):
        from . import checks, signin  # noqa: F401  (registers checks, connects receivers)


class SigninLimitsConfig(AxesAppConfig):
    """django-axes under a name staff understand in the admin."""

    verbose_name = _("Sign-in limits")
