"""The merchant's Rakuten settings form: 店舗URL, serviceSecret and licenseKey.

The keys are write-only: never rendered back, and an empty field keeps the saved key.
With GoQ's registered product (``RAKUTEN_SERVICE_SECRET`` set) there is no
serviceSecret field: GoQ holds it.
"""

from django import forms
from django.utils.translation import gettext_lazy as _

from core.text import validate_single_line
from malls.models import ChangeRecord
from malls.widgets import WriteOnlySecretInput

from . import api, services, verdicts
from .models import RakutenConnection, clean_key, validate_shop_url
from .services import uses_goq_product


class RakutenSettingsForm(forms.Form):
    error_messages = {
        "concurrent_edit": _(
            "These settings were changed (by someone else, or in another tab) after this page "
            "was opened. Nothing was saved. Reload the page to see the current settings, then "
            "make your change again."
        ),
    }

    shop_url = forms.CharField(
        label=_("Shop URL"),
        max_length=200,
        help_text=_("The xxxx of https://www.rakuten.co.jp/xxxx/ (the whole address works too)."),
    )
    service_secret = forms.CharField(
        label=_("serviceSecret"),
        required=False,
        strip=False,  # clean_key trims, with the one rule for every door
        max_length=200,
        widget=WriteOnlySecretInput(),
        help_text=_("Starts with SP. Shown in RMS next to the licenseKey; it does not change "
                    "when the licenseKey is renewed."),
    )
    license_key = forms.CharField(
        label=_("licenseKey"),
        required=False,
        strip=False,
        max_length=200,
        widget=WriteOnlySecretInput(),
        help_text=_("Starts with SL (your own keys) or with your shop ID. Valid for about "
                    "90 days."),
    )
    version = forms.IntegerField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args, connection: RakutenConnection | None = None, **kwargs):
        self.connection = connection
        initial = kwargs.setdefault("initial", {})
        if connection is not None and not connection._state.adding:
            initial.setdefault("shop_url", connection.shop_url)
            initial.setdefault("version", connection.version)
        super().__init__(*args, **kwargs)
        self.goq_product = uses_goq_product()
        if self.goq_product:
            del self.fields["service_secret"]
        for name, state in self.secret_states().items():
            self.fields[name].secret_state = state  # read by includes/field.html
        self.guide = verdicts.setup_steps()
        self.renewal = verdicts.renewal_steps()

    def _saved(self, name: str) -> bool:
        return self.connection is not None and not self.connection._state.adding and bool(
            self.connection.secret_state(name).is_set
        )

    def clean_shop_url(self):
        code = api.normalize_shop_url(self.cleaned_data["shop_url"])
        if code is None:
            validate_shop_url(self.cleaned_data["shop_url"])
        return code

    def _clean_secret(self, name: str) -> str:
        typed = self.cleaned_data.get(name, "")
        if not typed.strip():
            if not self._saved(name):
                raise forms.ValidationError(verdicts.KEY_FORMAT_MESSAGES[api.KeyFormat.EMPTY],
                                            code="required")
            return ""  # keep the saved key
        return clean_key(typed)

    def clean_service_secret(self):
        return self._clean_secret("service_secret")

    def clean_license_key(self):
        return self._clean_secret("license_key")

    def save(self, *, actor, keep_unverified: bool = False, client=None):
        """Ask RMS, then save what it does not refuse (``services.save_settings``).

        Returns the ``SaveResult``, its refusal shown on the fields; None when the
        save was refused before asking (a stale form, input the service rejects).
        """
        data = self.cleaned_data
        try:
            result = services.save_settings(
                shop=self.connection.shop,
                shop_url=data["shop_url"],
                license_key=data.get("license_key", ""),
                service_secret=data.get("service_secret", ""),
                expected_version=data.get("version"),
                actor=actor,
                source=ChangeRecord.Source.MERCHANT,
                keep_unverified=keep_unverified,
                client=client,
            )
        except services.ConcurrentEditError:
            self.add_error(None, forms.ValidationError(
                self.error_messages["concurrent_edit"], code="concurrent_edit"
            ))
            return None
        except forms.ValidationError as error:
            self.add_error(None, error)
            return None
        if not result.saved and not result.needs_decision:
            self.show_refusal(result)
        return result

    def show_refusal(self, result) -> None:
        """Put a refused save's advice on the field it is about (``services.SaveResult``):
        the key for refused or expired keys, the 店舗URL for another shop's keys, the
        whole form for a function not enabled in RMS."""
        reason = result.classification.reason if result.classification else None
        if reason is None:
            return
        text = verdicts.advice(
            reason, rejected=True, reported_shop=result.verification.facts.reported_shop
        )
        if reason is api.Reason.OTHER_SHOP:
            field = "shop_url"
        elif reason.not_enabled:
            field = None
        else:
            field = "license_key"
        self.add_error(field, forms.ValidationError(text, code=reason.value))

    def secret_states(self) -> dict:
        """What the page may say about each saved key: 設定済み (…last 4) at most."""
        if self.connection is None or self.connection._state.adding:
            return {}
        return {name: self.connection.secret_state(name) for name in self.fields
                if name in RakutenConnection.SECRET_FIELDS}


class AddRakutenShopForm(forms.Form):
    """The name under which a new Rakuten shop appears in GoQ."""

    name = forms.CharField(
        label=_("Display name"),
        max_length=200,
        initial=_("Rakuten Ichiba shop"),
        help_text=_("How this shop is named in GoQ's lists, for example your shop's name."),
        error_messages={"required": _("Enter a name for the shop.")},
        validators=[validate_single_line],  # the model's rule: one line, for e-mails
    )

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)
