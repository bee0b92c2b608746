"""Top-level URLs: the admin for GoQ staff, sign-in, and the merchant screens."""

from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from .health import healthz
from .signin import LockoutAuthenticationForm

urlpatterns = [
    path("healthz", healthz, name="healthz"),
    path("admin/", admin.site.urls),
    path(
        "accounts/login/",
        auth_views.LoginView.as_view(authentication_form=LockoutAuthenticationForm),
        name="login",
    ),
    path("accounts/", include("django.contrib.auth.urls")),
    path("i18n/", include("django.conf.urls.i18n")),
    path("makeshop/notify/", include("malls.notification_urls")),
    path("makeshop/app/", include("malls.makeshop.app.urls")),
    path("", include("malls.urls")),
]
