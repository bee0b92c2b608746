"""What arrived at the app webhooks, kept for staff: what it was, never what it said.

MakeShop has not published the order-update body, and nobody here has seen a real
webhook. So every accepted webhook leaves a receipt: its kind, the order numbers read
from it, whether its shape was recognised, which signature headers arrived (names
only), and its shape, that is key names, types and sizes, never a value
(``body_shape``). The first real webhooks then tell staff what MakeShop sends, and a
body GoQ cannot read is seen instead of lost. Receipts are pruned to the last
``KEPT_PER_INSTALLATION`` per installation (``KEPT_UNATTACHED`` for those naming no
known shop), now and then (``PRUNE_EVERY``) rather than on every webhook.

Reading an order update (``read_order_update``, assumed shape): every order number
under any of ``ORDER_KEYS`` in any object or list at any depth (one per object, the
first key found; lists of numbers under ``ORDER_LIST_KEYS``), and the shop ID under
any of ``SHOP_KEYS`` at most ``SHOP_ID_DEPTH`` objects down, the shallowest first.
Depth, breadth and count are bounded, so a hostile body costs little.
"""

from __future__ import annotations

import re
from collections import deque
from dataclasses import dataclass, field

from malls.makeshop import api

from .models import AppWebhookReceipt

Kind = AppWebhookReceipt.Kind

SHOP_KEYS = ("shop_id", "shopId", "shopid", "ShopId", "shopID", "SHOP_ID")
ORDER_KEYS = ("displayOrderNumber", "display_order_number", "orderNumber", "order_number",
              "ordernum", "systemOrderNumber", "system_order_number", "orderId", "order_id")
ORDER_LIST_KEYS = ("displayOrderNumbers", "orderNumbers", "order_numbers", "orderIds",
                   "order_ids")
EVENT_KEYS = ("event", "eventType", "event_type", "type", "action", "cmd", "topic")
SHOP_ID_DEPTH = 4
MAX_DEPTH = 12
MAX_NODES = 5000
MAX_ORDERS = 500
# The shape shown to staff: keys per object, characters per key name.
SHAPE_KEYS = 40
SHAPE_KEY_LENGTH = 64
# Signature headers looked for on every webhook (``signatures``): presence only.
SIGNATURE_HEADERS = ("x-makeshop-signature", "x-makeshop-request-timestamp")
MAX_HEADER_NAMES = 60
KEPT_PER_INSTALLATION = 50
KEPT_UNATTACHED = 200
# Pruning runs when a receipt's id is a multiple of this: a few more may be kept between.
PRUNE_EVERY = 8

_ORDER_NUMBER_RE = re.compile(r"[A-Za-z0-9_-]{1,64}", re.ASCII)


@dataclass(frozen=True)
class OrderUpdate:
    """What GoQ could read from an order-update body; empty where it found nothing."""

    shop_id: str = ""
    order_numbers: tuple[str, ...] = ()
    event: str = ""
    recognised: bool = False
    shape: dict | list | str = field(default_factory=dict)


def read_order_update(data, *, shop_id: str = "") -> OrderUpdate:
    """Shop ID, every order number and the event of an order-update body, leniently.

    ``shop_id`` is the one named in the URL, if any; it wins over the body's.
    Recognised: a shop ID was found and at least one order number.
    """
    shop_id = shop_id or _shop_id_in(data)
    orders = _order_numbers_in(data)
    event = next((v for v in (_scalar(data.get(k)) for k in EVENT_KEYS) if v), "") if (
        isinstance(data, dict)) else ""
    return OrderUpdate(
        shop_id=shop_id, order_numbers=tuple(orders), event=event,
        recognised=bool(shop_id and orders), shape=body_shape(data),
    )


def _scalar(value) -> str:
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    return value.strip() if isinstance(value, str) else ""


def _shop_id_in(data) -> str:
    queue, seen = deque([(data, 0)]), 0
    while queue and seen < MAX_NODES:
        node, depth = queue.popleft()
        seen += 1
        children = node.values() if isinstance(node, dict) else node if isinstance(
            node, list) else ()
        if isinstance(node, dict):
            for key in SHOP_KEYS:
                value = _scalar(node.get(key))
                if value and api.SHOP_ID_RE.fullmatch(value):
                    return value
        if depth < SHOP_ID_DEPTH:
            queue.extend((child, depth + 1) for child in children
                         if isinstance(child, (dict, list)))
    return ""


