"""Merchant screens: 各種設定 → モール詳細設定 → a MakeShop shop (app or auth codes)."""

from django.urls import include, path
from django.views.generic import RedirectView

from . import views

app_name = "malls"

urlpatterns = [
    path("", RedirectView.as_view(pattern_name="malls:settings", permanent=False), name="home"),
    path("settings/", views.settings_index, name="settings"),
    path("settings/store/", views.switch_store, name="switch_store"),
    path("settings/malls/", views.mall_list, name="mall_list"),
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
    path("settings/alerts/", include("malls.alerts.urls")),  # alert e-mail choices
]
