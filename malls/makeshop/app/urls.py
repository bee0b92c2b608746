"""The webhook URLs GoQ registers with MakeShop; included at ``makeshop/app/``.

Each path starts with the webhook secret. A trailing slash is optional everywhere:
APPEND_SLASH would answer a POST without one with a redirect, which MakeShop treats
as a failed install.
"""

from django.urls import re_path

from . import webhooks

app_name = "makeshop_app"

_PREFIX = r"^(?P<secret>[^/]+)/"

urlpatterns = [
    re_path(_PREFIX + r"install/?$", webhooks.install, name="install"),
    re_path(_PREFIX + r"uninstall/?$", webhooks.uninstall, name="uninstall"),
    re_path(_PREFIX + r"orders/?$", webhooks.order_update, name="orders"),
    re_path(_PREFIX + r"reconsent/?$", webhooks.reconsent, name="reconsent"),
    re_path(
        _PREFIX + r"orders/(?P<shop_id>[^/]+)/?$", webhooks.order_update, name="orders_for_shop"
    ),
]
