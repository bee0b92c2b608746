"""各種設定 → メール通知: each user turns alerts off and on and picks their language."""

import pytest
from django.urls import reverse

from malls.alerts.models import AlertPreference
from tests.factories import make_store, make_user

pytestmark = pytest.mark.django_db
URL = reverse("malls:alerts:preferences")


def test_the_page_needs_a_signed_in_user(client):
    response = client.get(URL)
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_defaults_are_on_and_japanese_and_saving_changes_only_ones_own_row(client):
    user = make_user(email="me@shop.example")
    other = make_user(email="other@shop.example")
    make_store(members=[user, other])
    client.force_login(user)

    response = client.get(URL)
    form = response.context["form"]
    assert form["alerts_enabled"].value() is True and form["language"].value() == "ja"
    assert "me@shop.example" in response.content.decode()
    response = client.post(URL, {"language": "en"})  # the box unticked: alerts off

    assert response.status_code == 302
    saved = AlertPreference.objects.get(user=user)
    assert (saved.alerts_enabled, saved.language) == (False, "en")
    assert not AlertPreference.objects.filter(user=other).exists()

    client.post(URL, {"alerts_enabled": "on", "language": "ja"})
    saved.refresh_from_db()
    assert (saved.alerts_enabled, saved.language) == (True, "ja")


def test_an_unknown_language_is_refused(client):
    user = make_user()
    client.force_login(user)
    response = client.post(URL, {"alerts_enabled": "on", "language": "xx"})
    assert response.status_code == 200
    assert not AlertPreference.objects.exists()
    assert "メールアドレスが登録されていない" in response.content.decode()


def test_the_settings_index_links_to_the_page(client):
    user = make_user()
    make_store(members=[user])
    client.force_login(user)
    assert URL in client.get(reverse("malls:settings")).content.decode()


def test_staff_without_a_store_can_choose_too(client):
    staff = make_user(is_staff=True, email="staff@goq.example")
    client.force_login(staff)
    assert client.get(URL).status_code == 200


def test_the_development_console_prints_japanese_readably():
    import io

    from django.core.mail import EmailMessage

    from malls.alerts.console import EmailBackend

    stream = io.StringIO()
    EmailBackend(stream=stream, alias="default").send_messages(
        [EmailMessage("件名テスト", "本文テスト", "from@goq.example", ["to@shop.example"])]
    )
    assert "Subject: 件名テスト" in stream.getvalue() and "本文テスト" in stream.getvalue()
