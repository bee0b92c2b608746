"""Merchant screens (filled in by the screens work)."""

from django.urls import path
from django.views.generic import RedirectView

app_name = "malls"

urlpatterns = [
    path("", RedirectView.as_view(url="/admin/", permanent=False), name="settings"),
]
