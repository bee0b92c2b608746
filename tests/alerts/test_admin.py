"""Staff see every alert e-mail with its delivery, and can send failed ones again."""

import pytest
from django.urls import reverse
from django.utils import timezone

from malls.alerts.models import AlertMessage
from malls.alerts.services import note_connection_change
from malls.alerts.states import ConnectionState
from malls.makeshop.models import MakeShopConnection
from tests.factories import make_connection, make_user

from .helpers import member

pytestmark = pytest.mark.django_db(transaction=True)


def test_staff_see_alerts_and_e_mails_and_retry_failed_ones(client, no_sender):
    connection = make_connection(
        status=MakeShopConnection.Status.VERIFIED, verified_at=timezone.now()
    )
    member(connection.shop.store)
    note_connection_change(
        connection, ConnectionState("verified"), ConnectionState("rejected", "token_rejected")
    )
    AlertMessage.objects.update(status=AlertMessage.Status.FAILED, last_error="SMTPDataError 554")
    client.force_login(make_user(is_staff=True, is_superuser=True))

    alerts = client.get(reverse("admin:malls_shopalert_changelist"))
    messages = client.get(reverse("admin:malls_alertmessage_changelist") + "?status=failed")
    assert alerts.status_code == messages.status_code == 200
    assert "SMTPDataError 554" in messages.content.decode()
    detail = client.get(
        reverse("admin:malls_alertmessage_change", args=[AlertMessage.objects.get().pk])
    )
    assert detail.status_code == 200

    client.post(
        reverse("admin:malls_alertmessage_changelist"),
        {"action": "retry_now", "_selected_action": [AlertMessage.objects.get().pk]},
    )
    assert AlertMessage.objects.get().status == AlertMessage.Status.PENDING
