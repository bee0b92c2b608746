"""Test overlay: the real settings plus throw-away keys made for this run.

Keys are generated, never written down, and exported to the environment so that
helper processes started by a test (sandbox, workers) decrypt the same data.
"""

import base64
import os
import secrets

os.environ.setdefault("SECRET_KEY", secrets.token_urlsafe(50))
os.environ.setdefault(
    "CREDENTIALS_KEYS", "test1:" + base64.b64encode(secrets.token_bytes(32)).decode()
)

from goq.settings import *  # noqa: E402,F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
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
