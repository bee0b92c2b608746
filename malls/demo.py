"""Demo data for trying the product offline against the bundled MakeShop sandbox.

Each MakeShop shop shows one verification or application state, so every screen
has something to show. Idempotent: rows are looked up by their names and created
only when missing; secrets are set only on creation.

Shops and memberships are created through ``malls.services`` like any others, so
they have their history. The verification and application states are written
directly: they are fixtures for the screens, and no service may invent a verdict
MakeShop never gave or skip the application's workflow. Verified demo shops whose
codes are the sandbox's also count as proof of control of their shop ID, so
installing GoQ's app in the sandbox's ``demo-shop`` links it to デモショップ本店 by itself.

One shop is connected through GoQ's MakeShop app (new API) only: ``APP_SHOPS``. Its
installation is stored and assigned through ``malls.makeshop.app.installations``
(history, encrypted token: the sandbox's demo token for ``demo-app``), then marked
verified directly, as demo data like the states above; the verification the install
queues checks it against the sandbox for real once ``db_worker`` runs it. Rerunning
leaves an existing installation alone (uninstalled stays uninstalled: reinstall it
with ``manage.py makeshop_sandbox install-app --shop demo-app``).
"""

from datetime import timedelta

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, Permission
from django.db import transaction
from django.utils import timezone

from . import services
from .makeshop.api import Check, Reason
from .makeshop.app import installations
from .makeshop.app.models import AppInstallationEvent, MakeShopAppInstallation
from .makeshop.app.sandbox import DEMO_APP_SHOPS, SANDBOX_APP_NAME
from .makeshop.sandbox import DEMO_SHOPS
from .models import ChangeRecord, MakeShopConnection, Mall, MallShop, Store

DEMO_PASSWORD = "demo-pass-2026"  # noqa: S105 (documented demo login, refused when DEBUG is off)
STAFF_GROUP = "GoQ staff"

Status = MakeShopConnection.Status
Application = MallShop.ApplicationStatus


def _demo_codes(shop_id):
    """The sandbox's codes for its demo shops; made-up ones (which it rejects) otherwise."""
    shop = DEMO_SHOPS.get(shop_id)
    if shop is None:
        return {
            "password": "not-the-password",
            "order_auth_code": "ffffffffffffffffffffffffffffffff",
            "product_auth_code": "not-the-product-code",
        }
    return {
        "password": shop.password,
        "order_auth_code": shop.order_token,
        "product_auth_code": shop.product_code,
    }


# (store, shop name, MakeShop shop ID, verification status, application, extra)
MAKESHOP_SHOPS = [
    ("デモ店舗", "デモショップ本店", "demo-shop", Status.VERIFIED, Application.APPROVED, {}),
    ("デモ店舗", "EUC-JPショップ", "demo-eucjp", Status.VERIFIED, Application.APPLIED, {}),
    ("デモ店舗", "API承認待ちショップ", "demo-pending", Status.REJECTED, Application.APPLIED,
     {"failed_check": Check.ORDER_AUTH_CODE, "failure_reason": Reason.NOT_ENABLED}),
    ("デモ店舗", "メンテナンス中ショップ", "demo-maint", Status.UNVERIFIED, Application.NOT_APPLIED,
     {"failed_check": Check.ORDER_AUTH_CODE, "failure_reason": Reason.MAINTENANCE}),
    ("デモ店舗", "コード再発行ショップ", "demo-reissued", Status.REJECTED, Application.APPROVED,
     {"failed_check": Check.ORDER_AUTH_CODE, "failure_reason": Reason.TOKEN_REJECTED,
      "days_failing": 3}),
    ("デモ店舗", "確認待ちショップ", "demo-queued", Status.PENDING, Application.NOT_APPLIED, {}),
    # MakeShop's legacy API answering as if retired (404 on the API path in the sandbox).
    ("デモ店舗", "従来API終了ショップ", "demo-retired", Status.UNVERIFIED, Application.APPROVED,
     {"failed_check": Check.ORDER_AUTH_CODE, "failure_reason": Reason.LEGACY_API_RETIRED}),
    # An empty period answered with a message we cannot read as a verdict.
    ("デモ店舗", "空応答メッセージショップ", "demo-empty-message", Status.UNVERIFIED,
     Application.APPLIED,
     {"failed_check": Check.ORDER_AUTH_CODE, "failure_reason": Reason.UNKNOWN_MESSAGE,
      "makeshop_message": "該当する注文データがありません"}),
    ("デモ店舗", "これから設定するショップ", None, Status.UNSET, Application.WITHDRAWN, {}),
    ("別の店舗", "別の店舗のショップ", "other-shop", Status.VERIFIED, Application.APPROVED, {}),
]
# (store, shop name, MakeShop shop ID): shops connected through GoQ's MakeShop app only.
APP_SHOPS = [
    ("デモ店舗", "アプリ連携ショップ", "demo-app"),
]
OTHER_MALL_SHOPS = [
    ("デモ店舗", "rakuten", "楽天市場店"),
    ("デモ店舗", "yahoo", "Yahoo!ショッピング店"),
    ("別の店舗", "amazon", "Amazon店"),
]


