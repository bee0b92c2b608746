"""GoQ staff's view of stores and their connected shops; never a plaintext secret."""

from django import forms
from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from .models import Mall, MallShop, MakeShopConnection, Membership, Store


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 0
    autocomplete_fields = ["user"]


@admin.register(Store)
class StoreAdmin(admin.ModelAdmin):
    list_display = ["name", "created_at"]
    search_fields = ["name"]
    inlines = [MembershipInline]


@admin.register(Mall)
class MallAdmin(admin.ModelAdmin):
    list_display = ["name", "name_en", "code", "sort_order"]
    ordering = ["sort_order"]


@admin.register(MallShop)
class MallShopAdmin(admin.ModelAdmin):
    list_display = ["name", "store", "mall", "order_retrieval", "application_status", "updated_at"]
    list_filter = ["mall", "application_status", "order_retrieval"]
    search_fields = ["name", "store__name"]
    list_select_related = ["store", "mall"]
    autocomplete_fields = ["store"]


class WriteOnlySecretInput(forms.PasswordInput):
    """A secret input that never renders the saved value back into the page."""

    def __init__(self, attrs=None):
        super().__init__(attrs={"autocomplete": "new-password", **(attrs or {})}, render_value=False)


class MakeShopConnectionAdminForm(forms.ModelForm):
    """Staff may set secrets; an empty input keeps the saved value."""

    new_password = forms.CharField(
        label=_("Password"), required=False, strip=False, widget=WriteOnlySecretInput
    )
    new_order_auth_code = forms.CharField(
        label=_("Order data auth code"), required=False, widget=WriteOnlySecretInput
    )
    new_product_auth_code = forms.CharField(
        label=_("Product data auth code"), required=False, widget=WriteOnlySecretInput
    )

    class Meta:
        model = MakeShopConnection
        fields = ["shop", "makeshop_shop_id"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            for name in MakeShopConnection.SECRET_FIELDS:
                state = self.instance.secret_state(name)
                self.fields[f"new_{name}"].help_text = _(
                    "Currently: %(state)s. Leave empty to keep it."
                ) % {"state": state}

    def save(self, commit=True):
        connection = super().save(commit=False)
        changed = False
        for name in MakeShopConnection.SECRET_FIELDS:
            value = self.cleaned_data.get(f"new_{name}")
            if value:
                setattr(connection, name, value)
                changed = True
        if connection.pk and (changed or self.has_changed()):
            connection.version += 1
        if commit:
            connection.save()
        return connection


@admin.register(MakeShopConnection)
class MakeShopConnectionAdmin(admin.ModelAdmin):
    form = MakeShopConnectionAdminForm
    list_display = [
        "makeshop_shop_id",
        "store_name",
        "mall_name",
        "status",
        "application_status",
        "verified_at",
        "failed_check",
    ]
    list_filter = ["status", "shop__application_status", "shop__mall"]
    search_fields = ["makeshop_shop_id", "shop__store__name"]
    list_select_related = ["shop__store", "shop__mall"]
    autocomplete_fields = ["shop"]
    readonly_fields = [
        "secrets_summary",
        "status",
        "failed_check",
        "failure_reason",
        "makeshop_message",
        "last_checked_at",
        "verified_at",
        "failing_since",
        "version",
        "created_at",
        "updated_at",
    ]
    fieldsets = [
        (None, {"fields": ["shop", "makeshop_shop_id"]}),
        (
            _("Secrets (write-only)"),
            {"fields": ["secrets_summary", "new_password", "new_order_auth_code",
                        "new_product_auth_code"]},
        ),
        (
            _("Verification"),
            {"fields": ["status", "failed_check", "failure_reason", "makeshop_message",
                        "last_checked_at", "verified_at", "failing_since"]},
        ),
        (_("Record"), {"fields": ["version", "created_at", "updated_at"]}),
    ]

    @admin.display(description=_("store"), ordering="shop__store__name")
    def store_name(self, obj):
        return obj.shop.store.name

    @admin.display(description=_("mall"), ordering="shop__mall__sort_order")
    def mall_name(self, obj):
        return obj.shop.mall.name

    @admin.display(description=_("API-use application"), ordering="shop__application_status")
    def application_status(self, obj):
        return obj.shop.get_application_status_display()

    @admin.display(description=_("Saved secrets"))
    def secrets_summary(self, obj):
        fields = MakeShopConnection._meta
        return " / ".join(
            f"{fields.get_field(name).verbose_name}: {obj.secret_state(name)}"
            for name in MakeShopConnection.SECRET_FIELDS
        )
