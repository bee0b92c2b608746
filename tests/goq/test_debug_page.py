"""With DEBUG on (``make run``), Django's technical 500 page shows POST values, local
variables and settings; passwords and auth codes must not be among them."""

import pytest
from django.urls import reverse

from malls.makeshop import services as makeshop_services
from malls.makeshop.models import MakeShopConnection
from tests.factories import make_shop
from tests.screens_factories import make_member

pytestmark = pytest.mark.django_db

SECRETS = {
    "password": "Canary-Pass-5f3a9c",
    "order_auth_code": "CanaryOrderCode7d21e84b",
    "product_auth_code": "CanaryProductCode4c0ff1ee",
}


@pytest.fixture
def member_client(client):
    user, (store,) = make_member()
    client.force_login(user)
    client.raise_request_exception = False
    return client, make_shop(store=store, name="デモ店")


def crash(**kwargs):
    raise RuntimeError("the database went away")


@pytest.mark.parametrize("accept", ["text/html", "text/plain"])
def test_a_crash_during_a_makeshop_save_shows_no_secret(member_client, settings, monkeypatch,
                                                        accept):
    client, shop = member_client
    settings.DEBUG = True
    monkeypatch.setattr(makeshop_services, "apply_makeshop_settings", crash)
    url = reverse("malls:makeshop_settings", args=[shop.pk])

    # A new shop: no version yet.
    response = client.post(url, {"shop_id": "demo-shop", **SECRETS}, HTTP_ACCEPT=accept)

    assert response.status_code == 500
    page = response.content.decode()
    assert "the database went away" in page  # the technical page, not the plain one
    assert "cleaned_data" in page or "POST" in page
    for name in MakeShopConnection.SECRET_FIELDS:
        assert SECRETS[name] not in page, name
    assert "demo-shop" in page  # what is no secret stays readable


def test_the_filter_hides_secrets_by_name_and_by_shape_in_any_frame(settings):
    from goq.errors import SecretsHiddenReporterFilter

    settings.DEBUG = True
    report = SecretsHiddenReporterFilter()

    def frame_of(**local_values):
        import sys

        def inner(**values):
            return sys._getframe()

        return inner(**local_values)

    frame = frame_of(
        data={"shop_id": "demo-shop", "password": SECRETS["password"]},
        url="https://x/api?token=" + SECRETS["order_auth_code"],
        auth_code=SECRETS["product_auth_code"],
    )
    shown = repr(dict(report.get_traceback_frame_variables(None, frame)))
    assert not any(secret in shown for secret in SECRETS.values())
    assert "demo-shop" in shown
