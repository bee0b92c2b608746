"""The MakeShop settings page against the sandbox: every outcome of a save, end to end.

These tests call MakeShop (the sandbox), which the service refuses to do inside a
database transaction, so they use transactional test databases.
"""

import logging
import time

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone

from malls import pending
from malls.makeshop.models import MakeShopConnection

from ..factories import make_connection, make_shop
from ..screens_factories import demo_codes, make_member, running_sandbox

Status = MakeShopConnection.Status
pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def sandbox(settings):
    with running_sandbox() as server:
        settings.MAKESHOP_API_BASE_URL = server.url
        yield server


@pytest.fixture
def shop(client):
    user, (store,) = make_member()
    client.force_login(user)
    return make_shop(store=store, name="デモ店")


def settings_url(shop):
    return reverse("malls:makeshop_settings", args=[shop.pk])


def all_secrets(*submissions):
    return {
        value
        for data in submissions
        for name, value in data.items()
        if name in MakeShopConnection.SECRET_FIELDS and value
    }


def assert_no_secret_in(text, secrets):
    for secret in secrets:
        assert secret not in text


class TestNewShop:
    def test_the_empty_form_explains_each_field_and_where_to_find_it(self, client, shop):
        html = client.get(settings_url(shop)).text

        for name in ("shop_id", "password", "order_auth_code", "product_auth_code"):
            assert f'name="{name}"' in html
        assert "注文データ連携設定" in html and "商品データ連携設定" in html
        assert "設定を保存して次へ進む" in html
        assert "MakeShop外部システム連携設定" in html
        assert 'name="version"' in html

    def test_accepted_settings_are_saved_and_lead_to_the_next_steps(self, client, shop, sandbox):
        response = client.post(settings_url(shop), demo_codes(), follow=True)

        assert response.redirect_chain == [
            (reverse("malls:makeshop_guide", args=[shop.pk]), 302)
        ]
        connection = MakeShopConnection.objects.get(shop=shop)
        assert connection.status == Status.VERIFIED
        assert connection.makeshop_shop_id == "demo-shop"
        assert connection.product_auth_code.reveal() == demo_codes()["product_auth_code"]
        assert 'class="message message--success"' in response.text
        assert_no_secret_in(response.text, all_secrets(demo_codes()))

    def test_a_rejected_order_code_saves_nothing_and_is_one_verdict_on_the_settings(
        self, client, shop, sandbox
    ):
        typed = {**demo_codes(), "order_auth_code": "ffffffffffffffffffffffffffffffff"}

        response = client.post(settings_url(shop), typed, headers={"accept-language": "en"})

        assert response.status_code == 200
        assert not MakeShopConnection.objects.filter(shop=shop).exists()
        errors = response.context["form"].errors
        assert list(errors) == ["__all__"]
        assert [e.code for e in response.context["form"].non_field_errors().as_data()] == [
            "not_accepted"
        ]
        assert "変更" in errors["__all__"][0]
        assert 'value="demo-shop"' in response.text  # what was typed is kept
        assert_no_secret_in(response.text, all_secrets(typed))
        # Only the order code went to MakeShop.
        assert [call.endpoint for call in sandbox.calls] == ["orderinfo"]

    def test_a_shop_not_yet_approved_by_makeshop_is_told_it_takes_days(
        self, client, shop, sandbox
    ):
        response = client.post(
            settings_url(shop), demo_codes("demo-pending"), headers={"accept-language": "en"}
        )

        assert "about a week" in response.context["form"].non_field_errors()[0]
        assert not MakeShopConnection.objects.filter(shop=shop).exists()

    def test_a_refused_login_asks_for_the_main_administrators_password(
        self, client, shop, sandbox
    ):
        typed = {**demo_codes(), "password": "sub-admin-password"}

        response = client.post(settings_url(shop), typed, headers={"accept-language": "en"})

        assert "main administrator" in response.context["form"].errors["password"][0]


