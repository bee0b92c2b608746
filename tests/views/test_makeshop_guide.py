"""The next-steps page's notification URL: the rule on new URLs, and texts that read the
durations from the code rather than restating them."""

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.contrib.messages import get_messages
from django.urls import reverse

from malls import pending
from malls.makeshop import services as makeshop_services
from malls.makeshop.services import notification_urls

from ..factories import make_connection, make_shop
from ..screens_factories import make_member

pytestmark = pytest.mark.django_db
START = datetime(2026, 11, 30, 0, 0, tzinfo=UTC)  # 09:00 in Tokyo


@pytest.fixture
def connection(client):
    user, (store,) = make_member()
    client.force_login(user)
    return make_connection(shop=make_shop(store=store))


def guide(client, connection, language="en"):
    url = reverse("malls:makeshop_guide", args=[connection.shop.pk])
    return client.get(url, headers={"accept-language": language}).text


def issue(client, connection, language="en"):
    url = reverse("malls:makeshop_new_notification_url", args=[connection.shop.pk])
    response = client.post(url, headers={"accept-language": language}, follow=True)
    return [str(message) for message in get_messages(response.wsgi_request)], response


@pytest.fixture
def grace_of_two_days(monkeypatch):
    grace = timedelta(hours=48)
    monkeypatch.setattr(makeshop_services, "NOTIFICATION_TOKEN_GRACE", grace)
    monkeypatch.setattr(notification_urls, "NOTIFICATION_TOKEN_GRACE", grace)
    return grace


def test_the_button_says_how_long_the_old_url_keeps_working(client, connection):
    html = guide(client, connection)

    assert "Issue a new URL" in html
    assert "The old URL keeps working for 24 hours." in html
    assert "古いURLは24時間は使えます" in guide(client, connection, "ja")


def test_the_texts_follow_the_grace_period_in_the_code(client, connection, grace_of_two_days):
    assert "The old URL keeps working for 48 hours." in guide(client, connection)

    with time_machine.travel(START, tick=False):
        said, _ = issue(client, connection)

    assert any("keeps working for 48 hours (until 2026-12-02 09:00)" in text for text in said), said


def test_while_the_previous_url_is_in_its_grace_period_the_page_says_when_a_new_one_can_be_had(
    client, connection
):
    """The service refuses a second new URL during the grace period; the page does not
    offer one, and says from when it can."""
    with time_machine.travel(START, tick=False):
        said, response = issue(client, connection)
        html = guide(client, connection)

    assert any("until 2026-12-01 09:00" in text for text in said), said
    assert "A new URL can be issued again after 2026-12-01 09:00" in html
    assert 'action="{}"'.format(
        reverse("malls:makeshop_new_notification_url", args=[connection.shop.pk])
    ) not in html
    with time_machine.travel(START + timedelta(hours=25), tick=False):
        client.force_login(connection.shop.store.memberships.get().user)  # the session expired
        html = guide(client, connection)
    assert "Issue a new URL" in html and "can be issued again" not in html


def test_an_expired_choice_says_how_long_it_was_kept_from_the_constant(
    client, connection, monkeypatch
):
    monkeypatch.setattr(pending, "PENDING_TTL_SECONDS", 120)
    url = reverse("malls:makeshop_settings", args=[connection.shop.pk])

    response = client.post(url, {"action": "keep_unverified"}, follow=True,
                           headers={"accept-language": "en"})

    assert "after 2 minutes they are discarded" in response.text
    response = client.post(url, {"action": "keep_unverified"}, follow=True)
    assert "2分を過ぎると破棄されます" in response.text
