"""The mall interface: MakeShop registers itself and answers through it."""

import pytest
from django.utils import translation

from malls import providers
from malls.makeshop import Check, Outcome, Reason
from malls.makeshop.api import LEGACY_CHECKS
from malls.makeshop.models import MakeShopConnection, NotificationEvent
from malls.makeshop.notification_records import MalformedNotification, parse_notification
from malls.makeshop.provider import MAKESHOP
from malls.models import Mall

from .screens_factories import DEMO, ScriptedMakeShop, running_sandbox


def test_makeshop_is_registered_under_its_mall_code():
    provider = providers.get(Mall.MAKESHOP)

    assert provider is MAKESHOP
    assert isinstance(provider, providers.MallProvider)
    assert providers.registered()[Mall.MAKESHOP] is MAKESHOP


def test_an_unknown_mall_has_no_provider():
    with pytest.raises(LookupError, match="yahoo"):
        providers.get("yahoo")


def test_a_second_provider_for_a_code_is_refused():
    providers.register(MAKESHOP)  # the same one again: harmless

    with pytest.raises(ValueError, match="already registered"):
        providers.register(type(MAKESHOP)())


def test_the_checks_come_in_order_and_name_their_secret_fields():
    assert list(MAKESHOP.checks) == list(LEGACY_CHECKS)
    assert {check.secret_field for check in MAKESHOP.checks} == set(
        MakeShopConnection.SECRET_FIELDS
    )


def test_verify_asks_the_client_given():
    scripted = ScriptedMakeShop(password=(Outcome.REJECTED, "login_refused"))

    result = MAKESHOP.verify("password", shop_id="s1", secret="x", client=scripted)

    assert isinstance(result, providers.VerificationResult)
    assert (result.check, result.outcome, result.reason) == (
        Check.PASSWORD, Outcome.REJECTED, Reason.LOGIN_REFUSED,
    )
    assert scripted.calls == [(Check.PASSWORD, "s1")]


def test_verify_against_the_sandbox(settings):
    with running_sandbox() as sandbox:
        settings.MAKESHOP_API_BASE_URL = sandbox.url
        result = MAKESHOP.verify(Check.PASSWORD, shop_id=DEMO.shop_id, secret=DEMO.password)

    assert result.ok, result


def test_texts_come_from_the_provider():
    with translation.override("en"):
        assert MAKESHOP.reason_label("timeout") == "no answer in time"
        assert MAKESHOP.check_label("password") == "Password"
        assert "maintenance" in MAKESHOP.advice("password", "maintenance", rejected=False)


def test_notifications_are_parsed_by_the_malls_rules():
    notification = parse_notification({"shopid": "demo-shop", "ordernum": "1", "cmd": "cancel"})

    assert notification.kind == NotificationEvent.Kind.ORDER_CANCELLED
    with pytest.raises(MalformedNotification):
        parse_notification({"shopid": "-not-a-shop-id"})
