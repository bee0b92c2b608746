"""Issuing new update-notification URLs keeps every earlier URL working for its full grace
period, however often the button is pressed (security L4): a new URL is refused while the
one before it is still in its grace period, and every screen says so."""

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.contrib.messages import get_messages
from django.urls import reverse

from malls.makeshop import services as makeshop_services
from malls.makeshop.models import MakeShopConnection
from malls.models import ChangeRecord
from tests.admin_factories import make_staff
from tests.factories import make_connection, make_shop, make_store, make_user

pytestmark = pytest.mark.django_db
START = datetime(2026, 11, 30, 9, 0, 30, tzinfo=UTC)
GRACE = makeshop_services.NOTIFICATION_TOKEN_GRACE


def works(client, token) -> bool:
    path = reverse("makeshop_notify:receive", kwargs={"token": token})
    status = client.get(path, {"cmd": "order", "shopid": "url-shop"}).status_code
    assert status in (200, 404), status
    return status == 200


def test_three_rotations_in_a_row_never_cut_an_earlier_url_short(client):
    connection = make_connection(makeshop_shop_id="url-shop")
    first = connection.notification_token

    with time_machine.travel(START, tick=False) as clock:
        second = rotate(connection)
        for _ in range(2):  # the second and the third press, straight after
            with pytest.raises(makeshop_services.NotificationUrlInGrace) as refused:
                makeshop_services.rotate_notification_token(connection=connection)
            assert refused.value.until == START + GRACE
        assert MakeShopConnection.objects.get(pk=connection.pk).notification_token == second

        clock.move_to(START + GRACE - timedelta(seconds=1))
        assert works(client, first) and works(client, second)

        clock.move_to(START + GRACE + timedelta(seconds=1))
        assert not works(client, first)
        third = rotate(connection)
        assert third not in (first, second)

        clock.move_to(START + 2 * GRACE)  # the second URL gets its own full day
        assert works(client, second) and works(client, third) and not works(client, first)

    assert ChangeRecord.objects.filter(action="notification_url.rotated").count() == 2


def test_the_merchant_is_told_why_no_new_url_was_issued(client):
    merchant = make_user()
    connection = make_connection(shop=make_shop(store=make_store(members=[merchant])))
    url = reverse("malls:makeshop_new_notification_url", args=[connection.shop.pk])
    client.force_login(merchant)

    client.post(url)
    current = MakeShopConnection.objects.get(pk=connection.pk).notification_token
    response = client.post(url, follow=True)

    said = [str(message) for message in get_messages(response.wsgi_request)]
    assert any("新しいURLは発行していません" in text for text in said), said
    assert MakeShopConnection.objects.get(pk=connection.pk).notification_token == current
    assert current in response.text  # the page still shows the URL that is current


def test_staff_are_told_which_shops_got_no_new_url(client):
    client.force_login(make_staff())
    fresh, recent = make_connection(), make_connection()
    makeshop_services.rotate_notification_token(connection=recent)
    recent_token = MakeShopConnection.objects.get(pk=recent.pk).notification_token

    response = client.post(
        reverse("admin:malls_makeshopconnection_changelist"),
        {"action": "new_notification_url", "_selected_action": [fresh.pk, recent.pk]},
        follow=True,
    )

    said = [str(message) for message in get_messages(response.wsgi_request)]
    assert any("1件のショップには新しいURLを発行していません" in text for text in said), said
    assert MakeShopConnection.objects.get(pk=recent.pk).notification_token == recent_token
    issued = MakeShopConnection.objects.get(pk=fresh.pk).notification_token
    assert issued != fresh.notification_token


def rotate(connection) -> str:
    return makeshop_services.rotate_notification_token(connection=connection).notification_token


def test_a_merchant_can_stop_a_leaked_previous_url_at_once(client):
    """N16: the previous URL answers as unknown right after the merchant stops it; the
    current one keeps working, a new URL can be issued again, and history says who."""
    merchant = make_user()
    connection = make_connection(
        makeshop_shop_id="url-shop", shop=make_shop(store=make_store(members=[merchant]))
    )
    leaked = connection.notification_token
    current = rotate(connection)
    client.force_login(merchant)
    guide = client.get(reverse("malls:makeshop_guide", args=[connection.shop.pk])).text
    stop_url = reverse("malls:makeshop_stop_old_notification_url", args=[connection.shop.pk])
    assert stop_url in guide and "以前のURLを今すぐ停止する" in guide
    assert works(client, leaked)

    response = client.post(stop_url, follow=True)

    assert not works(client, leaked)
    assert works(client, current)
    assert stop_url not in response.text  # nothing left to stop
    assert "以前のURLを停止しました" in response.text
    assert ChangeRecord.objects.filter(
        shop=connection.shop, action="notification_url.old_stopped", actor=merchant
    ).count() == 1
    assert rotate(connection) not in (leaked, current)  # no grace left to protect
    assert client.get(stop_url).status_code == 405


def test_stopping_when_no_previous_url_works_changes_nothing(client):
    merchant = make_user()
    connection = make_connection(shop=make_shop(store=make_store(members=[merchant])))
    client.force_login(merchant)

    client.post(reverse("malls:makeshop_stop_old_notification_url", args=[connection.shop.pk]))

    assert not ChangeRecord.objects.filter(action="notification_url.old_stopped").exists()


def test_another_stores_member_cannot_stop_a_shops_previous_url(client):
    connection = make_connection(makeshop_shop_id="url-shop")
    leaked = connection.notification_token
    rotate(connection)
    stranger = make_user()
    make_store(members=[stranger])
    client.force_login(stranger)

    response = client.post(
        reverse("malls:makeshop_stop_old_notification_url", args=[connection.shop.pk])
    )

    assert response.status_code == 404
    assert works(client, leaked)


def test_staff_can_stop_leaked_previous_urls_from_the_list(client):
    staff = make_staff()
    client.force_login(staff)
    leaking, untouched = make_connection(makeshop_shop_id="url-shop"), make_connection()
    leaked = leaking.notification_token
    rotate(leaking)
    assert works(client, leaked)

    client.post(
        reverse("admin:malls_makeshopconnection_changelist"),
        {"action": "stop_old_notification_url", "_selected_action": [leaking.pk, untouched.pk]},
    )

    assert not works(client, leaked)
    assert ChangeRecord.objects.filter(
        action="notification_url.old_stopped", actor=staff, source=ChangeRecord.Source.ADMIN
    ).count() == 1
