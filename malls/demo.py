"""Demo data for trying the product offline against the bundled sandboxes.

The users, stores and shops of malls GoQ does not connect yet are made here; each
mall's provider seeds its own shops (``seed_demo``), each showing one state of its
connection, so every screen has something to show. Idempotent: rows are looked up by
their names and created only when missing; secrets are set only on creation.
Shops and memberships are created through ``malls.services`` like any others, so
they have their history.

Demo users have addresses on example.jp (reserved for examples, RFC 2606), so alert
e-mails are addressed to them: under ``make run`` the console backend prints them in
``db_worker``'s output.
"""

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, Permission
from django.db import transaction
from django.utils import timezone

from . import providers, services
from .alerts import notices
from .models import ChangeRecord, Mall, MallShop, Store

DEMO_PASSWORD = "demo-pass-2026"  # noqa: S105 (documented demo login, refused when DEBUG is off)
EMAIL_DOMAIN = "example.jp"  # reserved for examples: nothing is ever delivered there
STAFF_GROUP = "GoQ staff"

OTHER_MALL_SHOPS = [
    ("デモ店舗", "rakuten", "楽天市場店"),
    ("デモ店舗", "yahoo", "Yahoo!ショッピング店"),
    ("別の店舗", "amazon", "Amazon店"),
]


def _user(username, **flags):
    email = f"{username}@{EMAIL_DOMAIN}"
    user, created = get_user_model().objects.get_or_create(
        username=username, defaults={"email": email, **flags}
    )
    if created:
        user.set_password(DEMO_PASSWORD)
        user.save()
    elif not user.email:  # seeded before demo users had an address
        user.email = email
        user.save(update_fields=["email"])
    return user


def _staff_group():
    group, _ = Group.objects.get_or_create(name=STAFF_GROUP)
    permissions = (
        Permission.objects.filter(content_type__app_label="malls")
        | Permission.objects.filter(content_type__app_label="auth", codename="view_user")
        | Permission.objects.filter(
            content_type__app_label="django_tasks_database", codename="view_dbtaskresult"
        )
        # Unlocking a sign-in (docs/operations.md): see and delete access attempts.
        | Permission.objects.filter(
            content_type__app_label="axes",
            codename__in=["view_accessattempt", "delete_accessattempt"],
        )
    )
    group.permissions.add(*permissions)
    return group


def _shop(store, mall, name) -> tuple[MallShop, bool]:
    """The store's shop of that name on ``mall``, added through the service if missing."""
    shop = MallShop.objects.filter(store=store, mall=mall, name=name).first()
    if shop is not None:
        return shop, False
    return (
        services.add_shop(store=store, mall=mall, name=name, source=ChangeRecord.Source.COMMAND),
        True,
    )


@transaction.atomic
def seed_demo() -> list[str]:
    """Create the demo users, stores and shops; return the lines to print."""
    staff = _user("staff", is_staff=True)
    staff.groups.add(_staff_group())
    merchants = {"デモ店舗": _user("demo-merchant"), "別の店舗": _user("other-merchant")}
    stores = {}
    for name, user in merchants.items():
        stores[name], _ = Store.objects.get_or_create(name=name)
        services.add_member(store=stores[name], user=user, source=ChangeRecord.Source.COMMAND)
    now = timezone.now()
    lines = []
    for provider in providers.registered().values():
        seed = getattr(provider, "seed_demo", None)
        if seed is not None:
            lines += seed(stores, add_shop=_shop, now=now)
    # Warnings already due for the demo shops (a key about to expire) go out with the
    # worker's first run, as the periodic send_alerts would send them.
    notices.queue_due(now=now)
    for store_name, mall_code, shop_name in OTHER_MALL_SHOPS:
        _shop(stores[store_name], Mall.objects.get(code=mall_code), shop_name)
    return [
        f"Demo logins (password for all: {DEMO_PASSWORD}):",
        "  staff           -> /admin/  (GoQ staff)",
        "  demo-merchant   -> /settings/malls/  (store デモ店舗)",
        "  other-merchant  -> /settings/malls/  (store 別の店舗)",
        f"Alert e-mails go to <login>@{EMAIL_DOMAIN} and are printed in db_worker's output.",
        *lines,
    ]
