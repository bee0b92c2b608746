"""The deploy check on GOQ_BASE_URL (goq.E003): with DEBUG off, e-mail links must point
at the public https address the app is served at (N17)."""

import base64
import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.checks.registry import registry

from goq.checks import base_url_problem, check_base_url

ROOT = Path(__file__).resolve().parents[2]
HOSTS = ["goq.example.jp", ".shops.example.jp"]


@pytest.mark.parametrize(
    "url",
    ["", "http://goq.example.jp", "ftp://goq.example.jp", "https://", "https://127.0.0.1:8000",
     "https://localhost", "https://app.localhost", "https://[::1]/", "https://0.0.0.0",
     "https://evil.example", "https://goq.example.jp.evil.example", "https://[bad"],
)
def test_unusable_base_urls_are_named(url):
    assert base_url_problem(url, HOSTS)


@pytest.mark.parametrize(
    "url", ["https://goq.example.jp", "https://goq.example.jp/", "https://GOQ.example.jp:443/app",
            "https://a.shops.example.jp"],
)
def test_the_public_https_address_passes(url):
    assert base_url_problem(url, HOSTS) is None


def test_it_is_a_deploy_check_that_errs_only_with_debug_off(settings):
    assert check_base_url in registry.get_checks(include_deployment_checks=True)
    assert check_base_url not in registry.get_checks(include_deployment_checks=False)
    settings.GOQ_BASE_URL = "http://127.0.0.1:8000"
    settings.DEBUG = True
    assert check_base_url() == []
    settings.DEBUG = False
    (error,) = check_base_url()
    assert error.id == "goq.E003" and error.is_serious()


def production_env(**extra) -> dict:
    env = {
        key: value for key, value in os.environ.items()
        if key not in {
            "DJANGO_SETTINGS_MODULE", "DEBUG", "GOQ_TEST_DATABASE_NAME", "GOQ_IGNORE_DOTENV",
            "DJANGO_ALLOW_ASYNC_UNSAFE", "GOQ_BASE_URL",
        }
    }
    env.update(
        DJANGO_SETTINGS_MODULE="goq.settings",
        GOQ_IGNORE_DOTENV="1",
        DEBUG="false",
        SECRET_KEY=secrets.token_urlsafe(50),
        CREDENTIALS_KEYS="prod:" + base64.b64encode(secrets.token_bytes(32)).decode(),
        ALLOWED_HOSTS="goq.example.jp",
        DATABASE_URL="sqlite:////tmp/goq-deploy-check.sqlite3",
        **extra,
    )
    return env


@pytest.mark.parametrize(
    "base_url", [None, "http://goq.example.jp", "https://127.0.0.1", "https://other.example"]
)
def test_check_deploy_fails_without_a_usable_base_url(base_url):
    extra = {} if base_url is None else {"GOQ_BASE_URL": base_url}
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT, env=production_env(**extra), capture_output=True, text=True,
    )
    assert result.returncode != 0
    assert "goq.E003" in result.stderr
