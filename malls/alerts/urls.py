"""The alert preference page, included under settings/ by ``malls.urls``."""

from django.urls import path

from . import views

app_name = "alerts"

urlpatterns = [
    path("", views.preferences, name="preferences"),
]
