"""Top-level URLs: the admin for GoQ staff, sign-in, and the merchant screens.

Every door that checks a password uses the counted forms of ``goq.signin``.
"""

from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from .health import healthz
from .password_reset import LimitedPasswordResetView, UnlockingPasswordResetConfirmView
from .signin import (
    LockoutAdminAuthenticationForm,
    LockoutAuthenticationForm,
    LockoutPasswordChangeView,
    admin_password_change,
)

admin.site.login_form = LockoutAdminAuthenticationForm

urlpatterns = [
    path("healthz", healthz, name="healthz"),
    # Before admin.site.urls, which would route it to the admin's own form.
    path("admin/password_change/", admin.site.admin_view(admin_password_change)),
    path("admin/", admin.site.urls),
    path(
        "accounts/login/",
        auth_views.LoginView.as_view(authentication_form=LockoutAuthenticationForm),
        name="login",
    ),
    path(
        "accounts/password_change/",
        LockoutPasswordChangeView.as_view(),
        name="password_change",
    ),
    # Limited, answered the same for any address, sent by the worker (goq.password_reset).
    path(
        "accounts/password_reset/", LimitedPasswordResetView.as_view(), name="password_reset"
    ),
    path(
        "accounts/reset/<uidb64>/<token>/",
        UnlockingPasswordResetConfirmView.as_view(),
        name="password_reset_confirm",
    ),
    path("accounts/", include("django.contrib.auth.urls")),
    path("i18n/", include("django.conf.urls.i18n")),
    path("makeshop/notify/", include("malls.makeshop.notification_urls")),
    path("makeshop/app/", include("malls.makeshop.app.urls")),
    path("", include("malls.urls")),
]
