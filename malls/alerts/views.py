"""各種設定 → alert e-mails: a user's own choices, for every store they belong to."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from .forms import AlertPreferenceForm
from .models import AlertPreference


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def preferences(request):
    """Turn shop alerts off or on and pick their language; changes only the user's own row."""
    preference = (
        AlertPreference.objects.filter(user=request.user).first()
        or AlertPreference(user=request.user)
    )
    form = AlertPreferenceForm(request.POST or None, instance=preference)
    if request.method == "POST" and form.is_valid():
        form.save()
        messages.success(request, _("Your e-mail alert settings were saved."))
        return redirect("malls:alerts:preferences")
    return render(
        request, "alerts/preferences.html",
        {"form": form, "has_email": bool(request.user.email)},
    )
