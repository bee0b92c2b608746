"""Test overlay: the real settings plus throw-away keys made for this run.

Keys are generated, never written down, and exported to the environment so that
helper processes started by a test (sandbox, workers) decrypt the same data.
"""

import base64
import os
import secrets

# A developer's .env (written by `make run`) must not change what the tests see.
os.environ["GOQ_IGNORE_DOTENV"] = "1"
os.environ.setdefault("SECRET_KEY", secrets.token_urlsafe(50))
os.environ.setdefault(
    "CREDENTIALS_KEYS", "test1:" + base64.b64encode(secrets.token_bytes(32)).decode()
)

from goq.settings import *  # noqa: E402,F403

# Never MakeShop itself: a test that forgets the sandbox meets a closed local port.
MAKESHOP_API_BASE_URL = os.environ.get("MAKESHOP_API_BASE_URL", "http://127.0.0.1:9")
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
# Tests speak plain HTTP to the test client and to a local live server; the
# production values of these are checked by tests/goq/test_security_headers.py.
SECURE_SSL_REDIRECT = False
SESSION_COOKIE_SECURE = CSRF_COOKIE_SECURE = LANGUAGE_COOKIE_SECURE = False
SESSION_COOKIE_NAME = "sessionid"
CSRF_COOKIE_NAME = "csrftoken"
STORAGES["staticfiles"]["BACKEND"] = "django.contrib.staticfiles.storage.StaticFilesStorage"  # noqa: F405

# A file, not memory, so that processes started by a test share the test database;
# named per run so that two runs on one machine never share one.
if DATABASES["default"]["ENGINE"].endswith("sqlite3"):  # noqa: F405
    DATABASES["default"]["TEST"] = {  # noqa: F405
        "NAME": str(BASE_DIR / f".test-db-{os.getpid()}.sqlite3")  # noqa: F405
    }
else:
    DATABASES["default"]["TEST"] = {"NAME": f"test_goq_{os.getpid()}"}  # noqa: F405
# Set by tests that start helper processes: connect straight to the test database.
if os.environ.get("GOQ_TEST_DATABASE_NAME"):
    DATABASES["default"]["NAME"] = os.environ["GOQ_TEST_DATABASE_NAME"]  # noqa: F405

# Jobs run at once, in the enqueuing process. "database" is the real backend, for the
# tests that start `manage.py db_worker --backend database` against the test database.
TASKS = {
    "default": {"BACKEND": "django.tasks.backends.immediate.ImmediateBackend"},
    "database": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": ["default"]},
}

# A mall that exists only in the tests (tests/dummymall): generic code must serve it.
INSTALLED_APPS = [*INSTALLED_APPS, "tests.dummymall"]  # noqa: F405
