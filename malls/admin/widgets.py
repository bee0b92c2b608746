"""Admin widgets: Django's autocomplete select, without its 500 on a malformed id."""

from django.contrib.admin.widgets import AutocompleteSelect
from django.core.exceptions import ValidationError
from django.db import connections


class ValidOnlyAutocompleteSelect(AutocompleteSelect):
    """Django's autocomplete widget, minus a 500 when a POST carries a malformed id.

    Works around Django's ``AutocompleteSelect.optgroups`` (checked up to 6.1): to redraw
    a refused form it filters the related model by the submitted values as they are
    (``pk__in=[...]``), so a value the key field cannot read (``shop=not-an-id``, or a
    number past the column's range) raises in the ORM or the database instead of
    showing the form error. No Django ticket was found for it; drop this class once
    ``optgroups`` skips unreadable values itself.
    """

    def optgroups(self, name, value, attr=None):
        key = self.field.remote_field.model._meta.pk
        low, high = connections[self.db or "default"].ops.integer_field_range(
            key.get_internal_type()
        )
        readable = []
        for item in value:
            try:
                number = key.to_python(item)
            except ValidationError:
                continue
            # A number past the column's range would fail in the database itself.
            if isinstance(number, int) and not (
                (low is None or number >= low) and (high is None or number <= high)
            ):
                continue
            readable.append(item)
        return super().optgroups(name, readable, attr)


class ValidOnlyAutocompleteMixin:
    """Use ``ValidOnlyAutocompleteSelect`` for every autocomplete field."""

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if "widget" not in kwargs and db_field.name in self.get_autocomplete_fields(request):
            kwargs["widget"] = ValidOnlyAutocompleteSelect(
                db_field, self.admin_site, using=kwargs.get("using")
            )
        return super().formfield_for_foreignkey(db_field, request, **kwargs)