def _user(username, **flags):
    user, created = get_user_model().objects.get_or_create(username=username, defaults=flags)
    if created:
        user.set_password(DEMO_PASSWORD)
        user.save()
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


def _app_connection(shop, shop_id, now) -> None:
    """The shop's connection through GoQ's app: installed, assigned, verified (demo data)."""
    connection = getattr(shop, "makeshop", None)
    if connection is None:
        connection = MakeShopConnection.objects.create(shop=shop, makeshop_shop_id=shop_id)
    installation = MakeShopAppInstallation.objects.filter(shop_id=shop_id).first()
    created = installation is None
    if created:
        installation = installations.store_installation(
            shop_id=shop_id, token=DEMO_APP_SHOPS[shop_id].token, plan_id="standard",
            app_name=SANDBOX_APP_NAME, source=AppInstallationEvent.Source.COMMAND, now=now,
        )
    if installation.is_unclaimed and installations.installation_for(connection) is None:
        installations.assign_installation(
            installation=installation, connection=connection, actor=None,
            source=AppInstallationEvent.Source.COMMAND, now=now,
        )
    if created:
        MakeShopAppInstallation.objects.filter(pk=installation.pk).update(
            state=MakeShopAppInstallation.State.VERIFIED, verified_at=now, last_checked_at=now
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
    makeshop = Mall.objects.get(code=Mall.MAKESHOP)
    now = timezone.now()
    for store_name, shop_name, shop_id, status, application, extra in MAKESHOP_SHOPS:
        shop, created = _shop(stores[store_name], makeshop, shop_name)
        if created:
            MallShop.objects.filter(pk=shop.pk).update(
                application_status=application,
                order_retrieval=(
                    MallShop.OrderRetrieval.API
                    if application == Application.APPROVED
                    else MallShop.OrderRetrieval.CSV
                ),
            )
        if hasattr(shop, "makeshop"):
            continue
        connection = MakeShopConnection(shop=shop, status=status, makeshop_shop_id=shop_id)
        if shop_id:
            for name, value in _demo_codes(shop_id).items():
                setattr(connection, name, value)
        extra = dict(extra)
        days_failing = extra.pop("days_failing", 0)
        for name, value in extra.items():
            setattr(connection, name, value)
        if status in (Status.VERIFIED, Status.REJECTED, Status.UNVERIFIED):
            connection.last_checked_at = now
        if status == Status.VERIFIED or days_failing:
            connection.verified_at = now - timedelta(days=days_failing)
        if status == Status.VERIFIED and shop_id in DEMO_SHOPS:
            # Each code as accepted by MakeShop: proof of control for the app's linking.
            for check in (Check.ORDER_AUTH_CODE, Check.PRODUCT_AUTH_CODE, Check.PASSWORD):
                setattr(connection, f"{check.secret_field}_verified_at", now)
        if status == Status.REJECTED:
            connection.failing_since = now - timedelta(days=days_failing)
        connection.save()
    for store_name, shop_name, shop_id in APP_SHOPS:
        shop, _ = _shop(stores[store_name], makeshop, shop_name)
        _app_connection(shop, shop_id, now)
    for store_name, mall_code, shop_name in OTHER_MALL_SHOPS:
        _shop(stores[store_name], Mall.objects.get(code=mall_code), shop_name)
    return [
        f"Demo logins (password for all: {DEMO_PASSWORD}):",
        "  staff           -> /admin/  (GoQ staff)",
        "  demo-merchant   -> /settings/malls/  (store デモ店舗)",
        "  other-merchant  -> /settings/malls/  (store 別の店舗)",
        "MakeShop app (new API): アプリ連携ショップ is connected through the sandbox's demo-app; "
        "`manage.py makeshop_sandbox install-app --shop demo-app` / uninstall-app play "
        "MakeShop's app store.",
    ]
