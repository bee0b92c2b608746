"""Notices: a mall's one-off e-mails to a store (e.g. a key about to expire), queued in the
outbox once per shop and key, sent through a real SMTP server in each member's language."""

import pytest
from django.core.management import call_command
from django.utils import translation

from malls.alerts import notices, outbox, states
from malls.alerts.models import AlertMessage, AlertPreference
from malls.alerts.states import Description
from tests.factories import make_shop, make_store

from .helpers import member

pytestmark = pytest.mark.django_db
Kind = AlertMessage.Kind


def coming(days=7):
    """A notice text that says which language it was written in."""
    return lambda: Description(
        f"[{translation.get_language()}] the key expires in {days} days", "Renew it."
    )


def test_a_notice_e_mails_each_member_once_in_their_language_at_once(smtp, settings):
    settings.ALERTS_SETTLE_SECONDS = 3600  # notices do not wait to settle
    shop = make_shop(store=make_store(name="通知の店舗"), name="通知ショップ")
    japanese, english = member(shop.store), member(shop.store)
    AlertPreference.objects.create(user=english, language="en")
    opted_out = member(shop.store)
    AlertPreference.objects.create(user=opted_out, alerts_enabled=False)
    member(shop.store, is_active=False)
    member(shop.store, email="")
    member(make_store())  # another store's member
    also_elsewhere = member(make_store())
    shop.store.memberships.create(user=also_elsewhere)

    for _ in range(2):
        notices.queue_notice(shop=shop, key="expiry:2027-02-23/7", describe=coming())
    outbox.send_due()

    assert sorted(rcpt for mail in smtp.received for rcpt in mail.rcpt_tos) == sorted(
        [japanese.email, english.email, also_elsewhere.email]
    )
    ja_mail, = smtp.to(japanese.email)
    en_mail, = smtp.to(english.email)
    assert ja_mail.subject == "[GoQSystem] 通知ショップ: [ja] the key expires in 7 days"
    assert en_mail.subject == "[GoQSystem] 通知ショップ: [en] the key expires in 7 days"
    assert "対処方法" in ja_mail.text and "Renew it." in ja_mail.text
    assert "What to do" in en_mail.text
    shop_page = "https://goq.example" + states.provider_for(shop.mall.code).shop_path(shop)
    assert shop_page in ja_mail.text and shop_page in en_mail.text
    assert set(AlertMessage.objects.values_list("kind", flat=True)) == {Kind.NOTICE}

    # Another key is another notice; the same key never again.
    notices.queue_notice(shop=shop, key="expiry:2027-02-23/3", describe=coming(3))
    notices.queue_notice(shop=shop, key="expiry:2027-02-23/7", describe=coming())
    outbox.send_due()
    assert [mail.subject for mail in smtp.to(japanese.email)] == [
        "[GoQSystem] 通知ショップ: [ja] the key expires in 7 days",
        "[GoQSystem] 通知ショップ: [ja] the key expires in 3 days",
    ]


def test_a_member_who_turns_alerts_off_after_queuing_gets_nothing(smtp, no_sender):
    shop = make_shop()
    user = member(shop.store)
    notices.queue_notice(shop=shop, key="k", describe=coming())
    AlertPreference.objects.create(user=user, alerts_enabled=False)

    report = outbox.send_due()

    assert (report.sent, report.cancelled) == (0, 1)
    assert smtp.received == []


def test_many_notices_cost_the_same_queries_as_one(smtp, no_sender, django_assert_num_queries):
    shops = [make_shop(store=make_store()) for _ in range(12)]
    for shop in shops:
        member(shop.store), member(shop.store)

    # The shops, their members, the keys already queued, one insert (in a savepoint).
    with django_assert_num_queries(6):
        queued = notices.queue_notices(
            [notices.Notice(shop, "one", coming()) for shop in shops[:1]]
        )
    assert queued == 2
    with django_assert_num_queries(6):
        queued = notices.queue_notices([notices.Notice(shop, "all", coming()) for shop in shops])
    assert queued == 24


def test_a_notice_still_waiting_can_be_withdrawn(smtp, no_sender):
    shop = make_shop()
    member(shop.store), member(shop.store)
    other = make_shop()
    member(other.store)
    notices.queue_notice(shop=shop, key="expiry:2027-02-23/7", describe=coming())
    notices.queue_notice(shop=other, key="expiry:2027-03-01/7", describe=coming())
    notices.queue_notice(shop=shop, key="other:1", describe=coming())

    waiting = notices.waiting("expiry:")
    assert sorted((item.shop_id, item.key) for item in waiting) == sorted(
        [(shop.pk, "expiry:2027-02-23/7")] * 2 + [(other.pk, "expiry:2027-03-01/7")]
    )
    stale = [item.message_id for item in waiting if item.shop_id == shop.pk]
    assert notices.withdraw(stale, why="renewed") == 2

    report = outbox.send_due()
    assert report.sent == 3  # the other shop's member; both members for the other key
    withdrawn = AlertMessage.objects.filter(status="cancelled", last_error="withdrawn: renewed")
    assert sorted(withdrawn.values_list("pk", flat=True)) == sorted(stale)


@pytest.mark.parametrize("key", ["", "x" * (notices.KEY_MAX_LENGTH + 1), "two\nlines"])
def test_a_key_is_one_short_line(key):
    with pytest.raises(ValueError, match="notice key"):
        notices.Notice(object(), key, coming())


def test_send_alerts_runs_every_malls_due_notices(smtp, monkeypatch):
    shop = make_shop()
    user = member(shop.store)
    asked = []

    def queue_due(now):
        asked.append(now)
        return notices.queue_notice(shop=shop, key=f"run-{len(asked)}", describe=coming())

    monkeypatch.setattr(states, "PROVIDERS", dict(states.PROVIDERS))
    states.register_mall("noticemall", describe=Description, shop_path=str,
                         queue_due_notices=queue_due)

    call_command("send_alerts")

    assert len(asked) == 1
    mail, = smtp.to(user.email)
    assert "[ja] the key expires in 7 days" in mail.subject
