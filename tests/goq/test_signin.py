"""Sign-in lockout: keyed on user name and address, shared through the database."""

import pytest
from django.urls import reverse

from tests.factories import make_user

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def small_limits(settings):
    settings.SIGNIN_MAX_FAILURES = 3
    settings.SIGNIN_LOCKOUT_SECONDS = 900


def sign_in(client, username, password, address="203.0.113.7", **headers):
    return client.post(
        reverse("login"), {"username": username, "password": password},
        REMOTE_ADDR=address, **headers,
    )


def test_repeated_failures_lock_that_user_at_that_address(client):
    user = make_user(username="shopkeeper", password="right-pass-2026")
    for _ in range(3):
        assert sign_in(client, "shopkeeper", "wrong").status_code == 200
    refused = sign_in(client, "shopkeeper", "right-pass-2026")
    assert refused.status_code == 200
    assert refused.context["form"].errors.as_data()["__all__"][0].code == "locked_out"
    assert "_auth_user_id" not in client.session
    assert user.pk


def test_an_attacker_elsewhere_cannot_lock_the_merchant_out(client):
    make_user(username="shopkeeper", password="right-pass-2026")
    for _ in range(10):
        sign_in(client, "shopkeeper", "wrong", address="198.51.100.66")
    response = sign_in(client, "shopkeeper", "right-pass-2026", address="203.0.113.7")
    assert response.status_code == 302
    assert client.session["_auth_user_id"]


def test_forwarded_for_is_ignored_without_a_trusted_proxy(client):
    make_user(username="shopkeeper", password="right-pass-2026")
    for n in range(3):
        # Each attempt claims a different address; without a trusted proxy it counts
        # against the real peer address all the same.
        sign_in(client, "shopkeeper", "wrong", HTTP_X_FORWARDED_FOR=f"192.0.2.{n}")
    response = sign_in(client, "shopkeeper", "right-pass-2026")
    assert response.status_code == 200  # locked


def test_success_clears_the_failures(client):
    make_user(username="shopkeeper", password="right-pass-2026")
    sign_in(client, "shopkeeper", "wrong")
    sign_in(client, "shopkeeper", "wrong")
    assert sign_in(client, "shopkeeper", "right-pass-2026").status_code == 302
    client.logout()
    sign_in(client, "shopkeeper", "wrong")
    sign_in(client, "shopkeeper", "wrong")
    assert sign_in(client, "shopkeeper", "right-pass-2026").status_code == 302
