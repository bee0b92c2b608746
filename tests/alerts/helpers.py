"""Builders for the alert tests: a shop that works with the sandbox, then breaks, then is fixed."""

from dataclasses import replace

from malls.makeshop import services as makeshop_services
from malls.makeshop.models import MakeShopConnection
from malls.makeshop.sandbox import DemoShop, make_server
from tests.factories import make_connection, make_shop, make_store, make_user

# Canary values: none of them may ever appear in an e-mail, a header or an outbox row.
CANARY_ORDER_CODE = "canary0rder0c0de0000000000000001"
CANARY_NEW_ORDER_CODE = "canary0rder0c0de0000000000000002"
CANARY_PRODUCT_CODE = "canary-product-code-0003"
CANARY_PASSWORD = "canary-password-0004"
CANARIES = (CANARY_ORDER_CODE, CANARY_NEW_ORDER_CODE, CANARY_PRODUCT_CODE, CANARY_PASSWORD)

SHOP_ID = "alert-shop"
DEMO = DemoShop(SHOP_ID, CANARY_ORDER_CODE, CANARY_PRODUCT_CODE, CANARY_PASSWORD)


def sandbox(settings):
    server = make_server(shops={SHOP_ID: DEMO}).start_in_thread()
    settings.MAKESHOP_API_BASE_URL = server.url
    return server


def digest_staff(*, email, **extra):
    """A staff user who may view shops' connections in the admin, so gets the digest."""
    from django.contrib.auth.models import Permission

    user = make_user(is_staff=True, email=email, **extra)
    user.user_permissions.add(
        Permission.objects.get(content_type__app_label="malls", codename="view_makeshopconnection")
    )
    return user


def member(store, *, email=None, **extra):
    user = make_user(email=email if email is not None else f"{next_name()}@shop.example", **extra)
    store.memberships.create(user=user)
    return user


_names = iter(range(1, 10**6))


def next_name() -> str:
    return f"member{next(_names)}"


def working_shop(*, all_secrets=False, store=None):
    """A connection MakeShop has verified (order code only, unless ``all_secrets``)."""
    shop = make_shop(store=store or make_store(name="アラート店舗"), name="本店ショップ")
    connection = make_connection(
        shop=shop,
        makeshop_shop_id=SHOP_ID,
        order_auth_code=CANARY_ORDER_CODE,
        password=CANARY_PASSWORD if all_secrets else None,
        product_auth_code=CANARY_PRODUCT_CODE if all_secrets else None,
    )
    makeshop_services.verify_connection(connection=fresh(connection))
    connection = fresh(connection)
    assert connection.status == MakeShopConnection.Status.VERIFIED
    return connection


def fresh(connection):
    return MakeShopConnection.objects.select_related("shop").get(pk=connection.pk)


def reissue_code_in_makeshop(server, code=CANARY_NEW_ORDER_CODE):
    """The merchant pressed 変更 in MakeShop: the saved code stops working."""
    server.shops[SHOP_ID] = replace(server.shops[SHOP_ID], order_token=code)


def recheck(connection):
    """A background re-verification of the saved settings."""
    connection = fresh(connection)
    makeshop_services.verify_connection(connection=connection)
    return fresh(connection)


def enter_new_code(connection, code=CANARY_NEW_ORDER_CODE):
    """The merchant enters the new code on the settings screen."""
    connection = fresh(connection)
    result = makeshop_services.apply_makeshop_settings(
        connection=connection, shop_id=SHOP_ID, new_secrets={"order_auth_code": code},
        expected_version=connection.version,
    )
    assert result.saved
    return fresh(connection)
