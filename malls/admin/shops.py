"""Stores with their members, malls, and each store's shops on the malls.

Memberships and shops change through ``malls.services`` (``memberships``, ``shops``),
which write the store's or shop's history; the API-use application is read-only
here and moves only through its workflow on the connection pages.
"""

from django.contrib import admin
from django.db import transaction
from django.utils.translation import gettext_lazy as _

from .. import services
from ..models import ChangeRecord, Mall, MallShop, Membership, Store
from .history import HistoryByServicesMixin, history_table
from .widgets import ValidOnlyAutocompleteMixin


class MembershipInline(ValidOnlyAutocompleteMixin, admin.TabularInline):
    model = Membership
    extra = 0
    autocomplete_fields = ["user"]


@admin.register(Store)
class StoreAdmin(admin.ModelAdmin):
    list_display = ["name", "created_at"]
    search_fields = ["name"]
    inlines = [MembershipInline]

    def save_formset(self, request, form, formset, change):
        """Memberships change through the service, which records them in the store's history."""
        if formset.model is not Membership:
            return super().save_formset(request, form, formset, change)
        memberships = formset.save(commit=False)
        for membership in formset.deleted_objects:
            services.remove_member(membership=membership, actor=request.user)
        for membership, _fields in formset.changed_objects:  # a row now names another user
            services.remove_member(
                membership=Membership.objects.get(pk=membership.pk), actor=request.user
            )
        for membership in memberships:
            services.add_member(store=form.instance, user=membership.user, actor=request.user)


@admin.register(Mall)
class MallAdmin(admin.ModelAdmin):
    list_display = ["name", "name_en", "code", "sort_order"]
    ordering = ["sort_order"]


@admin.register(MallShop)
class MallShopAdmin(HistoryByServicesMixin, ValidOnlyAutocompleteMixin, admin.ModelAdmin):
    """A store's shops on every mall. The application moves only through its workflow."""

    list_display = ["name", "store", "mall", "order_retrieval", "application_status", "updated_at"]
    list_filter = ["mall", "application_status", "order_retrieval"]
    search_fields = ["name", "store__name"]
    list_select_related = ["store", "mall"]
    autocomplete_fields = ["store"]
    show_full_result_count = False
    readonly_fields = [
        "order_retrieval", "application_status", "application_updated_at", "history",
        "created_at", "updated_at",
    ]

    def get_fields(self, request, obj=None):
        if obj is None:
            return ["store", "mall", "name"]
        return ["store", "mall", "name", *self.readonly_fields]

    @admin.display(description=_("History"))
    def history(self, obj):
        return history_table(obj)

    def save_model(self, request, obj, form, change):
        """Add or edit through the service, which records it in the shop's history."""
        values = {name: getattr(obj, name) for name in services.shops.EDITABLE_FIELDS}
        if change:
            saved = services.edit_shop(shop=obj, actor=request.user, **values)
        else:
            saved = services.add_shop(
                actor=request.user, source=ChangeRecord.Source.ADMIN, **values
            )
        obj.pk, obj._state = saved.pk, saved._state

    def delete_model(self, request, obj):
        services.delete_shop(shop=obj, actor=request.user)

    def delete_queryset(self, request, queryset):
        with transaction.atomic():
            for shop in queryset.select_related("store"):
                services.delete_shop(shop=shop, actor=request.user)
