"""Rakuten's merchant screens, included by ``malls.urls`` (namespace ``malls``)."""

from django.urls import path

from . import views

urlpatterns = [
    path("settings/malls/rakuten/add/", views.rakuten_add, name="rakuten_add"),
    path("settings/malls/rakuten/<int:shop_pk>/", views.rakuten_settings,
         name="rakuten_settings"),
]
