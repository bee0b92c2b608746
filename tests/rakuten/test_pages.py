"""The settings page renders the state, the expiry, the guides and the form; never a key."""

from datetime import UTC, date, datetime

import pytest
from django.template.loader import render_to_string
from django.test import RequestFactory
from django.utils import translation

from malls.rakuten.connections import Status
from malls.rakuten.forms import RakutenSettingsForm
from malls.rakuten.models import RakutenConnection
from malls.rakuten.pages import settings_context
from tests.factories import make_shop

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 12, 5, 3, 0, tzinfo=UTC)
SECRET = "SP424242_PageCanarySecret"
KEY = "SL424242_PageCanaryLicense"


def render(connection, shop, **options):
    request = RequestFactory().get("/")
    form = RakutenSettingsForm(connection=connection)
    context = settings_context(shop, form, connection, now=NOW, **options)
    with translation.override("en"):
        return render_to_string("rakuten/settings.html", context, request=request)


def test_an_expiring_key_shows_the_days_left_and_the_renewal_guide(settings):
    settings.RAKUTEN_SERVICE_SECRET = ""
    shop = make_shop(mall_code="rakuten")
    connection = RakutenConnection.objects.create(
        shop=shop, shop_url="demo-expiring", service_secret=SECRET, license_key=KEY,
        status=Status.VERIFIED, verified_at=NOW, expires_on=date(2026, 12, 8),
    )
    html = render(connection, shop)
    assert "Expires in 3 days" in html and "2026-12-08" in html
    assert "新しいライセンスキーを発行" in html
    assert 'name="service_secret"' in html and 'name="license_key"' in html
    assert SECRET not in html and KEY not in html
    assert "icense" in html  # "Saved (ends in ense)": the last 4 only


def test_an_expired_key_is_its_own_state():
    shop = make_shop(mall_code="rakuten")
    connection = RakutenConnection.objects.create(
        shop=shop, shop_url="demo-expired", license_key=KEY, service_secret=SECRET,
        status=Status.VERIFIED, verified_at=NOW, expires_on=date(2026, 12, 1),
    )
    assert "licenseKey expired" in render(connection, shop)


def test_goqs_product_asks_only_for_the_license_key_and_explains_the_approval(settings):
    settings.RAKUTEN_SERVICE_SECRET = "SP000000_sandboxgoqproduct"
    shop = make_shop(mall_code="rakuten")
    html = render(None, shop)
    assert 'name="service_secret"' not in html
    assert "Approve GoQ's product in RMS" in html
    assert "システム開発企業からのAPIアクセス許可設定" in html
