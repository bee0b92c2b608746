"""Reading MakeShop's update notifications (更新通知): where values arrive, what they may be.

MakeShop substitutes ``[SHOPID]``, ``[ORDERNUM]`` and ``[CMD]`` into the URL the
merchant pastes, and may also send values in the body or the query string; its
format is not published, so parsing is lenient about where the values come from
and strict about what they may contain. Command names are matched loosely into a
``NotificationKind``. Finding the shop and recording live in
``malls.makeshop.notification_records``;
the endpoint in ``malls.makeshop.notification_views``.
"""

import re
import unicodedata
from collections.abc import Mapping

from django.urls import reverse

from ..providers import (
    RAW_COMMAND_MAX_LENGTH,
    MalformedNotification,
    Notification,
    NotificationKind,
)
from .api import SHOP_ID_RE

Kind = NotificationKind

# What MakeShop substitutes into the URL the merchant pastes.
PLACEHOLDER_SUFFIX = "[SHOPID]/[ORDERNUM]/[CMD]/"

_ORDER_NUMBER_RE = re.compile(r"[A-Za-z0-9_-]{1,64}", re.ASCII)
# "[SHOPID]", "[ORDERNUM]", ... left in place when MakeShop had nothing to substitute.
_PLACEHOLDER_RE = re.compile(r"\[[A-Za-z_]*\]", re.ASCII)

# Parameter names as they may arrive, after casefolding and dropping "_" and "-".
_FIELD_ALIASES = {
    "shopid": "shop_id",
    "ordernum": "order_number",
    "ordernumber": "order_number",
    "cmd": "command",
    "command": "command",
}


def notification_path(connection) -> str:
    """The path to paste into MakeShop's 更新通知APIのURL, placeholders included."""
    return (
        reverse("makeshop_notify:receive", kwargs={"token": connection.notification_token})
        + PLACEHOLDER_SUFFIX
    )


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
    if shop_id and not SHOP_ID_RE.fullmatch(shop_id):
        raise MalformedNotification("shop ID is not one MakeShop would issue")
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
    return " ".join(printable.split())[:RAW_COMMAND_MAX_LENGTH]
