"""WSGI entry point (gunicorn goq.wsgi).

The security checks run before the first request: a server without a usable
SECRET_KEY or CREDENTIALS_KEYS refuses to start rather than serve.
"""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "goq.settings")
application = get_wsgi_application()

from goq.requests import SafeCharsetWSGIRequest  # noqa: E402

application.request_class = SafeCharsetWSGIRequest

from django.core.management import call_command  # noqa: E402

call_command("check", tags=["security"], fail_level="ERROR")
