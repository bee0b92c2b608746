"""Security headers on every page, and Django's deployment checks on production settings."""

import base64
import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
from django.test import override_settings
from django.urls import reverse

from tests.factories import make_connection, make_shop, make_store, make_user

ROOT = Path(__file__).resolve().parents[2]

PRODUCTION_COOKIES = {
    "SESSION_COOKIE_SECURE": True,
    "CSRF_COOKIE_SECURE": True,
    "SESSION_COOKIE_NAME": "__Host-sessionid",
    "CSRF_COOKIE_NAME": "__Host-csrftoken",
}


@pytest.fixture
def pages(db):
    user = make_user(is_staff=True, is_superuser=True)
    shop = make_shop(store=make_store(members=[user]))
    connection = make_connection(shop=shop)
    # Every page with the status it answers signed out, then signed in (as staff and member).
    return user, {
        reverse("login"): (200, 200),
        reverse("malls:settings"): (302, 200),
        reverse("malls:mall_list"): (302, 200),
        reverse("malls:makeshop_add"): (302, 200),
        reverse("malls:makeshop_settings", args=[shop.pk]): (302, 200),
        reverse("malls:makeshop_guide", args=[shop.pk]): (302, 200),
        "/admin/": (302, 200),
        "/admin/malls/makeshopconnection/": (302, 200),
        f"/admin/malls/makeshopconnection/{connection.pk}/change/": (302, 200),
        "/no-such-page/": (404, 404),
        "/healthz": (200, 200),
        f"/makeshop/notify/{connection.notification_token}/": (200, 200),
    }


def assert_hardened(response):
    csp = response["Content-Security-Policy"]
    for directive in ("default-src 'self'", "object-src 'none'", "frame-ancestors 'none'",
                      "base-uri 'none'"):
        assert directive in csp, (response.request["PATH_INFO"], csp)
    assert "unsafe-inline" not in csp
    assert response["Strict-Transport-Security"].startswith("max-age=31536000")
    assert "includeSubDomains" in response["Strict-Transport-Security"]
    assert response["Referrer-Policy"] == "same-origin"
    assert response["Cross-Origin-Opener-Policy"] == "same-origin"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Request-ID"]


@override_settings(**PRODUCTION_COOKIES)
def test_every_page_carries_the_security_headers(client, pages):
    user, statuses = pages
    for url, (signed_out, _) in statuses.items():
        response = client.get(url, secure=True)
        assert response.status_code == signed_out, url
        assert_hardened(response)
    client.force_login(user)
    for url, (_, signed_in) in statuses.items():
        response = client.get(url, secure=True)
        assert response.status_code == signed_in, url
        assert_hardened(response)


@override_settings(**PRODUCTION_COOKIES)
def test_cookies_are_host_only_secure_and_http_only(client, db):
    make_user(username="merchant", password="pass-2026-x")
    page = client.get(reverse("login"), secure=True)
    csrf = page.cookies["__Host-csrftoken"]
    assert csrf["secure"] and csrf["path"] == "/" and not csrf["domain"]
    response = client.post(
        reverse("login"), {"username": "merchant", "password": "pass-2026-x"}, secure=True
    )
    session = response.cookies["__Host-sessionid"]
    assert session["secure"] and session["httponly"] and session["path"] == "/"


def test_inline_scripts_and_styles_carry_the_nonce(admin_client):
    response = admin_client.get("/admin/malls/makeshopconnection/")
    nonce = response["Content-Security-Policy"].split("'nonce-")[1].split("'")[0]
    html = response.content.decode()
    for tag in ("<script", "<style"):
        for chunk in html.split(tag)[1:]:
            opening = chunk.split(">", 1)[0]
            assert "src=" in opening or f'nonce="{nonce}"' in opening, opening


def test_health_check_answers_without_sign_in(client, db):
    response = client.get("/healthz")
    assert response.status_code == 200 and response.json() == {"status": "ok"}


def test_deploy_checks_pass_with_production_settings():
    env = {
        key: value for key, value in os.environ.items()
        if key not in {
            "DJANGO_SETTINGS_MODULE", "DEBUG", "GOQ_TEST_DATABASE_NAME", "GOQ_IGNORE_DOTENV",
            "DJANGO_ALLOW_ASYNC_UNSAFE",  # set by the browser tests for Playwright
        }
    }
    env.update(
        DJANGO_SETTINGS_MODULE="goq.settings",
        DEBUG="false",
        SECRET_KEY=secrets.token_urlsafe(50),
        CREDENTIALS_KEYS="prod:" + base64.b64encode(secrets.token_bytes(32)).decode(),
        ALLOWED_HOSTS="goq.example.jp",
        GOQ_BASE_URL="https://goq.example.jp",
        DATABASE_URL="sqlite:////tmp/goq-deploy-check.sqlite3",
    )
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT, env=env, capture_output=True, text=True,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_start_up_refuses_production_without_keys():
    env = {
        key: value for key, value in os.environ.items()
        if key not in {"DJANGO_SETTINGS_MODULE", "SECRET_KEY", "CREDENTIALS_KEYS"}
    }
    env.update(DJANGO_SETTINGS_MODULE="goq.settings", DEBUG="false", SECRET_KEY="short")
    result = subprocess.run(
        [sys.executable, "-c", "import goq.wsgi"], cwd=ROOT, env=env, capture_output=True,
        text=True,
    )
    assert result.returncode != 0
    assert "goq.E001" in result.stderr and "malls.E002" in result.stderr
