"""Small builders for the staff-side tests: staff users, demo-shop connections, the sandbox."""

from contextlib import contextmanager

from django.contrib.auth.models import Permission

from malls.makeshop.sandbox import DEMO_SHOPS, make_server

from .factories import make_connection, make_shop, make_store, make_user

# What a reviewing member of GoQ staff is given; tests take some away.
REVIEWER_PERMISSIONS = (
    "malls.view_makeshopconnection",
    "malls.change_makeshopconnection",
    "malls.verify_makeshopconnection",
    "malls.view_mallshop",
    "malls.change_mallshop",
    "malls.change_application",
    "malls.view_changerecord",
    "django_tasks_database.view_dbtaskresult",
)


def make_staff(*, permissions=REVIEWER_PERMISSIONS, **extra):
    """A staff user holding exactly ``permissions`` ("app_label.codename")."""
    user = make_user(is_staff=True, **extra)
    for dotted in permissions:
        app_label, codename = dotted.split(".")
        user.user_permissions.add(
            Permission.objects.get(content_type__app_label=app_label, codename=codename)
        )
    return user


def make_demo_connection(shop_id="demo-shop", *, store_name=None, only_order_code=False, **extra):
    """A connection holding the sandbox's good codes for one of its demo shops.

    ``only_order_code`` leaves the password and product code unset, so a
    verification makes one call (no one-second spacing to wait for).
    """
    demo = DEMO_SHOPS[shop_id]
    shop = make_shop(store=make_store(name=store_name) if store_name else None)
    return make_connection(
        shop=shop,
        makeshop_shop_id=shop_id,
        order_auth_code=demo.order_token,
        password=None if only_order_code else demo.password,
        product_auth_code=None if only_order_code else demo.product_code,
        **extra,
    )


@contextmanager
def sandbox_for(settings, **options):
    """A running sandbox that the app (and this process's jobs) talk to."""
    server = make_server(**options).start_in_thread()
    settings.MAKESHOP_API_BASE_URL = server.url
    try:
        yield server
    finally:
        server.shutdown()
