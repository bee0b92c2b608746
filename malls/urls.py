"""Merchant screens: 各種設定 → モール詳細設定, then each mall's own screens.

A mall's screens come from its provider (``urlpatterns()``), so this module names
no mall; they share the ``malls`` namespace.
"""

from django.urls import include, path
from django.views.generic import RedirectView

from . import providers, views

app_name = "malls"

urlpatterns = [
    path("", RedirectView.as_view(pattern_name="malls:settings", permanent=False), name="home"),
    path("settings/", views.settings_index, name="settings"),
    path("settings/store/", views.switch_store, name="switch_store"),
    path("settings/malls/", views.mall_list, name="mall_list"),
    *(pattern for provider in providers.registered().values()
      for pattern in provider.urlpatterns()),
    path("settings/alerts/", include("malls.alerts.urls")),  # alert e-mail choices
]
