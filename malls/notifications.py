"""MakeShop's update notifications (更新通知): who sent one, what it says, and recording it.

A notification is only a hint that an order changed; MakeShop's format is not
published (see ``../shared/docs/makeshop-api.md``), so parsing is lenient about where the
values come from and strict about what they may contain. Recording folds repeats
into one event and leaves an ``OrderRefreshRequest`` for the order import, which
fetches the real order later. The HTTP side lives in ``malls.notification_views``.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import re
import secrets
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass

from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.urls import reverse
from django.utils import timezone

from core.client_address import client_address

from .models import MakeShopConnection, NotificationEvent, OrderRefreshRequest

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

# What MakeShop substitutes into the URL the merchant pastes.
PLACEHOLDER_SUFFIX = "[SHOPID]/[ORDERNUM]/[CMD]/"

_TOKEN_RE = re.compile(r"[A-Za-z0-9_-]{20,64}", re.ASCII)
_ORDER_NUMBER_RE = re.compile(r"[A-Za-z0-9_-]{1,64}", re.ASCII)
_SHOP_ID_RE = re.compile(r"[A-Za-z0-9_-]{1,64}", re.ASCII)
# "[SHOPID]", "[ORDERNUM]", ... left in place when MakeShop had nothing to substitute.
_PLACEHOLDER_RE = re.compile(r"\[[A-Za-z_]*\]", re.ASCII)
_RAW_COMMAND_MAX = NotificationEvent._meta.get_field("raw_command").max_length

# Compared against when no row matched, so a miss costs the same comparisons as a hit.
_DUMMY_TOKEN = secrets.token_urlsafe(32).encode()

# Parameter names as they may arrive, after casefolding and dropping "_" and "-".
_FIELD_ALIASES = {
    "shopid": "shop_id",
    "ordernum": "order_number",
    "ordernumber": "order_number",
    "cmd": "command",
    "command": "command",
}


class NotificationRejected(Exception):
    """A notification refused before anything is recorded.

    ``status`` is the HTTP answer MakeShop gets (with no detail); the message is for
    our log only.
    """

    status = 400


class MalformedNotification(NotificationRejected):
    """A value is not something MakeShop would send (bad order number, unreadable body)."""


class ShopMismatch(NotificationRejected):
    """The shop ID sent is not the one the token belongs to: most likely the merchant
    pasted another shop's URL into MakeShop."""

    status = 403


@dataclass(frozen=True)
class Notification:
    """What one notification says; empty strings where MakeShop sent nothing usable."""

    shop_id: str = ""
    order_number: str = ""
    kind: str = Kind.OTHER
    raw_command: str = ""


# --- Finding the shop -----------------------------------------------------------------


def notification_path(connection: MakeShopConnection) -> str:
    """The path to paste into MakeShop's 更新通知APIのURL, placeholders included."""
    return (
        reverse("makeshop_notify:receive", kwargs={"token": connection.notification_token})
        + PLACEHOLDER_SUFFIX
    )


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


def parse_notification(*sources: Mapping) -> Notification:
    """Merge the values found in ``sources`` (earliest wins) and validate them.

    Each source maps parameter names to values: the URL path, the body, the query
    string. Names are matched loosely (``shopid``/``shop_id``, ``ordernum``/
    ``order_num``, ``cmd``); an empty value or a placeholder MakeShop left
    unsubstituted counts as missing.
    """
    values: dict[str, str] = {}
    for source in sources:
        for name, value in source.items():
            field = _FIELD_ALIASES.get(re.sub(r"[_-]", "", str(name).casefold()))
            if field is None or field in values:
                continue
            value = _present(value)
            if value:
                values[field] = value
    shop_id = values.get("shop_id", "")
    if shop_id and not _SHOP_ID_RE.fullmatch(shop_id):
        raise MalformedNotification("shop ID has characters MakeShop never uses")
    order_number = values.get("order_number", "")
    if order_number and not _ORDER_NUMBER_RE.fullmatch(order_number):
        raise MalformedNotification("order number is not 1-64 letters, digits, '-' or '_'")
    command = values.get("command", "")
    return Notification(
        shop_id=shop_id,
        order_number=order_number,
        kind=kind_for_command(command),
        raw_command=sanitize_command(command),
    )