def _order_numbers_in(data) -> list[str]:
    found: dict[str, None] = {}  # ordered, without repeats
    stack, seen = [(data, 0)], 0
    while stack and seen < MAX_NODES and len(found) < MAX_ORDERS:
        node, depth = stack.pop()
        seen += 1
        if isinstance(node, dict):
            number = next((v for v in (_scalar(node.get(k)) for k in ORDER_KEYS)
                           if _ORDER_NUMBER_RE.fullmatch(v)), "")
            if number:
                found[number] = None
            for key in ORDER_LIST_KEYS:
                values = node.get(key)
                if isinstance(values, list):
                    found.update((v, None) for v in map(_scalar, values[:MAX_ORDERS])
                                 if _ORDER_NUMBER_RE.fullmatch(v))
            children = list(node.values())
        elif isinstance(node, list):
            children = node
        else:
            continue
        if depth < MAX_DEPTH:  # reversed: a stack visits them in the body's order
            stack.extend((child, depth + 1) for child in reversed(children[:MAX_NODES])
                         if isinstance(child, (dict, list)))
    return list(found)[:MAX_ORDERS]


def body_shape(data, depth: int = 0):
    """Key names, types and sizes of a JSON value, never a value.

    An object maps its (first ``SHAPE_KEYS``) key names to their shapes; a list is
    ``[length, shape of its first item]``; a string is ``"str:<length>"``; other
    values their type name.
    """
    if isinstance(data, dict):
        if depth >= MAX_DEPTH:
            return f"object:{len(data)}"
        shape = {_key_name(key): body_shape(value, depth + 1)
                 for key, value in list(data.items())[:SHAPE_KEYS]}
        if len(data) > SHAPE_KEYS:
            shape["…"] = f"{len(data) - SHAPE_KEYS} more keys"
        return shape
    if isinstance(data, list):
        if depth >= MAX_DEPTH or not data:
            return [len(data)]
        return [len(data), body_shape(data[0], depth + 1)]
    if isinstance(data, str):
        return f"str:{len(data)}"
    if isinstance(data, bool):
        return "bool"
    if data is None:
        return "null"
    return type(data).__name__


def _key_name(key) -> str:
    return "".join(char for char in str(key) if char.isprintable())[:SHAPE_KEY_LENGTH]


def signatures(request) -> list[str]:
    """The signature headers that arrived with a webhook: their names, never their values."""
    return [name for name in SIGNATURE_HEADERS if request.headers.get(name) is not None]


def header_names(request) -> list[str]:
    """Every header name a webhook came with, lower-cased and sorted, never a value."""
    names = sorted({_key_name(name).lower() for name in request.headers})
    return names[:MAX_HEADER_NAMES]


def record(*, kind, installation=None, shop_id="", order_numbers=(), recognised=True,
           shape=None, signature_headers=(), status=200, request=None,
           now=None) -> AppWebhookReceipt:
    """Keep one receipt and prune the oldest of its installation's (or the unattached) ones."""
    receipt = AppWebhookReceipt.objects.create(
        installation=installation, kind=kind, shop_id=shop_id[:api.SHOP_ID_MAX_LENGTH],
        order_numbers=list(order_numbers)[:MAX_ORDERS], recognised=recognised,
        shape=shape if shape is not None else {}, signature_headers=list(signature_headers),
        status=int(status), header_names=header_names(request) if request is not None else [],
        **({"received_at": now} if now else {}),
    )
    if receipt.pk % PRUNE_EVERY == 0:  # pruned now and then: one query less per webhook
        kept = KEPT_PER_INSTALLATION if installation is not None else KEPT_UNATTACHED
        same = AppWebhookReceipt.objects.filter(installation=installation)
        cutoff = next(iter(same.order_by("-pk").values_list("pk", flat=True)[kept:kept + 1]),
                      None)
        if cutoff is not None:
            same.filter(pk__lte=cutoff).delete()
    return receipt


def recent(installation, limit=KEPT_PER_INSTALLATION):
    """An installation's latest receipts, newest first (for staff)."""
    return installation.receipts.order_by("-pk")[:limit]
