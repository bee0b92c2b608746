"""The form of a user's alert choices."""

from django import forms
from django.utils.translation import gettext_lazy as _

from .models import AlertPreference


class AlertPreferenceForm(forms.ModelForm):
    class Meta:
        model = AlertPreference
        fields = ["alerts_enabled", "language"]
        labels = {
            "alerts_enabled": _("E-mail me when a shop's connection breaks or is fixed"),
            "language": _("Language of the e-mails"),
        }
        help_texts = {
            "alerts_enabled": _(
                "One e-mail when a connection stops working, one when it works again, and "
                "at most a few reminders while it stays broken."
            ),
        }
        widgets = {"language": forms.RadioSelect}