def _present(value) -> str:
    if isinstance(value, (list, tuple)):
        value = value[-1] if value else ""
    if not isinstance(value, (str, int)) or isinstance(value, bool):
        return ""
    value = str(value).strip()
    if _PLACEHOLDER_RE.fullmatch(value):
        return ""
    return value


def check_shop(connection: MakeShopConnection, notification: Notification) -> None:
    """Refuse a notification naming a shop other than the token's.

    Compared without regard to case: the token already proves the sender; the shop ID
    only catches a URL pasted into the wrong shop. A notification without a shop ID
    is accepted.
    """
    if not notification.shop_id:
        return
    expected = connection.makeshop_shop_id or ""
    if notification.shop_id.casefold() != expected.casefold():
        raise ShopMismatch(f"shop ID does not match connection {connection.pk}")


# Command names are not published. Exact names first (normalised: NFKC, casefolded,
# separators and a trailing 時 dropped), then distinctive fragments in an order where
# the more specific event wins ("order_cancel" is a cancellation, not a new order).
_EXACT_COMMANDS = {
    Kind.NEW_ORDER: (
        "order", "new", "neworder", "ordernew", "create", "created", "add", "insert",
        "regist", "register", "entry", "accept", "juchu", "受注", "新規", "新規注文", "注文",
    ),
    Kind.ORDER_EDITED: (
        "edit", "edited", "update", "updated", "modify", "modified", "mod", "upd", "change",
        "changed", "orderedit", "orderupdate", "ordermodify", "ordermod", "shusei", "修正",
        "変更", "注文修正", "注文内容修正", "注文変更", "受注修正", "受注変更",
    ),
    Kind.ORDER_CANCELLED: (
        "cancel", "canceled", "cancelled", "ordercancel", "delete", "deleted", "del",
        "torikeshi", "キャンセル", "注文キャンセル", "取消", "取り消し", "注文取消",
    ),
    Kind.PAYMENT_COMPLETED: (
        "pay", "paid", "payment", "paymentcomplete", "paymentcompleted", "settle", "settled",
        "deposit", "nyukin", "入金", "入金完了", "決済", "決済完了", "支払", "支払い", "支払完了",
    ),
    Kind.DELIVERY_COMPLETED: (
        "deliver", "delivered", "delivery", "deliverycomplete", "deliverycompleted", "ship",
        "shipped", "shipping", "sent", "haiso", "haisou", "hasso", "hassou", "配送",
        "配送完了", "発送", "発送完了", "出荷", "出荷完了",
    ),
}
_COMMAND_KIND = {name: kind for kind, names in _EXACT_COMMANDS.items() for name in names}
_COMMAND_FRAGMENTS = (
    (Kind.ORDER_CANCELLED, ("cancel", "キャンセル", "取消", "取り消")),
    (Kind.PAYMENT_COMPLETED, ("payment", "paid", "入金", "決済", "支払")),
    (Kind.DELIVERY_COMPLETED, ("deliver", "ship", "配送", "発送", "出荷")),
    (Kind.ORDER_EDITED, ("edit", "update", "modif", "change", "修正", "変更")),
    (Kind.NEW_ORDER, ("neworder", "create", "regist", "受注", "新規")),
)


def kind_for_command(command: str) -> str:
    """The event a command names; anything unrecognised (or nothing) is OTHER."""
    name = re.sub(r"[\s_.\-・]", "", unicodedata.normalize("NFKC", command).casefold())
    name = name.removesuffix("時")
    if not name:
        return Kind.OTHER
    if name in _COMMAND_KIND:
        return _COMMAND_KIND[name]
    for kind, fragments in _COMMAND_FRAGMENTS:
        if any(fragment in name for fragment in fragments):
            return kind
    return Kind.OTHER


def sanitize_command(command: str) -> str:
    """The command as sent, safe to show: control and format characters removed, cut short."""
    printable = "".join(
        " " if char.isspace() else char
        for char in unicodedata.normalize("NFKC", command)
        if char.isspace() or unicodedata.category(char)[0] != "C"
    )
    return " ".join(printable.split())[:_RAW_COMMAND_MAX]


# --- Recording ------------------------------------------------------------------------


def record_notification(
    *,
    connection: MakeShopConnection,
    notification: Notification,
    sender: str | None = None,
    now=None,
) -> bool:
    """Record a notification; returns False when it repeated one already recorded.

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
