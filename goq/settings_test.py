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
