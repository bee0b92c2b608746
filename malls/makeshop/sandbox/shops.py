"""The sandbox's demo data: shops with the codes it accepts, and the orders it holds."""

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from types import MappingProxyType


class Behaviour(StrEnum):
    """How a demo shop answers, besides its codes; all but NORMAL are alternatives to
    what public sources show (see ``answers``: each is marked invented there)."""

    NORMAL = "normal"
    NOT_APPROVED = "not_approved"  # API use not approved by MakeShop yet
    MAINTENANCE = "maintenance"  # every call: HTTP 503 maintenance page
    EMPTY_MESSAGE = "empty_message"  # an empty period answers a message-only document
    RETIRED = "retired"  # the legacy API paths answer 404 (the API was closed)
    RETIRED_PAGE = "retired_page"  # the legacy API paths answer a web page (HTTP 200)
    BLOCK = "block"  # a call breaking the rate limit blocks the shop for a while


@dataclass(frozen=True)
class DemoShop:
    """A shop the sandbox knows, with the codes it accepts."""

    shop_id: str
    order_token: str
    product_code: str
    password: str
    encoding: str = "UTF-8"  # "UTF-8" or "EUC-JP"
    # False: the XML has no encoding declaration and HTTP names no charset.
    declares_encoding: bool = True
    # True: an order placed 30 s before each call, so "the last minute" is not empty.
    recent_order: bool = False
    behaviour: Behaviour = Behaviour.NORMAL
    notes: str = field(default="", compare=False)

    @property
    def api_enabled(self) -> bool:
        return self.behaviour is not Behaviour.NOT_APPROVED

    @property
    def maintenance(self) -> bool:
        return self.behaviour is Behaviour.MAINTENANCE

    @property
    def description(self) -> str:
        """How the sandbox treats the shop, in a few words for the command's listing."""
        return self.notes or f"answers in {self.encoding}"


def _product_code(n: int) -> str:
    """A demo product code: 32 lowercase hex characters, like MakeShop's (and obviously made up)."""
    return f"{n}" * 8 + "d" * 8 + "e" * 8 + f"{n}" * 8


def _shop(shop_id, order_token, product_code, password, notes, **options) -> DemoShop:
    return DemoShop(shop_id, order_token, product_code, password, notes=notes, **options)


DEMO_SHOPS: Mapping[str, DemoShop] = MappingProxyType(
    {
        shop.shop_id: shop
        for shop in (
            _shop("demo-shop", "0123456789abcdef0123456789abcdef", _product_code(1),
                  "demo-admin-password", "a working shop (UTF-8); the last minute has no orders"),
            _shop("demo-eucjp", "fedcba9876543210fedcba9876543210", _product_code(2),
                  "demo-eucjp-password", "a working shop answering in EUC-JP, with an order "
                  "30 s old", encoding="EUC-JP", recent_order=True),
            _shop("demo-pending", "0000000000000000ffffffffffffffff", _product_code(3),
                  "demo-pending-password", "API use not yet approved by MakeShop",
                  behaviour=Behaviour.NOT_APPROVED),
            _shop("demo-maint", "ffffffffffffffff0000000000000000", _product_code(4),
                  "demo-maint-password", "MakeShop under maintenance (503)",
                  behaviour=Behaviour.MAINTENANCE),
            _shop("demo-eucjp-bare", "0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f", _product_code(5),
                  "demo-bare-password", "EUC-JP without an XML declaration or HTTP charset, "
                  "with an order 30 s old", encoding="EUC-JP", declares_encoding=False,
                  recent_order=True),
            _shop("demo-empty-message", "1111111111111111aaaaaaaaaaaaaaaa", _product_code(6),
                  "demo-empty-password", "an empty period answers a message-only document "
                  "(invented)", behaviour=Behaviour.EMPTY_MESSAGE),
            _shop("demo-retired", "2222222222222222bbbbbbbbbbbbbbbb", _product_code(7),
                  "demo-retired-password", "the legacy API is gone: its paths answer 404 "
                  "(invented)", behaviour=Behaviour.RETIRED),
            _shop("demo-retired-page", "3333333333333333cccccccccccccccc", _product_code(8),
                  "demo-page-password", "the legacy API paths answer a web page "
                  "(invented)", behaviour=Behaviour.RETIRED_PAGE),
            _shop("demo-block", "4444444444444444dddddddddddddddd", _product_code(9),
                  "demo-block-password", "a call breaking the rate limit blocks the shop for "
                  "a minute: 403 page (invented)", behaviour=Behaviour.BLOCK),
        )
    }
)


@dataclass(frozen=True)
class DemoOrder:
    ordernum: str
    placed_at: datetime  # MakeShop local time, naive
    status: str  # 0 cancelled, 1 normal, 99 仮注文 (payment not finished)
    payment_status: str
    paymethod: str  # a code as seen in public clients (R, N, B, Z, D1, B1); meaning assumed
    paymethod_name: str
    buyer: str
    buyer_kana: str


def demo_orders(now: datetime, *, recent: bool = False) -> list[DemoOrder]:
    """Orders dated relative to ``now``; with ``recent`` one is 30 seconds old."""
    orders = [
        DemoOrder("D000000102", now - timedelta(days=1), "99", "0", "B", "銀行振込",
                  "佐藤 花子", "サトウ ハナコ"),
        DemoOrder("D000000103", now - timedelta(days=2), "0", "0", "D1", "代金引換",
                  "鈴木 一郎", "スズキ イチロウ"),
    ]
    if recent:
        orders.insert(0, DemoOrder("D000000101", now - timedelta(seconds=30), "1", "1", "R",
                                   "クレジットカード", "山田 太郎", "ヤマダ タロウ"))
    else:
        orders.insert(0, DemoOrder("D000000101", now - timedelta(hours=2), "1", "1", "R",
                                   "クレジットカード", "山田 太郎", "ヤマダ タロウ"))
    return orders
