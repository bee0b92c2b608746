"""MakeShop's demo shops (``manage.py seed_demo``), against the bundled sandbox.

Each MakeShop shop shows one verification or application state. The verification
and application states are written directly: they are fixtures for the screens, and
no service may invent a verdict MakeShop never gave or skip the application's
workflow. Verified demo shops whose codes are the sandbox's also count as proof of
control of their shop ID, so installing GoQ's app in the sandbox's ``demo-shop``
links it to デモショップ本店 by itself.

One shop is connected through GoQ's MakeShop app (new API) only: ``APP_SHOPS``. Its
installation is stored and assigned through ``app.installations`` (history,
encrypted token: the sandbox's demo token for ``demo-app``), then marked verified
directly, as demo data like the states above; the verification the install queues
checks it against the sandbox for real once ``db_worker`` runs it. Rerunning leaves
an existing installation alone (uninstalled stays uninstalled: reinstall it with
``manage.py makeshop_sandbox install-app --shop demo-app``).

コード再発行ショップ worked until MakeShop refused its code three days ago; its alert
is opened as of then, as the services would have, so its "broken" e-mail to the
store's members is due at once and the worker prints it on the first start.
"""

from datetime import timedelta

from malls.alerts.services import note_connection_change
from malls.alerts.states import ConnectionState, state_of
from malls.models import Mall, MallShop

from .api import Check, Reason
from .app import installations
from .app.sandbox import DEMO_APP_SHOPS, SANDBOX_APP_NAME
from .models import AppInstallationEvent, MakeShopAppInstallation, MakeShopConnection
from .sandbox import DEMO_SHOPS

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


def _alert_since_it_broke(connection) -> None:
    """The alert a shop that worked, then broke, has had since it broke (and the "broken"
    e-mail, due at once), through the one trigger as the verification would have."""
    note_connection_change(
        connection, ConnectionState(Status.VERIFIED), state_of(connection),
        now=connection.failing_since,
    )


def seed(stores, *, add_shop, now) -> list[str]:
    """Create MakeShop's demo shops in ``stores`` (by name); return lines to print."""
    makeshop = Mall.objects.get(code=Mall.MAKESHOP)
    for store_name, shop_name, shop_id, status, application, extra in MAKESHOP_SHOPS:
        shop, created = add_shop(stores[store_name], makeshop, shop_name)
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
        if connection.failing_since and connection.verified_at:
            _alert_since_it_broke(connection)
    for store_name, shop_name, shop_id in APP_SHOPS:
        shop, _ = add_shop(stores[store_name], makeshop, shop_name)
        _app_connection(shop, shop_id, now)
    return [
        "コード再発行ショップ broke three days ago: デモ店舗's merchant is e-mailed at once.",
        "MakeShop app (new API): アプリ連携ショップ is connected through the sandbox's demo-app; "
        "`manage.py makeshop_sandbox install-app --shop demo-app` / uninstall-app play "
        "MakeShop's app store.",
    ]
