"""The merchant's form: exactly shop_url, service_secret and license_key, write-only keys."""

import pytest

from malls.rakuten import services
from malls.rakuten.forms import RakutenSettingsForm
from malls.rakuten.models import RakutenConnection
from tests.factories import make_shop

from .conftest import keys_of

SECRET = "SP900001_sandboxsecret001"
KEY = "SL900001_sandboxlicense001"


def test_the_fields_are_named_as_the_issue_says(settings):
    settings.RAKUTEN_SERVICE_SECRET = ""
    assert list(RakutenSettingsForm().fields) == [
        "shop_url", "service_secret", "license_key", "version"
    ]


def test_with_goqs_product_only_the_license_key_and_shop_url_are_asked(settings):
    settings.RAKUTEN_SERVICE_SECRET = "SP000000_sandboxgoqproduct"
    assert "service_secret" not in RakutenSettingsForm().fields


def test_keys_are_trimmed_and_the_shop_url_is_its_code(settings):
    settings.RAKUTEN_SERVICE_SECRET = ""
    form = RakutenSettingsForm(data={
        "shop_url": "https://www.rakuten.co.jp/Demo-Rakuten/",
        "service_secret": f"  {SECRET} ", "license_key": f"{KEY}\n",
    })
    assert form.is_valid(), form.errors
    assert form.cleaned_data["shop_url"] == "demo-rakuten"
    assert (form.cleaned_data["service_secret"], form.cleaned_data["license_key"]) == (SECRET, KEY)


@pytest.mark.parametrize(
    ("field", "value", "code"),
    [("license_key", "SL9 01", "key_whitespace"), ("license_key", "x" * 51, "key_too_long"),
     ("service_secret", "ＳＰ１", "key_not_ascii"), ("shop_url", "a b", "invalid_shop_url"),
     ("license_key", "", "required")],
)
def test_what_cannot_work_is_refused_on_its_field(settings, field, value, code):
    settings.RAKUTEN_SERVICE_SECRET = ""
    data = {"shop_url": "demo-rakuten", "service_secret": SECRET, "license_key": KEY} | {
        field: value
    }
    form = RakutenSettingsForm(data=data)
    assert not form.is_valid()
    assert form.has_error(field, code)


@pytest.mark.django_db
def test_saved_keys_are_never_rendered_and_empty_fields_keep_them(settings):
    settings.RAKUTEN_SERVICE_SECRET = ""
    connection = RakutenConnection.objects.create(
        shop=make_shop(mall_code="rakuten"), shop_url="demo-rakuten",
        service_secret=SECRET, license_key=KEY,
    )
    form = RakutenSettingsForm(
        data={"shop_url": "demo-rakuten", "service_secret": "", "license_key": ""},
        connection=connection,
    )
    assert form.is_valid(), form.errors
    html = str(form)
    assert SECRET not in html and KEY not in html
    states = form.secret_states()
    assert states["license_key"].is_set and states["license_key"].last4 == "e001"


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("shop_url", "typed_url", "field", "code"),
    [
        ("demo-neighbour", "demo-rakuten", "shop_url", "other_shop"),
        ("demo-no-orders", "demo-no-orders", None, "orders_not_enabled"),
    ],
)
def test_a_refusal_is_shown_on_the_field_it_is_about(settings, rms, shop_url, typed_url, field,
                                                      code):
    settings.RAKUTEN_SERVICE_SECRET = ""
    shop = make_shop(mall_code="rakuten")
    form = RakutenSettingsForm(data={"shop_url": typed_url, **keys_of(shop_url)})
    assert form.is_valid()
    typed = {name: form.cleaned_data[name] for name in ("shop_url", *keys_of(shop_url))}
    result = services.save_settings(shop=shop, client=rms, **typed)
    form.show_refusal(result)
    assert form.has_error(field or "__all__", code)