class TestMakeShopDown:
    def test_nothing_is_saved_and_the_merchant_is_asked_what_to_do(self, client, shop, sandbox):
        typed = demo_codes("demo-maint")

        response = client.post(settings_url(shop), typed, headers={"accept-language": "en"})

        assert response.status_code == 200
        assert not MakeShopConnection.objects.filter(shop=shop).exists()
        assert "under maintenance" in response.text
        assert 'value="keep_unverified"' in response.text
        assert 'value="demo-maint"' in response.text
        assert not response.context["form"].errors
        assert_no_secret_in(response.text, all_secrets(typed))
        # The secrets wait in the session for the decision, encrypted.
        stash = client.session[pending.PENDING_SESSION_KEY.format(shop_pk=shop.pk)]
        assert_no_secret_in(repr(dict(client.session)), all_secrets(typed))
        assert set(stash["secrets"]) == set(MakeShopConnection.SECRET_FIELDS)

    def test_keeping_the_settings_saves_them_as_not_yet_verified(self, client, shop, sandbox):
        typed = demo_codes("demo-maint")
        client.post(settings_url(shop), typed)

        response = client.post(settings_url(shop), {"action": "keep_unverified"}, follow=True)

        assert response.redirect_chain[-1][0] == reverse("malls:makeshop_guide", args=[shop.pk])
        connection = MakeShopConnection.objects.get(shop=shop)
        assert connection.status == Status.UNVERIFIED
        assert connection.makeshop_shop_id == "demo-maint"
        assert connection.password.reveal() == typed["password"]
        assert pending.PENDING_SESSION_KEY.format(shop_pk=shop.pk) not in client.session

    def test_the_choice_expires_after_ten_minutes(self, client, shop, sandbox):
        client.post(settings_url(shop), demo_codes("demo-maint"))
        later = time.time() + pending.PENDING_TTL_SECONDS + 1

        with time_machine.travel(later, tick=False):
            response = client.post(
                settings_url(shop), {"action": "keep_unverified"}, follow=True
            )

        assert not MakeShopConnection.objects.filter(shop=shop).exists()
        assert 'class="message message--error"' in response.text

    def test_the_choice_without_a_pending_save_saves_nothing(self, client, shop):
        response = client.post(settings_url(shop), {"action": "keep_unverified"})

        assert response.status_code == 302
        assert not MakeShopConnection.objects.filter(shop=shop).exists()

    def test_previously_working_settings_stay_unless_the_merchant_keeps_the_new_ones(
        self, client, shop, sandbox
    ):
        working = make_connection(shop=shop, makeshop_shop_id="demo-shop", status=Status.VERIFIED)

        client.post(
            settings_url(shop),
            {**demo_codes("demo-maint"), "version": working.version},
        )

        working.refresh_from_db()
        assert working.makeshop_shop_id == "demo-shop" and working.version == 1


