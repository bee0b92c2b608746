"""What the merchant screens say about a shop: statuses, the API in use, the list's rows."""

import secrets

import pytest
from django.utils import timezone
from django.utils.translation import override

from malls import presenters as generic_presenters
from malls.makeshop import presenters
from malls.makeshop.app import sandbox
from malls.makeshop.app.models import MakeShopAppInstallation
from malls.makeshop.models import MakeShopConnection
from tests.factories import make_connection, make_shop, make_store

Status = MakeShopConnection.Status
State = MakeShopAppInstallation.State


@pytest.fixture
def app_on(settings):
    settings.MAKESHOP_APP_GRAPHQL_URL = "http://127.0.0.1:9/v1/graphql"
    settings.MAKESHOP_APP_ID = sandbox.SANDBOX_APP_ID
    settings.MAKESHOP_APP_API_KEY = sandbox.SANDBOX_API_KEY
    settings.MAKESHOP_APP_WEBHOOK_SECRET = secrets.token_urlsafe(32)


@pytest.mark.parametrize(
    ("status", "tone", "at_field"),
    [
        (Status.VERIFIED, "ok", "verified_at"),
        (Status.REJECTED, "error", "failing_since"),
        (Status.UNVERIFIED, "warning", "last_checked_at"),
        (Status.PENDING, "neutral", None),
        (Status.UNSET, "neutral", None),
    ],
)
def test_each_legacy_status_has_its_tone_and_moment(status, tone, at_field):
    now = timezone.now()
    connection = MakeShopConnection(
        status=status, verified_at=now, failing_since=now, last_checked_at=now,
        failed_check="order_auth_code", failure_reason="token_rejected",
    )

    with override("en"):
        shown = presenters.connection_status(connection)

    assert shown.tone == tone
    assert shown.at == (now if at_field else None)
    assert shown.label


def test_no_connection_is_not_configured():
    with override("en"):
        shown = presenters.connection_status(None)

    assert (shown.label, shown.tone) == ("Not configured", "neutral")


def test_the_app_is_in_use_only_once_verified():
    verified = presenters._app_status(State.VERIFIED)
    installed = presenters._app_status(State.INSTALLED)

    assert presenters.api_in_use(verified, True) == presenters.API_APP
    assert presenters.api_in_use(installed, True) == presenters.API_LEGACY
    assert presenters.api_in_use(installed, False) == ""
    assert presenters.api_in_use(None, True) == presenters.API_LEGACY


@pytest.mark.django_db
def test_with_the_new_api_off_the_app_is_not_available():
    connection = make_connection()
    MakeShopAppInstallation.objects.create(shop_id=connection.makeshop_shop_id,
                                           state=State.VERIFIED, connection=connection)

    assert presenters.app_status(connection).state == presenters.APP_OFF


@pytest.mark.django_db
def test_an_unsaved_connection_has_no_app_and_no_codes(app_on):
    connection = MakeShopConnection(shop=make_shop())

    assert presenters.app_status(connection).state == presenters.APP_NOT_INSTALLED
    assert not presenters.has_legacy_codes(connection)


@pytest.mark.django_db
def test_a_row_flags_a_secret_under_a_key_no_longer_configured(settings):
    from malls import crypto

    store = make_store()
    make_connection(shop=make_shop(store=store), status=Status.VERIFIED)
    settings.CREDENTIALS_KEYS = crypto.generate_key_spec("newkey")

    with override("en"):
        (row,) = generic_presenters.shop_rows(store)

    assert row.status.label == "Must be entered again" and row.status.tone == "error"
    assert row.api_label == str(presenters.API_LABELS[presenters.API_LEGACY])


@pytest.mark.django_db
def test_rows_of_other_malls_have_no_status_and_no_api():
    store = make_store()
    make_shop(store=store, mall_code="yahoo")  # a mall with no provider

    (row,) = generic_presenters.shop_rows(store)

    assert row.status is None and row.settings_url == "" and row.api_label == ""
