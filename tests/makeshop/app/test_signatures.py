"""Webhook signatures (assumed HMAC-SHA256 over the raw body): with MAKESHOP_APP_API_SECRET
set a wrong, missing or stale signature is refused with nothing stored; a right one, in
any of the accepted spellings, is served. Over real HTTP, plus the checker itself."""

import base64
import hashlib
import hmac
import json
import time

import pytest
import requests

from malls.makeshop.app import authenticity
from malls.makeshop.app.models import AppWebhookReceipt, MakeShopAppInstallation
from malls.makeshop.app.sandbox import DEMO_APP_SHOPS, SANDBOX_APP_ID, webhook_url

API_SECRET = "makeshop-api-secret-for-tests-0123456789"
NOW = 1_790_000_000
BODY = b'{"app_id":"x","shop_id":"demo-shop"}'


def mac(message: bytes, secret=API_SECRET) -> bytes:
    return hmac.new(secret.encode(), message, hashlib.sha256).digest()


def headers(signature: str, stamp=NOW) -> dict:
    return {"x-makeshop-signature": signature, "x-makeshop-request-timestamp": str(stamp)}


# --- The checker -------------------------------------------------------------------------


@pytest.mark.parametrize("signature, scheme", [
    (mac(BODY).hex(), "body"),
    (mac(BODY).hex().upper(), "body"),
    ("sha256=" + mac(BODY).hex(), "body"),
    (base64.b64encode(mac(BODY)).decode(), "body"),
    (base64.urlsafe_b64encode(mac(BODY)).decode().rstrip("="), "body"),
    (mac(str(NOW).encode() + BODY).hex(), "timestamp+body"),
    (base64.b64encode(mac(f"{NOW}.".encode() + BODY)).decode(), "timestamp.body"),
])
def test_a_right_signature_is_accepted_in_any_usual_spelling(signature, scheme):
    assert authenticity.verify(api_secret=API_SECRET, headers=headers(signature), body=BODY,
                               now=NOW + 10) == scheme


def test_a_millisecond_timestamp_is_read_as_such():
    assert authenticity.verify(api_secret=API_SECRET, body=BODY, now=NOW,
                               headers=headers(mac(BODY).hex(), stamp=NOW * 1000 + 999))


@pytest.mark.parametrize("given, now, words", [
    (headers(mac(BODY, "another-secret").hex()), NOW, "does not match"),
    (headers(mac(BODY + b" ").hex()), NOW, "does not match"),
    (headers(mac(BODY).hex()), NOW + 301, "5-minute"),
    (headers(mac(BODY).hex()), NOW - 301, "5-minute"),
    (headers(mac(BODY).hex(), stamp="17e8"), NOW, "not a number"),
    (headers("zz" * 32), NOW, "neither hex nor base64"),
    (headers(base64.b64encode(b"short").decode()), NOW, "neither hex nor base64"),
    ({"x-makeshop-signature": mac(BODY).hex()}, NOW, "missing"),
    ({}, NOW, "missing"),
])
def test_a_wrong_stale_or_missing_signature_is_refused(given, now, words):
    with pytest.raises(authenticity.SignatureRefused, match=words):
        authenticity.verify(api_secret=API_SECRET, headers=given, body=BODY, now=now)


# --- Over HTTP ------------------------------------------------------------------------------


@pytest.fixture
def app(app_settings, live_server):
    app_settings.MAKESHOP_APP_API_SECRET = API_SECRET
    return {"app_url": live_server.url, "secret": app_settings.MAKESHOP_APP_WEBHOOK_SECRET}


def install(app, *, sign_with=API_SECRET, stamp=None, tamper=False):
    body = json.dumps({"app_id": SANDBOX_APP_ID, "plan_id": 2, "app_name": "GoQSystem",
                       "shop_id": "demo-shop",
                       "token": DEMO_APP_SHOPS["demo-shop"].token}).encode()
    signed = authenticity.sign(api_secret=sign_with, body=body,
                               timestamp=int(time.time()) if stamp is None else stamp)
    return requests.post(
        webhook_url(app["app_url"], app["secret"], "install"),
        data=body + (b" " if tamper else b""), timeout=30,
        headers={"Content-Type": "application/json", **signed},
    ).status_code


@pytest.mark.django_db(transaction=True)
def test_with_the_api_secret_set_a_wrong_signature_is_refused_with_nothing_stored(app):
    assert install(app, sign_with="not-makeshops-secret") == 401
    assert install(app, tamper=True) == 401
    assert install(app, stamp=int(time.time()) - 3600) == 401
    unsigned = requests.post(webhook_url(app["app_url"], app["secret"], "install"),
                             json={"app_id": SANDBOX_APP_ID}, timeout=30)
    assert unsigned.status_code == 401

    assert not MakeShopAppInstallation.objects.exists()
    assert not AppWebhookReceipt.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_with_the_api_secret_set_a_signed_install_is_served_and_its_headers_noted(app):
    assert install(app) == 200

    assert MakeShopAppInstallation.objects.get().shop_id == "demo-shop"
    receipt = AppWebhookReceipt.objects.get()
    assert receipt.signature_headers == ["x-makeshop-signature", "x-makeshop-request-timestamp"]


@pytest.mark.django_db(transaction=True)
def test_without_the_api_secret_signatures_are_not_checked_but_noted(app, app_settings):
    app_settings.MAKESHOP_APP_API_SECRET = ""

    assert install(app, sign_with="anything") == 200

    assert AppWebhookReceipt.objects.get().signature_headers == [
        "x-makeshop-signature", "x-makeshop-request-timestamp"
    ]