class TestSavedSettings:
    def test_saved_secrets_are_never_sent_back_only_their_last_four_characters(
        self, client, shop
    ):
        codes = demo_codes()
        make_connection(
            shop=shop,
            makeshop_shop_id="demo-shop",
            password=codes["password"],
            order_auth_code=codes["order_auth_code"],
            product_auth_code=codes["product_auth_code"],
        )

        html = client.get(settings_url(shop)).text

        assert_no_secret_in(html, all_secrets(codes))
        assert "cdef" in html  # …last 4 of the order code
        assert "設定済み" in html

    def test_empty_secret_fields_keep_the_saved_ones(self, client, shop, sandbox):
        codes = demo_codes()
        connection = make_connection(
            shop=shop,
            makeshop_shop_id="demo-shop",
            password=codes["password"],
            order_auth_code=codes["order_auth_code"],
            product_auth_code=codes["product_auth_code"],
        )

        response = client.post(
            settings_url(shop), {"shop_id": "demo-shop", "version": connection.version}
        )

        assert response.status_code == 302
        connection.refresh_from_db()
        assert connection.status == Status.VERIFIED
        assert connection.password.reveal() == codes["password"]
        assert connection.version == 2

    def test_two_saves_from_the_same_page_version_the_second_is_refused(
        self, client, shop, sandbox
    ):
        """Given two tabs opened on version 1, when both save, the later one is told."""
        codes = demo_codes()
        connection = make_connection(shop=shop, makeshop_shop_id="demo-shop", **{
            name: codes[name] for name in MakeShopConnection.SECRET_FIELDS
        })
        first_tab = {"shop_id": "demo-shop", "version": connection.version,
                     "password": codes["password"]}
        second_tab = {"shop_id": "demo-shop", "version": connection.version,
                      "product_auth_code": "second-tab-code-9999"}

        assert client.post(settings_url(shop), first_tab).status_code == 302
        response = client.post(settings_url(shop), second_tab)

        assert response.status_code == 200
        assert response.context["form"].has_error("__all__", code="concurrent_edit")
        connection.refresh_from_db()
        assert connection.version == 2
        assert connection.product_auth_code.reveal() == codes["product_auth_code"]

    def test_a_shop_id_connected_to_another_shop_is_refused(self, client, shop, sandbox):
        """Only after MakeShop accepted the settings: a guesser learns nothing."""
        make_connection(makeshop_shop_id="demo-shop", verified_at=timezone.now())

        response = client.post(settings_url(shop), demo_codes())

        assert response.context["form"].has_error("shop_id", code="shop_id_taken")
        assert not MakeShopConnection.objects.filter(shop=shop).exists()

    def test_no_secret_reaches_the_logs(self, client, shop, sandbox, caplog):
        caplog.set_level(logging.DEBUG)
        submissions = [
            demo_codes(),
            {**demo_codes(), "order_auth_code": "eeeeeeeeeeeeeeeeeeeeeeeeeeeeeeee"},
        ]

        for data in submissions:
            client.post(settings_url(shop), data)

        assert caplog.records  # something was logged, and none of it is a secret
        assert_no_secret_in(caplog.text, all_secrets(*submissions))


class TestGuide:
    def test_the_guide_shows_this_shops_notification_url_with_a_copy_button(self, client, shop):
        connection = make_connection(shop=shop)

        html = client.get(reverse("malls:makeshop_guide", args=[shop.pk])).text

        url = (
            f"http://testserver/makeshop/notify/{connection.notification_token}"
            "/[SHOPID]/[ORDERNUM]/[CMD]/"
        )
        assert f'value="{url}"' in html
        assert 'data-copy-target="notification-url"' in html
        for timing in ("受注時", "注文内容修正時", "注文キャンセル時", "入金完了時", "配送完了時"):
            assert timing in html
        assert "変更" in html

    def test_the_guide_is_complete_in_english(self, client, shop):
        make_connection(shop=shop)

        html = client.get(
            reverse("malls:makeshop_guide", args=[shop.pk]), headers={"accept-language": "en"}
        ).text

        for text in ("Next steps in MakeShop", "Update notification URL", "(new order)",
                     "Do not press 変更", "provisional order"):
            assert text in html

    def test_the_guide_of_a_shop_without_settings_sends_to_the_settings(self, client, shop):
        response = client.get(reverse("malls:makeshop_guide", args=[shop.pk]))

        assert response["Location"] == settings_url(shop)


@pytest.mark.django_db(transaction=True)
def test_too_many_verifications_for_a_store_are_refused_without_calling_makeshop(
    client, settings, makeshop_sandbox
):
    """Given a store that already saved its settings several times this minute,
    when it saves again, then MakeShop is not called and the merchant is told to wait."""
    from malls.makeshop.sandbox import DEMO_SHOPS
    from tests.factories import make_shop, make_store, make_user

    settings.VERIFICATIONS_PER_STORE_PER_MINUTE = 1
    user = make_user()
    shop = make_shop(store=make_store(members=[user]))
    client.force_login(user)
    url = reverse("malls:makeshop_settings", args=[shop.pk])
    wrong = {"shop_id": "demo-shop", "password": "x", "order_auth_code": "f" * 32,
             "product_auth_code": "", "version": ""}
    client.post(url, wrong)
    calls = len(makeshop_sandbox.calls)
    response = client.post(url, {**wrong, "order_auth_code": DEMO_SHOPS["demo-shop"].order_token})
    assert response.status_code == 200
    assert "too_many_attempts" in [
        e.code for e in response.context["form"].non_field_errors().as_data()
    ]
    assert len(makeshop_sandbox.calls) == calls


