"""MakeShop's notification format: one shop-ID rule with the model, placeholders, commands."""

import pytest
from django.core.exceptions import ValidationError

from malls.makeshop.models import NotificationEvent, validate_makeshop_shop_id
from malls.makeshop.notification_records import MalformedNotification
from malls.makeshop.notifications import PLACEHOLDER_SUFFIX, kind_for_command, parse_notification

Kind = NotificationEvent.Kind


@pytest.mark.parametrize(
    "shop_id", ["demo-shop", "A1", "a_b-c", "a", "-lead", "_lead", "dot.ted", "é-shop", "x" * 65]
)
def test_a_notification_accepts_exactly_the_shop_ids_the_model_does(shop_id):
    try:
        validate_makeshop_shop_id(shop_id)
        valid = True
    except ValidationError:
        valid = False

    if valid:
        assert parse_notification({"shopid": shop_id}).shop_id == shop_id
    else:
        with pytest.raises(MalformedNotification):
            parse_notification({"shopid": shop_id})


def test_placeholders_left_unsubstituted_count_as_missing():
    shop, order, command = PLACEHOLDER_SUFFIX.strip("/").split("/")

    notification = parse_notification({"shopid": shop, "ordernum": order, "cmd": command})

    assert (notification.shop_id, notification.order_number, notification.kind) == (
        "", "", Kind.OTHER,
    )


def test_the_earliest_source_wins():
    notification = parse_notification({"cmd": "cancel"}, {"cmd": "order", "ordernum": "7"})

    assert (notification.kind, notification.order_number) == (Kind.ORDER_CANCELLED, "7")


def test_commands_are_matched_loosely():
    assert kind_for_command("入金完了時") == Kind.PAYMENT_COMPLETED
    assert kind_for_command("order_cancel") == Kind.ORDER_CANCELLED
    assert kind_for_command("") == Kind.OTHER
