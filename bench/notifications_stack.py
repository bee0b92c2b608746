"""Settings for the notification benchmark's server: the project's own, plus a bare view.

Only the URLconf differs, so the bare view runs behind the same gunicorn, middleware
and database settings as the real endpoint.
"""

from goq.settings import *  # noqa: F403

ROOT_URLCONF = "bench.notifications_urls"
