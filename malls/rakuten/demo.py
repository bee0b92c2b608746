"""Demo Rakuten shops for trying the product offline against the RMS sandbox.

One shop per state a merchant must be able to tell apart: working, expiring in a few
days, expired, and a new key waiting to become active. Each holds the sandbox's keys
for the matching demo shop (``malls.rakuten.sandbox.DEMO_SHOPS``), so a re-check
against the sandbox agrees with what is shown. The states are written directly: they
are fixtures for the screens, as in ``malls.demo``. Idempotent: a shop that already
has a connection is left alone. ``malls.demo.seed_demo`` can call ``seed`` with the
demo store.
"""

from datetime import timedelta

from django.utils import timezone

from malls.models import Mall, MallShop

from .api import Reason
from .connections import Status, japan_today
from .models import RakutenConnection
from .sandbox import DEMO_SHOPS

# (shop name, sandbox shop, status, reason, days until the key's expiry date)
DEMO = (
    ("楽天市場店", "demo-rakuten", Status.VERIFIED, "", 80),
    ("楽天市場 期限間近店", "demo-expiring", Status.VERIFIED, "", 3),
    ("楽天市場 期限切れ店", "demo-expired", Status.REJECTED, Reason.EXPIRED, -5),
    ("楽天市場 有効化待ち店", "demo-pending", Status.PENDING_ACTIVATION,
     Reason.PENDING_ACTIVATION, None),
)


def seed(store, *, now=None) -> list[str]:
    """Create the demo Rakuten shops of ``store`` that are missing; their names."""
    now = now or timezone.now()
    today = japan_today(now)
    mall = Mall.objects.get(code="rakuten")
    created = []
    for name, sandbox_shop, status, reason, days in DEMO:
        shop, _ = MallShop.objects.get_or_create(store=store, mall=mall, name=name)
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
            failed_check="expiry" if reason else "",
            expires_on=None if days is None else today + timedelta(days=days),
            reported_shop=sandbox_shop if verified else "",
            key_changed_at=now if status == Status.PENDING_ACTIVATION else now - timedelta(
                days=10
            ),
            verified_at=now - timedelta(days=1) if verified else None,
            last_checked_at=now,
            failing_since=now if reason else None,
        )
        created.append(name)
    return created