@pytest.mark.django_db
def test_a_merchant_can_issue_a_new_notification_url_and_the_old_one_stays_valid_a_day(client):
    """Given a shop with a notification URL, when the merchant issues a new one,
    then the guide shows the new URL, says until when the old one works, and the
    history records it."""
    from malls.models import ChangeRecord
    from tests.factories import make_store, make_user

    user = make_user()
    connection = make_connection(shop=make_shop(store=make_store(members=[user])))
    old_token = connection.notification_token
    client.force_login(user)

    response = client.post(
        reverse("malls:makeshop_new_notification_url", args=[connection.shop.pk]), follow=True
    )

    connection.refresh_from_db()
    assert connection.notification_token != old_token
    assert connection.previous_notification_token == old_token
    page = response.content.decode()
    assert connection.notification_token in page and old_token not in page
    assert response.context["old_url_valid_until"] == connection.previous_token_expires_at
    assert ChangeRecord.objects.filter(
        shop=connection.shop, action="notification_url.rotated", actor=user
    ).exists()
    assert client.get(
        reverse("malls:makeshop_new_notification_url", args=[connection.shop.pk])
    ).status_code == 405


@pytest.mark.django_db
def test_the_guide_lists_the_notifications_received(client):
    from django.utils import timezone

    from malls.makeshop.models import NotificationEvent
    from tests.factories import make_store, make_user

    user = make_user()
    connection = make_connection(shop=make_shop(store=make_store(members=[user])))
    NotificationEvent.objects.create(
        connection=connection, kind=NotificationEvent.Kind.PAYMENT_COMPLETED,
        order_number="ORD-778899", received_at=timezone.now(), dedup_window=1,
    )
    client.force_login(user)
    response = client.get(reverse("malls:makeshop_guide", args=[connection.shop.pk]))
    assert "ORD-778899" in response.content.decode()


@pytest.mark.django_db(transaction=True)
def test_another_store_cannot_learn_a_makeshop_password_through_the_settings_page(
    client, settings, makeshop_sandbox
):
    """N2, as probed: a store types another shop's ID, a wrong order code, and either a
    guess or the right admin password. Both pages say the same one thing, and MakeShop
    never hears the password."""
    from malls.makeshop.sandbox import DEMO_SHOPS

    settings.VERIFICATIONS_PER_STORE_PER_MINUTE = 10
    demo = DEMO_SHOPS["demo-shop"]
    user, (store,) = make_member()
    client.force_login(user)
    url = settings_url(make_shop(store=store))
    pages = []
    for password in ("guess-1", demo.password):
        response = client.post(url, {
            "shop_id": "demo-shop", "password": password, "order_auth_code": "0" * 32,
            "product_auth_code": "", "version": "",
        })
        form = response.context["form"]
        assert list(form.errors) == ["__all__"]
        pages.append([str(error) for error in form.non_field_errors()])
        assert "MakeShopがこの設定を受け付けなかったため" in response.text
        assert demo.password not in response.text

    assert pages[0] == pages[1]
    assert "パスワード" not in pages[0][0]
    assert {call.endpoint for call in makeshop_sandbox.calls} == {"orderinfo"}


@pytest.mark.django_db(transaction=True)
def test_a_shop_id_refused_too_often_is_not_asked_about_and_the_merchant_is_told_to_wait(
    client, settings, makeshop_sandbox
):
    from malls.makeshop.sandbox import DEMO_SHOPS

    settings.MAKESHOP_FAILED_CHECKS_PER_SHOP_PER_HOUR = 1
    user, (store,) = make_member()
    client.force_login(user)
    url = settings_url(make_shop(store=store))
    typed = {"shop_id": "demo-shop", "password": "x", "order_auth_code": "0" * 32,
             "product_auth_code": "", "version": ""}
    client.post(url, typed)
    calls = len(makeshop_sandbox.calls)

    right = {**typed, "order_auth_code": DEMO_SHOPS["demo-shop"].order_token}
    response = client.post(url, right)

    assert len(makeshop_sandbox.calls) == calls
    form = response.context["form"]
    assert [e.code for e in form.non_field_errors().as_data()] == ["checks_paused"]
    assert "1時間" in form.non_field_errors()[0] and "パスワード" not in form.non_field_errors()[0]
