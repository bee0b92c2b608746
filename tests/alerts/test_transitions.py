"""Which changes of a connection's state e-mail the store, through the real verification path
(sandbox over HTTP) and a real SMTP server: one e-mail per transition, never a storm."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from malls.alerts import outbox, states
from malls.alerts.models import AlertMessage, AlertPreference, ShopAlert
from malls.alerts.services import note_connection_change
from malls.alerts.states import ConnectionState, Health
from malls.makeshop import services as makeshop_services
from malls.makeshop.models import MakeShopConnection
from tests.factories import make_connection, make_shop, make_store

from .helpers import (
    enter_new_code,
    member,
    recheck,
    reissue_code_in_makeshop,
    sandbox,
    working_shop,
)

pytestmark = pytest.mark.django_db(transaction=True)
Kind = AlertMessage.Kind
Delivery = AlertMessage.Status
Status = MakeShopConnection.Status


@pytest.fixture
def makeshop(settings):
    server = sandbox(settings)
    yield server
    server.shutdown()


class TestClassification:
    @pytest.mark.parametrize(
        ("status", "reason", "health"),
        [
            ("verified", "", Health.WORKING),
            ("verified", "token_rejected", Health.WORKING),  # a stale reason is ignored
            ("rejected", "token_rejected", Health.NEEDS_MERCHANT),
            ("rejected", "login_refused", Health.NEEDS_MERCHANT),
            ("rejected", "not_enabled", Health.NEEDS_MERCHANT),
            ("unverified", "unreadable", Health.NEEDS_MERCHANT),
            ("unverified", "legacy_api_retired", Health.NEEDS_MERCHANT),
            ("uninstalled", "", Health.NEEDS_MERCHANT),
            ("unverified", "app_uninstalled", Health.NEEDS_MERCHANT),
            ("unverified", "timeout", Health.NEITHER),
            ("unverified", "maintenance", Health.NEITHER),
            ("pending", "", Health.NEITHER),
            ("unset", "", Health.NEITHER),
            ("waiting_install", "", Health.NEITHER),
            ("installed", "", Health.NEITHER),  # the app's token, not verified yet
            ("unreachable", "", Health.NEITHER),
            ("some_future_status", "", Health.NEITHER),
        ],
    )
    def test_makeshops_states_fall_in_three_kinds(self, status, reason, health):
        assert states.classify(status, reason, mall="makeshop") == health
        assert ConnectionState(status, reason, mall="makeshop").health == health

    def test_a_malls_words_classify_its_own_shops_only(self, monkeypatch):
        monkeypatch.setattr(states, "PROVIDERS", dict(states.PROVIDERS))
        states.register_mall(
            "othermall", describe=states.Description, shop_path=str,
            statuses={"suspended": Health.NEEDS_MERCHANT},
            reasons={"shop_closed": Health.NEEDS_MERCHANT},
        )
        assert states.classify("suspended", mall="othermall") == Health.NEEDS_MERCHANT
        assert states.classify("unverified", "shop_closed", mall="othermall") == (
            Health.NEEDS_MERCHANT
        )
        # The generic words hold for it too.
        assert states.classify("rejected", "x", mall="othermall") == Health.NEEDS_MERCHANT
        assert states.classify("verified", mall="othermall") == Health.WORKING
        # Neither mall's words decide the other's shops, nor a shop of no known mall.
        assert states.classify("suspended", mall="makeshop") == Health.NEITHER
        assert states.classify("uninstalled", mall="othermall") == Health.NEITHER
        assert states.classify("unverified", "legacy_api_retired", mall="othermall") == (
            Health.NEITHER
        )
        assert states.classify("uninstalled") == Health.NEITHER
        assert states.classify("unverified", "unreadable") == Health.NEEDS_MERCHANT

    def test_a_connection_rows_state_names_its_mall_without_a_query(
        self, django_assert_num_queries
    ):
        connection = make_connection(shop=make_shop())
        row = MakeShopConnection.objects.get(pk=connection.pk)  # nothing related loaded
        with django_assert_num_queries(0):
            state = states.state_of(row)
        assert state.mall == "makeshop"
        # The mall is not part of equality: the same words are the same state.
        assert state == ConnectionState(state.status, state.reason, state.check)


class TestBrokenAndFixed:
    def test_a_shop_that_breaks_e_mails_each_member_once_however_often_it_fails(
        self, smtp, makeshop
    ):
        connection = working_shop()
        store = connection.shop.store
        japanese = member(store)
        english = member(store)
        AlertPreference.objects.create(user=english, language="en")
        member(store, email="")  # no address: nothing to send to
        member(store, is_active=False)
        opted_out = member(store)
        AlertPreference.objects.create(user=opted_out, alerts_enabled=False)
        member(make_store())  # another store's member hears nothing

        reissue_code_in_makeshop(makeshop)
        for _ in range(3):
            connection = recheck(connection)
            assert connection.status == Status.REJECTED

        assert sorted(rcpt for mail in smtp.received for rcpt in mail.rcpt_tos) == sorted(
            [japanese.email, english.email]
        )
        assert ShopAlert.objects.filter(shop=connection.shop, closed_at=None).count() == 1
        ja_mail, = smtp.to(japanese.email)
        en_mail, = smtp.to(english.email)
        assert ja_mail.subject == "[GoQSystem] 本店ショップ: MakeShopとの接続が切れました"
        assert en_mail.subject == (
            "[GoQSystem] 本店ショップ: the connection to MakeShop stopped working"
        )
        shop_url = "https://goq.example" + reverse(
            "malls:makeshop_settings", args=[connection.shop.pk]
        )
        assert shop_url in ja_mail.text and shop_url in en_mail.text
        # The advice of the screen, in each language.
        assert "注文データ連携 認証コード" in ja_mail.text and "変更" in ja_mail.text
        assert "MakeShop did not accept this order data auth code" in en_mail.text
        assert "(日本時間)" in ja_mail.text and "(Japan time)" in en_mail.text
        assert ja_mail.message["Auto-Submitted"] == "auto-generated"

    def test_a_fixed_shop_e_mails_once_that_it_works_again(self, smtp, makeshop):
        connection = working_shop()
        someone = member(connection.shop.store)
        reissue_code_in_makeshop(makeshop)
        recheck(connection)

        connection = enter_new_code(connection)
        recheck(connection)  # still fine: nothing more

        kinds = [mail.subject for mail in smtp.to(someone.email)]
        assert kinds == [
            "[GoQSystem] 本店ショップ: MakeShopとの接続が切れました",
            "[GoQSystem] 本店ショップ: MakeShopとの接続が復旧しました",
        ]
        assert not ShopAlert.objects.filter(closed_at=None).exists()
        assert "復旧" in smtp.to(someone.email)[1].text

    def test_a_shop_that_never_worked_is_not_an_alert(self, smtp, makeshop):
        shop = make_shop()
        someone = member(shop.store)
        connection = make_connection(
            shop=shop, makeshop_shop_id="alert-shop", order_auth_code="f" * 32,
            password=None, product_auth_code=None,
        )
        assert recheck(connection).status == Status.REJECTED
        assert not smtp.to(someone.email) and not ShopAlert.objects.exists()

    def test_makeshop_down_is_not_a_break_but_a_rejection_after_it_is(self, smtp, makeshop,
                                                                       settings):
        connection = working_shop()
        someone = member(connection.shop.store)
        settings.MAKESHOP_API_BASE_URL = "http://127.0.0.1:9"  # nothing listens
        assert recheck(connection).status == Status.UNVERIFIED
        assert not smtp.received

        settings.MAKESHOP_API_BASE_URL = makeshop.url
        reissue_code_in_makeshop(makeshop)
        assert recheck(connection).status == Status.REJECTED  # unverified -> rejected
        assert len(smtp.to(someone.email)) == 1

    def test_a_reason_change_while_broken_updates_the_alert_without_an_e_mail(self, smtp):
        connection = make_connection(status=Status.VERIFIED, verified_at=timezone.now())
        someone = member(connection.shop.store)
        broken = ConnectionState("rejected", "token_rejected", "order_auth_code")
        note_connection_change(connection, ConnectionState("verified"), broken)
        note_connection_change(
            connection, broken, ConnectionState("rejected", "login_refused", "password")
        )
        note_connection_change(connection, broken, ConnectionState("unverified", "timeout"))

        alert = ShopAlert.objects.get()
        assert (alert.status, alert.reason) == ("unverified", "timeout")
        assert len(smtp.to(someone.email)) == 1


    def test_an_uninstalled_app_says_what_to_do_in_both_languages(self, smtp):
        connection = make_connection(status=Status.VERIFIED, verified_at=timezone.now())
        japanese = member(connection.shop.store)
        english = member(connection.shop.store)
        AlertPreference.objects.create(user=english, language="en")
        note_connection_change(connection, ConnectionState("verified"),
                               ConnectionState("uninstalled"))
        assert "アンインストールされました" in smtp.to(japanese.email)[0].text
        assert "Install GoQ's app in MakeShop again" in smtp.to(english.email)[0].text

    def test_a_caller_may_say_whether_the_shop_ever_worked(self, smtp):
        connection = make_connection(status=Status.UNSET)
        someone = member(connection.shop.store)
        note_connection_change(connection, ConnectionState("installed"),
                               ConnectionState("rejected", "token_rejected"), ever_worked=False)
        assert not smtp.received
        note_connection_change(connection, ConnectionState("unreachable"),
                               ConnectionState("rejected", "token_rejected"), ever_worked=True)
        assert len(smtp.to(someone.email)) == 1


    def test_a_merchant_chosen_name_stays_on_one_line_in_the_e_mail(self, smtp):
        connection = make_connection(status=Status.VERIFIED, verified_at=timezone.now())
        shop, store = connection.shop, connection.shop.store
        # Saved before names were checked at input (or by any path that skips forms).
        shop.name = "Evil\r\nBcc: attacker@evil.test\r\nSubject: spoofed\u2028L2\x85L3\u202eRTL"
        shop.save()
        store.name = "店舗\u2029http://phish.example/login 再ログイン"
        store.save()
        someone = member(store)
        note_connection_change(connection, ConnectionState("verified"),
                               ConnectionState("uninstalled"))

        mail, = smtp.to(someone.email)
        assert mail.rcpt_tos == [someone.email] and mail.message["Bcc"] is None
        lines = mail.text.splitlines()
        assert not any(line.startswith(("Bcc:", "Subject:", "L2", "L3", "http://phish"))
                       for line in lines)
        assert "Evil Bcc: attacker@evil.test Subject: spoofed L2 L3 RTL" in mail.text
        assert "店舗 http://phish.example/login 再ログイン" in mail.text
        for char in ("\u2028", "\u2029", "\x85", "\u202e"):
            assert char not in mail.text and char not in mail.subject
        assert "Evil\r" not in mail.text


class TestFlapping:
    """A shop flapping faster than ALERTS_SETTLE_SECONDS sends nothing until it settles."""

    def setup_shop(self, settings):
        settings.ALERTS_SETTLE_SECONDS = 600
        connection = make_connection(status=Status.VERIFIED, verified_at=timezone.now())
        return connection, member(connection.shop.store)

    def test_a_blip_shorter_than_the_settle_time_sends_nothing(self, smtp, no_sender, settings):
        connection, someone = self.setup_shop(settings)
        working, broken = ConnectionState("verified"), ConnectionState("rejected", "x")
        for _ in range(5):
            note_connection_change(connection, working, broken)
            note_connection_change(connection, broken, working)

        outbox.send_due(now=timezone.now() + timedelta(hours=1))
        assert not smtp.received
        assert set(AlertMessage.objects.values_list("status", flat=True)) == {Delivery.CANCELLED}
        assert not ShopAlert.objects.filter(closed_at=None).exists()

    def test_broken_again_while_fixed_waits_keeps_the_first_alert(self, smtp, no_sender,
                                                                   settings):
        connection, someone = self.setup_shop(settings)
        working, broken = ConnectionState("verified"), ConnectionState("rejected", "x")
        start = timezone.now()
        note_connection_change(connection, working, broken, now=start)
        outbox.send_due(now=start + timedelta(minutes=11))  # "broken" is sent
        note_connection_change(connection, broken, working, now=start + timedelta(minutes=20))
        note_connection_change(connection, working, broken, now=start + timedelta(minutes=22))
        outbox.send_due(now=start + timedelta(hours=2))

        assert [mail.subject.split(": ")[-1] for mail in smtp.to(someone.email)] == [
            "MakeShopとの接続が切れました"
        ]
        alert = ShopAlert.objects.get()
        assert alert.closed_at is None and alert.opened_at == start


def test_deleting_a_broken_shops_settings_closes_its_alert_without_more_e_mail(
    settings, smtp, makeshop
):
    """No reminders, no waiting "broken" e-mail, no "fixed" e-mail about settings that
    staff deleted."""

    settings.ALERTS_SETTLE_SECONDS = 3600  # the "broken" e-mail is still waiting
    connection = working_shop()
    someone = member(connection.shop.store)
    reissue_code_in_makeshop(makeshop)
    connection = recheck(connection)
    alert = ShopAlert.objects.get(shop=connection.shop, closed_at=None)

    makeshop_services.delete_makeshop_connection(connection=connection)

    alert.refresh_from_db()
    assert alert.closed_at is not None and alert.next_reminder_at is None
    assert not alert.messages.exclude(status=Delivery.CANCELLED).exists()
    outbox.send_due(now=timezone.now() + timedelta(days=30))
    assert not smtp.to(someone.email)
