"""Demo Rakuten shops for trying the product offline against the RMS sandbox.

One shop per state a merchant must be able to tell apart: working, expiring in a few
days, expired, and a new key waiting to become active. Each holds the sandbox's keys
for the matching demo shop (``malls.rakuten.sandbox.DEMO_SHOPS``), so a re-check
against the sandbox agrees with what is shown. The states are written directly: they
are fixtures for the screens, as in ``malls.makeshop.demo``. Idempotent: a shop that
already has a connection is left alone. ``malls.demo.seed_demo`` calls ``seed``
through the provider; 楽天市場店 is the demo store's Rakuten shop it lists too.
"""

from datetime import timedelta

from malls.models import Mall

from .api import Check, Reason
from .client import MALL
from .connections import Status, japan_today
from .models import RakutenConnection
from .sandbox import DEMO_SHOPS

STORE = "デモ店舗"
# (shop name, sandbox shop, status, reason, days until the key's expiry date)
DEMO = (
    ("楽天市場店", "demo-rakuten", Status.VERIFIED, "", 80),
    ("楽天市場 期限間近店", "demo-expiring", Status.VERIFIED, "", 3),
    ("楽天市場 期限切れ店", "demo-expired", Status.REJECTED, Reason.EXPIRED, -5),
    ("楽天市場 有効化待ち店", "demo-pending", Status.PENDING_ACTIVATION,
     Reason.PENDING_ACTIVATION, None),
)


def seed(stores, *, add_shop, now) -> list[str]:
    """Create the demo Rakuten shops in the demo store (``stores`` by name) and their
    connections where missing; return the lines to print."""
    today = japan_today(now)
    mall = Mall.objects.get(code=MALL)
    for name, sandbox_shop, status, reason, days in DEMO:
        shop, _ = add_shop(stores[STORE], mall, name)
        if RakutenConnection.objects.filter(shop=shop).exists():
            continue
        keys = DEMO_SHOPS[sandbox_shop]
        verified = status == Status.VERIFIED or reason == Reason.EXPIRED
        RakutenConnection.objects.create(
            shop=shop,
            shop_url=sandbox_shop,
            service_secret=keys.service_secret,
            license_key=keys.license_key,
            status=status,
            failure_reason=reason,
            failed_check=Check.EXPIRY if reason else "",
            expires_on=None if days is None else today + timedelta(days=days),
            reported_shop=sandbox_shop if verified else "",
            key_changed_at=now if status == Status.PENDING_ACTIVATION else now - timedelta(
                days=10
            ),
            verified_at=now - timedelta(days=1) if verified else None,
            last_checked_at=now,
            failing_since=now if reason else None,
        )
    return [
        "Rakuten (RMS sandbox on the same port): 楽天市場店 works, 楽天市場 期限間近店 expires in "
        "3 days, 楽天市場 期限切れ店 has expired, 楽天市場 有効化待ち店 waits for its new key "
        "(`manage.py rakuten_sandbox --list` prints the sandbox's keys).",
    ]
