"""Notices: one e-mail to a shop's store about something coming (a key about to expire).

A notice is not a break: no alert opens, nothing waits to settle, no "fixed" follows.
The mall decides what is due and when (its ``MallAlerts.queue_due_notices(now)``,
which ``manage.py send_alerts`` runs through ``queue_due``); this module queues it in
the outbox, which sends it with its retries like any alert e-mail:

- once per (shop, key, recipient): the same key queued again adds nothing, so a mall
  may offer a notice until it has recorded it as given, and two runs at once send one;
- to the store's active members with an address who want alerts (the outbox checks
  again when sending), each in their language (``describe`` is called with it active);
- in a constant number of queries however many notices are queued together.

The mall names its keys; a key is at most ``KEY_MAX_LENGTH`` characters of one line.
A notice the mail server has not taken yet can be withdrawn when it no longer holds
(``waiting``, ``withdraw``): a warning about a key renewed since is not sent late.
"""

from collections.abc import Callable, Iterable
from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone

from . import emails, states
from .models import AlertMessage
from .queueing import kick_sender
from .states import Description

KEY_MAX_LENGTH = 60


@dataclass(frozen=True)
class Notice:
    """What to tell a shop's store once: ``describe()`` returns, in the active
    language, what is coming (the e-mail's subject) and what to do about it."""

    shop: object  # a malls.MallShop
    key: str
    describe: Callable[[], Description]

    def __post_init__(self):
        if not self.key or len(self.key) > KEY_MAX_LENGTH or not self.key.isprintable():
            raise ValueError(f"A notice key is 1 to {KEY_MAX_LENGTH} printable characters")


def dedup_key(shop_pk, key: str, user_id) -> str:
    return f"notice:{shop_pk}:{key}:{user_id}"


def queue_notice(*, shop, key: str, describe: Callable[[], Description], now=None) -> int:
    """Queue one notice; see ``queue_notices``."""
    return queue_notices([Notice(shop, key, describe)], now=now)


def queue_notices(notices: Iterable[Notice], *, now=None) -> int:
    """Queue each notice for its store's members; returns how many e-mails are new.

    Call inside the transaction that records the notices as given, so that either
    both happen or neither. Sent at once: no settle delay.
    """
    now = now or timezone.now()
    notices = list(notices)
    if not notices:
        return 0
    shop_model = AlertMessage._meta.get_field("shop").related_model
    shops = shop_model.objects.select_related("store", "mall").in_bulk(
        {notice.shop.pk for notice in notices}
    )
    members = _recipients_by_store({shop.store_id for shop in shops.values()})
    wanted = []
    for notice in notices:
        shop = shops.get(notice.shop.pk)
        if shop is None:
            continue  # deleted meanwhile: nobody to tell
        rendered = {}
        for user_id, language in members.get(shop.store_id, []):
            if language not in rendered:
                rendered[language] = emails.render_notice(
                    language=language, shop=shop, mall=shop.mall, store=shop.store,
                    describe=notice.describe,
                )
            text = rendered[language]
            wanted.append(
                AlertMessage(
                    recipient_id=user_id, kind=AlertMessage.Kind.NOTICE, shop=shop,
                    language=language, subject=text.subject, body=text.body,
                    next_attempt_at=now, dedup_key=dedup_key(shop.pk, notice.key, user_id),
                )
            )
    with transaction.atomic():
        existing = set(
            AlertMessage.objects.filter(
                dedup_key__in=[message.dedup_key for message in wanted]
            ).values_list("dedup_key", flat=True)
        )
        new = [message for message in wanted if message.dedup_key not in existing]
        AlertMessage.objects.bulk_create(new, ignore_conflicts=True)
        if new:
            transaction.on_commit(kick_sender)
    return len(new)


def _recipients_by_store(store_ids) -> dict:
    """(user id, language) of each store's members who get alerts, in one query."""
    from .services import default_language

    rows = (
        get_user_model().objects.filter(
            memberships__store_id__in=store_ids, is_active=True
        )
        .exclude(email="")
        .exclude(alert_preference__alerts_enabled=False)
        .values_list("memberships__store_id", "pk", "alert_preference__language")
        .distinct()
        .order_by("pk")
    )
    members: dict = {}
    for store_id, user_id, language in rows:
        members.setdefault(store_id, []).append((user_id, language or default_language()))
    return members


@dataclass(frozen=True)
class Waiting:
    """A notice e-mail queued but not sent yet (the mail server refused it for now)."""

    message_id: int
    shop_id: int
    key: str


def waiting(key_prefix: str) -> list[Waiting]:
    """Notices whose key starts with ``key_prefix`` that no sender has claimed and that
    are still to be sent: few, and only while the mail server fails (one query)."""
    rows = AlertMessage.objects.filter(
        kind=AlertMessage.Kind.NOTICE, status=AlertMessage.Status.PENDING, claimed_by="",
        dedup_key__contains=f":{key_prefix}",
    ).values_list("pk", "shop_id", "dedup_key")
    found = []
    for pk, shop_id, dedup in rows:
        # notice:<shop pk>:<key>:<user id>; the key itself may hold colons.
        key = dedup.removeprefix(f"notice:{shop_id}:").rpartition(":")[0]
        if key.startswith(key_prefix):
            found.append(Waiting(pk, shop_id, key))
    return found


def withdraw(message_ids, *, why: str) -> int:
    """Cancel waiting notices that no longer hold (a key renewed since), unless a
    sender has claimed them meanwhile; returns how many."""
    return AlertMessage.objects.filter(
        pk__in=list(message_ids), status=AlertMessage.Status.PENDING, claimed_by=""
    ).update(status=AlertMessage.Status.CANCELLED, last_error=f"withdrawn: {why}"[:300])


def queue_due(*, now=None) -> int:
    """Let every registered mall queue the notices due at ``now``; returns how many."""
    now = now or timezone.now()
    queued = 0
    for mall in states.PROVIDERS.values():
        if mall.queue_due_notices is not None:
            queued += mall.queue_due_notices(now)
    return queued
