from django.apps import AppConfig


class DummyMallConfig(AppConfig):
    name = "tests.dummymall"
    label = "dummymall"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from malls import providers

        from .provider import DUMMY

        providers.register(DUMMY)
