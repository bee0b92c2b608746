"""What the generic merchant screens show, in the merchant's words, ready for a template.

A status is a label, a tone (ok, warning, error or neutral; also the CSS modifier),
a moment with its label, and advice. 出店中のモール一覧 asks each mall's provider for
its shops' rows (``MallProvider.list_rows``), so the list never knows a mall.
Nothing here shows a secret or a token.
"""

from dataclasses import dataclass, field
from datetime import datetime

from django.utils.translation import get_language

from . import providers
from .models import MallShop


@dataclass(slots=True)
class ConnectionStatus:
    """How a connection is shown to the merchant: a label, a tone, when, what to do."""

    label: str
    tone: str  # ok, warning, error or neutral; also the CSS modifier
    at: datetime | None = None
    at_label: str = ""
    advice: str = ""


@dataclass(slots=True)
class LastNotification:
    """The last update notification the mall sent for a shop, if any."""

    at: datetime | None = None
    event: str = ""


@dataclass(slots=True)
class MallRow:
    """What a mall's provider says of one of its shops for the list."""

    shop_id: str = ""
    settings_url: str = ""
    api_label: str = ""
    status: ConnectionStatus | None = None
    extra: ConnectionStatus | None = None  # a second connection shown beside (MakeShop's app)
    notification: LastNotification = field(default_factory=LastNotification)


# --- 出店中のモール一覧 ----------------------------------------------------------------------


@dataclass(slots=True)
class ShopRow:
    """One line of 出店中のモール一覧, ready to print."""

    name: str
    mall_name: str
    shop_id: str
    application: str
    settings_url: str  # empty for malls not set up on these screens
    api_label: str
    status: ConnectionStatus | None  # None for malls not set up on these screens
    app: ConnectionStatus | None  # a second connection shown beside (MakeShop's app)
    notification: LastNotification


def shop_rows(store) -> list[ShopRow]:
    """The store's shops: one query, then one per mall that has shops in the store."""
    # Ordered explicitly: the model's default ordering starts with "store", a join to
    # the store table that a list of one store's shops does not need.
    shops = list(
        MallShop.objects.filter(store=store)
        .order_by("mall__sort_order", "name", "pk")
        .values("pk", "name", "application_status", "mall__code", "mall__name", "mall__name_en")
    )
    by_mall = {}
    for shop in shops:
        by_mall.setdefault(shop["mall__code"], []).append(shop["pk"])
    mall_rows = {}
    registered = providers.registered()
    for code, pks in by_mall.items():
        if code in registered:
            mall_rows.update(registered[code].list_rows(pks))
    in_japanese = (get_language() or "").startswith("ja")
    applications = dict(MallShop.ApplicationStatus.choices)
    return [
        _shop_row(shop, mall_rows.get(shop["pk"]) or MallRow(), in_japanese, applications)
        for shop in shops
    ]


def _shop_row(shop, row: MallRow, in_japanese, applications) -> ShopRow:
    return ShopRow(
        name=shop["name"],
        mall_name=(
            shop["mall__name"] if in_japanese or not shop["mall__name_en"]
            else shop["mall__name_en"]
        ),
        shop_id=row.shop_id,
        application=str(applications.get(shop["application_status"], "")),
        settings_url=row.settings_url,
        api_label=row.api_label if row.settings_url else "",
        status=row.status,
        app=row.extra,
        notification=row.notification,
    )
