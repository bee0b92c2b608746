"""The RMS sandbox's demo shops: the keys it accepts and how each one answers.

The keys are sandbox-only and worthless anywhere else. ``SANDBOX_SERVICE_SECRET``
plays GoQ's registered product (model B): it is accepted with any demo licenseKey.
"""

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from types import MappingProxyType

# GoQ's product's serviceSecret in the sandbox (RAKUTEN_SERVICE_SECRET for model B trials).
SANDBOX_SERVICE_SECRET = "SP000000_sandboxgoqproduct"  # noqa: S105 - sandbox-only

# A new key stays inactive this long in the sandbox (peers report 10 to 90 minutes).
PENDING_SECONDS = 15 * 60


class Behaviour(StrEnum):
    NORMAL = "normal"
    EXPIRED = "expired"  # every call: 401 GA0001 (bfaith-portal's observation)
    PENDING = "pending"  # every call refused (ES01-01) until activated
    NO_ORDERS = "no_orders"  # rpay.order.searchOrder not enabled
    NO_EXPIRY = "no_expiry"  # license.expiryDate.get not enabled
    NO_SHOP = "no_shop"  # shop.shopMaster.get not enabled
    BUSY = "busy"  # every call: 429 with Retry-After
    DOWN = "down"  # every call: 503


@dataclass(frozen=True)
class DemoShop:
    shop_url: str
    service_secret: str
    license_key: str
    behaviour: Behaviour = Behaviour.NORMAL
    expires_in_days: int = 80  # from the sandbox's today, in Japan
    shop_name: str = ""
    # Calls whose RMS function is not enabled, besides the behaviour's ("expiry",
    # "orders", "shop"): for shops missing several functions.
    missing: frozenset = frozenset()
    notes: str = field(default="", compare=False)


def _shop(number: int, shop_url: str, notes: str, **options) -> DemoShop:
    return DemoShop(
        shop_url,
        f"SP90000{number}_sandboxsecret{number:03d}",
        f"SL90000{number}_sandboxlicense{number:03d}",
        shop_name=f"デモ楽天ショップ{number}",
        notes=notes,
        **options,
    )


DEMO_SHOPS: Mapping[str, DemoShop] = MappingProxyType(
    {
        shop.shop_url: shop
        for shop in (
            _shop(1, "demo-rakuten", "working; the key expires in 80 days"),
            _shop(2, "demo-expiring", "working; the key expires in 3 days", expires_in_days=3),
            _shop(3, "demo-expired", "expired 5 days ago: every call 401 GA0001",
                  expires_in_days=-5, behaviour=Behaviour.EXPIRED),
            _shop(4, "demo-pending", "a new key: refused (ES01-01) until it activates "
                  f"({PENDING_SECONDS // 60} minutes after the sandbox starts)",
                  behaviour=Behaviour.PENDING),
            _shop(5, "demo-no-orders", "rpay.order.searchOrder not enabled",
                  behaviour=Behaviour.NO_ORDERS),
            _shop(6, "demo-no-expiry", "license.expiryDate.get not enabled",
                  behaviour=Behaviour.NO_EXPIRY),
            _shop(7, "demo-no-shop", "shop.shopMaster.get not enabled",
                  behaviour=Behaviour.NO_SHOP),
            _shop(8, "demo-neighbour", "working: save its keys under another shop URL to see "
                  "\"keys of another shop\""),
            _shop(9, "demo-busy", "every call: 429 Too Many Requests (invented)",
                  behaviour=Behaviour.BUSY),
            _shop(0, "demo-down", "every call: 503 (invented)", behaviour=Behaviour.DOWN),
        )
    }
)
