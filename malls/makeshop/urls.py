"""MakeShop's merchant screens, included by ``malls.urls`` (namespace ``malls``)."""

from django.urls import path

from . import views

urlpatterns = [
    path("settings/malls/makeshop/add/", views.makeshop_add, name="makeshop_add"),
    path(
        "settings/malls/makeshop/<int:shop_pk>/",
        views.makeshop_settings,
        name="makeshop_settings",
    ),
    path("settings/malls/makeshop/<int:shop_pk>/app/", views.makeshop_app, name="makeshop_app"),
    path(
        "settings/malls/makeshop/<int:shop_pk>/app/remove-auth-codes/",
        views.makeshop_remove_legacy_codes,
        name="makeshop_remove_legacy_codes",
    ),
    path(
        "settings/malls/makeshop/<int:shop_pk>/guide/",
        views.makeshop_guide,
        name="makeshop_guide",
    ),
    path(
        "settings/malls/makeshop/<int:shop_pk>/notification-url/",
        views.makeshop_new_notification_url,
        name="makeshop_new_notification_url",
    ),
    path(
        "settings/malls/makeshop/<int:shop_pk>/notification-url/stop-old/",
        views.makeshop_stop_old_notification_url,
        name="makeshop_stop_old_notification_url",
    ),
]
