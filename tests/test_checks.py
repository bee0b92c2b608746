"""The start-up checks on SECRET_KEY (goq.E001) and CREDENTIALS_KEYS (malls.E002).

``manage.py check --deploy`` and the WSGI start-up run them too
(tests/goq/test_security_headers.py); here each rule is tried on its own.
"""

import base64
import secrets

import pytest
from django.core import checks
from django.core.checks.registry import registry

from goq.checks import check_secret_key
from malls.checks import check_credentials_keys

GOOD_SECRET_KEY = secrets.token_urlsafe(50)
GOOD_KEYS = "k1:" + base64.b64encode(bytes(32)).decode()


def ids(messages):
    return [(message.id, type(message)) for message in messages]


def test_both_checks_are_registered_as_security_checks():
    security = registry.get_checks(include_deployment_checks=True)
    assert check_secret_key in security and check_credentials_keys in security
    assert checks.Tags.security in check_secret_key.tags
    assert checks.Tags.security in check_credentials_keys.tags


@pytest.mark.parametrize(
    "key",
    [
        "",
        "short",
        "a" * 60,  # long, but one character
        "django-insecure-" + secrets.token_urlsafe(50),  # startproject's placeholder
    ],
    ids=["empty", "short", "too few distinct characters", "django-insecure"],
)
def test_a_missing_or_weak_secret_key_stops_production(settings, key):
    settings.DEBUG = False
    settings.SECRET_KEY = key

    assert ids(check_secret_key()) == [("goq.E001", checks.Error)]


def test_a_strong_secret_key_passes(settings):
    settings.DEBUG = False
    settings.SECRET_KEY = GOOD_SECRET_KEY

    assert check_secret_key() == []


def test_development_may_use_any_secret_key(settings):
    settings.DEBUG = True
    settings.SECRET_KEY = "short"

    assert check_secret_key() == []


@pytest.mark.parametrize(
    "keys",
    [
        "",
        "no-colon",
        "k1:not base64!",
        "k1:" + base64.b64encode(bytes(16)).decode(),  # AES-128, not AES-256
        f"{GOOD_KEYS},{GOOD_KEYS}",  # the same key id twice
    ],
    ids=["empty", "no kid", "not base64", "16 bytes", "kid twice"],
)
def test_unusable_credentials_keys_stop_production(settings, keys):
    settings.DEBUG = False
    settings.CREDENTIALS_KEYS = keys

    messages = check_credentials_keys()

    assert ids(messages) == [("malls.E002", checks.Error)]
    # The message says what is wrong, never the key material.
    assert base64.b64encode(bytes(32)).decode() not in messages[0].msg


def test_in_development_unusable_credentials_keys_only_warn(settings):
    settings.DEBUG = True
    settings.CREDENTIALS_KEYS = ""

    assert ids(check_credentials_keys()) == [("malls.E002", checks.Warning)]


def test_usable_credentials_keys_pass(settings):
    settings.DEBUG = False
    settings.CREDENTIALS_KEYS = f"{GOOD_KEYS},k2:{base64.b64encode(bytes(range(32))).decode()}"

    assert check_credentials_keys() == []
