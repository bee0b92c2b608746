"""Update notifications (更新通知): whose token a notification carries, and recording it.

A notification is only a hint that an order changed. What one says is read by the
mall's own rules (``parse_notification`` asks the mall's provider; MakeShop's are in
``malls.makeshop.notifications``). Recording folds repeats into one event and leaves
an ``OrderRefreshRequest`` for the order import, which fetches the real order later.
The HTTP side lives in ``malls.makeshop.notification_views``.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import re
import secrets
from collections.abc import Mapping

from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.utils import timezone

from core.client_address import client_address
from malls import providers, ratelimits
from malls.makeshop.models import MakeShopConnection, NotificationEvent, OrderRefreshRequest
from malls.models import Mall
from malls.providers import MalformedNotification as MalformedNotification  # re-exported
from malls.providers import Notification
from malls.providers import NotificationRejected as NotificationRejected  # re-exported

Kind = NotificationEvent.Kind

# Limits. A big shop's sale can bring several orders a second, each followed by a
# payment event, and MakeShop's retry behaviour is unknown, so a 429 may lose a real
# notification: the per-token limit is set well above that and still caps a leaked
# token at 10 requests a second.
MAX_BODY_BYTES = 16 * 1024
RATE_LIMIT = 600
RATE_WINDOW_SECONDS = 60
# Wrong tokens per sender network: bounds guessing and timing probes; never
# applies to a request carrying a valid token.
MISS_LIMIT = 60
MISS_WINDOW_SECONDS = 600

_TOKEN_RE = re.compile(r"[A-Za-z0-9_-]{20,64}", re.ASCII)

# Compared against when no row matched, so a miss costs the same comparisons as a hit.
_DUMMY_TOKEN = secrets.token_urlsafe(32).encode()


# --- Finding the shop -----------------------------------------------------------------


def find_connection(token: str, *, now=None) -> MakeShopConnection | None:
    """The connection ``token`` opens: its current token, or its previous one in the grace period.

    The row is found by equality on the stored token, then confirmed with
    ``hmac.compare_digest`` against both of its tokens (or a dummy on a miss): the
    Python side does the same work for a hit and a miss, and a collation that calls
    near-equal strings equal cannot let one through. The index lookup still compares
    the token inside the database; the per-sender limit on wrong tokens bounds how
    often anyone can probe that.
    """
    now = now or timezone.now()
    if not _TOKEN_RE.fullmatch(token):
        return None  # not even the shape of a token: nothing to compare
    fields = (
        "pk", "makeshop_shop_id", "notification_token", "previous_notification_token",
        "previous_token_expires_at",
    )
    rows = MakeShopConnection.objects.only(*fields)
    connection = rows.filter(notification_token=token).first()
    if connection is None:
        connection = rows.filter(
            previous_notification_token=token, previous_token_expires_at__gt=now
        ).first()
    given = token.encode()
    current = previous = _DUMMY_TOKEN
    if connection is not None:
        current = connection.notification_token.encode()
        previous = connection.previous_notification_token.encode() or _DUMMY_TOKEN
    is_current = hmac.compare_digest(given, current)
    is_previous = hmac.compare_digest(given, previous)
    in_grace = connection is not None and bool(
        connection.previous_token_expires_at and connection.previous_token_expires_at > now
    )
    return connection if is_current or (is_previous and in_grace) else None


def token_rate_key(token: str) -> str:
    """The rate-limit key of a token: a hash, so no usable token is stored in the counters."""
    return "notify:" + hashlib.sha256(token.encode()).hexdigest()[:32]


def sender_rate_key(address: str | None) -> str:
    """The rate-limit key for wrong tokens from one sender (an IPv6 /64 counts as one)."""
    if address is None:
        return "notify-miss:unknown"
    ip = ipaddress.ip_address(address)
    if ip.version == 6:
        return f"notify-miss:{ipaddress.ip_network(f'{ip}/64', strict=False)}"
    return f"notify-miss:{ip}"


def allow_delivery(token: str) -> bool:
    """Count one request for ``token``; False once it is over ``RATE_LIMIT`` this window."""
    return ratelimits.hit(
        token_rate_key(token), limit=RATE_LIMIT, window_seconds=RATE_WINDOW_SECONDS
    )


def allow_unknown_token(sender: str | None) -> bool:
    """Count one wrong token from ``sender``; False once it is over ``MISS_LIMIT``."""
    return ratelimits.hit(
        sender_rate_key(sender), limit=MISS_LIMIT, window_seconds=MISS_WINDOW_SECONDS
    )


def sender_address(request) -> str | None:
    """The sender's address, or None if it is not an IP address.

    X-Forwarded-For counts only when it comes from one of ``settings.TRUSTED_PROXIES``
    (see ``core.client_address``); otherwise this is REMOTE_ADDR, so a sender cannot
    choose the address it is recorded and limited under.
    """
    try:
        return str(ipaddress.ip_address(client_address(request)))
    except ValueError:
        return None


# --- Reading a notification -----------------------------------------------------------


def parse_notification(*sources: Mapping, mall: str = Mall.MAKESHOP) -> Notification:
    """What a notification says, read by the mall's own rules (see ``malls.providers``).

    Each source maps parameter names to values (the URL path, the body, the query
    string); the earliest source wins. Raises ``MalformedNotification``.
    """
    return providers.get(mall).parse_notification(*sources)


def check_shop(connection: MakeShopConnection, notification: Notification) -> str:
    """The shop ID the notification names when it is not the saved one, else "".

    Never a refusal: the token in the URL already proves the sender, and nothing
    published says MakeShop's [SHOPID] is the login shop ID (MakeShop also has a
    numeric shop number), so a mismatch is recorded for staff
    (``NotificationEvent.received_shop_id``) and the notification is kept.
    Compared without regard to case; a notification without a shop ID matches.
    """
    if not notification.shop_id:
        return ""
    expected = connection.makeshop_shop_id or ""
    if notification.shop_id.casefold() != expected.casefold():
        return notification.shop_id
    return ""


# --- Recording ------------------------------------------------------------------------


def record_notification(
    *,
    connection: MakeShopConnection,
    notification: Notification,
    sender: str | None = None,
    now=None,
) -> bool:
    """Record a notification; returns False when it repeated one already recorded.

    A shop ID other than the saved one is kept on the event (``check_shop``).
    Repeats of the same (kind, order) within a ``DEDUP_WINDOW_SECONDS`` window count
    into the first event's ``repeats``; the unique constraint decides under
    concurrent deliveries. An order number leaves one open ``OrderRefreshRequest``
    (the seam to the order import). The connection's last-notification columns are
    set by a single UPDATE, not ``save()``, so neither ``version`` nor a merchant's
    concurrent edit is touched; it comes last, so its row lock is held only until
    the commit. Joins the caller's transaction when there is one (the view commits
    its rate count with it: one WAL flush per notification).
    """
    now = now or timezone.now()
    window = int(now.timestamp()) // NotificationEvent.DEDUP_WINDOW_SECONDS
    key = {
        "connection_id": connection.pk,
        "kind": notification.kind,
        "order_number": notification.order_number,
        "dedup_window": window,
    }
    with transaction.atomic(savepoint=False):
        try:
            with transaction.atomic():
                NotificationEvent.objects.create(
                    **key,
                    raw_command=notification.raw_command,
                    received_at=now,
                    sender_address=sender,
                    received_shop_id=check_shop(connection, notification),
                )
            created = True
        except IntegrityError:
            NotificationEvent.objects.filter(**key).update(repeats=F("repeats") + 1)
            created = False
        if notification.order_number:
            # ON CONFLICT DO NOTHING / INSERT OR IGNORE: one statement whether or not
            # the order already waits for a refresh.
            OrderRefreshRequest.objects.bulk_create(
                [
                    OrderRefreshRequest(
                        connection_id=connection.pk,
                        order_number=notification.order_number,
                        requested_at=now,
                    )
                ],
                ignore_conflicts=True,
            )
        # Never moves backwards when deliveries finish out of order.
        MakeShopConnection.objects.filter(
            Q(last_notification_at__isnull=True) | Q(last_notification_at__lte=now),
            pk=connection.pk,
        ).update(last_notification_at=now, last_notification_kind=notification.kind)
    return created
