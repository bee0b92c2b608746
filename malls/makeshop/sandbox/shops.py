"""The sandbox's demo data: shops with the codes it accepts, and the orders it holds."""

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from types import MappingProxyType


@dataclass(frozen=True)
class DemoShop:
    """A shop the sandbox knows, with the codes it accepts."""

    shop_id: str
    order_token: str
    product_code: str
    password: str
    encoding: str = "UTF-8"  # the XML declaration's label: "UTF-8" or "EUC-JP"
    api_enabled: bool = True
    maintenance: bool = False

    @property
    def behaviour(self) -> str:
        """How the sandbox treats the shop, in a few words for the command's listing."""
        if self.maintenance:
            return "always under maintenance: HTTP 503"
        if not self.api_enabled:
            return "API use not approved yet"
        return f"answers in {self.encoding}"


DEMO_SHOPS: Mapping[str, DemoShop] = MappingProxyType(
    {
        shop.shop_id: shop
        for shop in (
            DemoShop(
                "demo-shop",
                "0123456789abcdef0123456789abcdef",
                "demo-product-0001",
                "demo-admin-password",
            ),
            DemoShop(
                "demo-eucjp",
                "fedcba9876543210fedcba9876543210",
                "demo-product-0002",
                "demo-eucjp-password",
                encoding="EUC-JP",
            ),
            DemoShop(
                "demo-pending",
                "0000000000000000ffffffffffffffff",
                "demo-product-0003",
                "demo-pending-password",
                api_enabled=False,
            ),
            DemoShop(
                "demo-maint",
                "ffffffffffffffff0000000000000000",
                "demo-product-0004",
                "demo-maint-password",
                maintenance=True,
            ),
        )
    }
)


@dataclass(frozen=True)
class DemoOrder:
    ordernum: str
    placed_at: datetime  # MakeShop local time, naive
    status: str  # 0 cancelled, 1 normal, 99 仮注文 (payment not finished)
    payment_status: str
    paymethod: str
    buyer: str


def demo_orders(now: datetime) -> list[DemoOrder]:
    """Orders dated relative to ``now``: one is always 30 seconds old."""
    return [
        DemoOrder(
            "D000000101", now - timedelta(seconds=30), "1", "1", "クレジットカード", "山田 太郎"
        ),
        DemoOrder("D000000102", now - timedelta(days=1), "99", "0", "銀行振込", "佐藤 花子"),
        DemoOrder("D000000103", now - timedelta(days=2), "0", "0", "代金引換", "鈴木 一郎"),
    ]
