"""URLs MakeShop calls with update notifications; included at ``makeshop/notify/``."""

from django.urls import path, re_path

from malls.makeshop.notification_views import receive_notification

app_name = "makeshop_notify"

urlpatterns = [
    path("<str:token>/", receive_notification, name="receive"),
    path(
        "<str:token>/<str:shop_id>/<str:order_number>/<str:command>/",
        receive_notification,
        name="receive_in_path",
    ),
    # Forms MakeShop may produce from the URL we show: no trailing slash (redirecting
    # would lose a POST), an empty segment where it had nothing to substitute, or
    # trailing segments dropped. Every such form is matched here, so APPEND_SLASH
    # never answers a notification with a redirect.
    re_path(r"^(?P<token>[^/]+)$", receive_notification),
    re_path(r"^(?P<token>[^/]+)/(?P<shop_id>[^/]*)/?$", receive_notification),
    re_path(
        r"^(?P<token>[^/]+)/(?P<shop_id>[^/]*)/(?P<order_number>[^/]*)/?$",
        receive_notification,
    ),
    re_path(
        r"^(?P<token>[^/]+)/(?P<shop_id>[^/]*)/(?P<order_number>[^/]*)/(?P<command>[^/]*)/?$",
        receive_notification,
    ),
]
