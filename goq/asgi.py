"""ASGI entry point; runs the same start-up security checks as ``goq.wsgi``."""

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "goq.settings")
application = get_asgi_application()

from goq.requests import SafeCharsetASGIRequest  # noqa: E402

application.request_class = SafeCharsetASGIRequest

from django.core.management import call_command  # noqa: E402

call_command("check", tags=["security"], fail_level="ERROR")
