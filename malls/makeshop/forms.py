"""Forms of the merchant screens.

The MakeShop settings form does not save by itself: ``save()`` hands the cleaned
values to ``makeshop_services.apply_makeshop_settings`` (which asks MakeShop first) and turns
the answer into coded errors on the fields they concern, the way
``AuthenticationForm.clean()`` turns a refused login into a form error.
"""

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _
from django.views.decorators.debug import sensitive_variables

from core.text import validate_single_line
from malls.makeshop import Check, Outcome, Reason
from malls.makeshop import services as makeshop_services
from malls.makeshop.models import SHOP_ID_MAX_LENGTH, MakeShopConnection, validate_makeshop_shop_id
from malls.makeshop.verdicts import WHERE_TO_FIND, advice
from malls.models import SecretState
from malls.widgets import WriteOnlySecretInput

# Secrets a connection cannot work without; the product code is optional.
REQUIRED_SECRETS = ("password", "order_auth_code")


class AuthCodeField(forms.CharField):
    """An auth code as pasted: spaces inside one are never part of it (merchant and staff)."""

    def __init__(self, **kwargs):
        kwargs.setdefault("required", False)
        kwargs.setdefault("max_length", 200)
        kwargs.setdefault("widget", WriteOnlySecretInput)
        super().__init__(**kwargs)

    def to_python(self, value):
        return "".join(super().to_python(value).split())


class MakeShopPasswordField(forms.CharField):
    """MakeShop's admin password, kept exactly as typed (spaces may be part of it)."""

    def __init__(self, **kwargs):
        kwargs.setdefault("required", False)
        kwargs.setdefault("max_length", 128)
        kwargs.setdefault("widget", WriteOnlySecretInput)
        super().__init__(strip=False, **kwargs)


class MakeShopSettingsForm(forms.Form):
    """A MakeShop shop's API settings: shop ID and three write-only secrets.

    An empty secret keeps the saved one; a secret is required when nothing usable is
    saved. ``version`` carries the settings' version into the POST so that a save
    based on an outdated page is refused instead of overwriting a newer one.
    """

    error_messages = {
        "concurrent_edit": _(
            "These settings were changed (by someone else, or in another tab) after this page "
            "was opened. Nothing was saved. Reload the page to see the current settings, then "
            "make your change again."
        ),
        # Shown only after MakeShop accepted the settings, and says nothing of who
        # uses GoQ: nobody can probe shop IDs with it.
        "shop_id_taken": _(
            "This shop ID cannot be connected to this shop. If it is your shop's ID, contact "
            "GoQ support."
        ),
        "unreadable": _("The saved value can no longer be read: enter it again."),
        "makeshop_said": _("MakeShop's message: %(message)s"),
        # One verdict on the settings as a whole: GoQ sent nothing but the order code, so
        # it knows nothing of the other fields, and says nothing that would tell which
        # one a guesser got right.
        "not_accepted": _(
            "MakeShop did not accept these settings, so nothing was saved. Check that the shop "
            "ID and the order data auth code are the ones shown in your MakeShop admin (after "
            "変更 is pressed there, only the new code works), then enter the settings again."
        ),
        "checks_paused": _(
            "MakeShop refused settings for this shop ID several times in the last hour, so GoQ "
            "is not sending it any more for now. Nothing was sent or saved. Try again in an "
            "hour; if this happens again, contact GoQ support."
        ),
        "too_many_attempts": _(
            "Settings were checked with MakeShop several times in the last minute. Nothing "
            "was sent to MakeShop this time: wait a minute, then save again."
        ),
    }
    required_messages = {
        "shop_id": _("Enter the shop ID you sign in to MakeShop with."),
        "password": _("Enter the password you sign in to MakeShop with."),
        "order_auth_code": _("Enter the order data auth code shown in MakeShop."),
        "product_auth_code": _("Enter the product data auth code shown in MakeShop."),
    }

    shop_id = forms.CharField(
        label=_("Shop ID"),
        max_length=SHOP_ID_MAX_LENGTH,
        validators=[validate_makeshop_shop_id],
        help_text=_(
            "The shop ID you sign in to MakeShop's admin with. MakeShop shows it at the top of "
            "every admin page, next to ショップID."
        ),
        widget=forms.TextInput(
            attrs={"autocomplete": "off", "autocapitalize": "none", "spellcheck": "false"}
        ),
    )
    password = MakeShopPasswordField(
        label=_("Password"),
        help_text=_(
            "The password you sign in to MakeShop's admin with, as the shop's main "
            "administrator (a sub-administrator's password does not work). GoQ uses it to "
            "send data to MakeShop in bulk."
        ),
    )
    order_auth_code = AuthCodeField(
        label=_("Order data auth code"), help_text=WHERE_TO_FIND[Check.ORDER_AUTH_CODE]
    )
    product_auth_code = AuthCodeField(
        label=_("Product data auth code"), help_text=WHERE_TO_FIND[Check.PRODUCT_AUTH_CODE]
    )
    version = forms.IntegerField(required=False, min_value=1, widget=forms.HiddenInput)

    def __init__(self, *args, connection: MakeShopConnection, **kwargs):
        self.connection = connection
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)
        if not connection._state.adding:
            self.initial.setdefault("shop_id", connection.makeshop_shop_id)
            self.initial.setdefault("version", connection.version)
        for name, message in self.required_messages.items():
            self.fields[name].error_messages["required"] = message
        for name in MakeShopConnection.SECRET_FIELDS:
            field = self.fields[name]
            state = connection.secret_state(name)
            # Read by the template to show 設定済み …1234 / 未設定 beside the input.
            field.secret_state = state
            if state.state == SecretState.UNREADABLE:
                field.required = True
                field.error_messages["required"] = self.error_messages["unreadable"]
            elif state.state == SecretState.UNSET and name in REQUIRED_SECRETS:
                field.required = True

    @sensitive_variables()
    def save(self, *, keep_unverified=False, actor=None, client=None):
        """Verify the settings with MakeShop and save them if it accepts them.

        Returns the service's ``SaveResult``, or None when the save was refused
        before MakeShop was asked (errors are then on the form). A rejection by
        MakeShop is put on the field it concerns; nothing is saved in that case.
        """
        data = self.cleaned_data
        try:
            result = makeshop_services.apply_makeshop_settings(
                connection=self.connection,
                shop_id=data["shop_id"],
                new_secrets={name: data[name] for name in MakeShopConnection.SECRET_FIELDS},
                expected_version=data["version"],
                verify=(
                    makeshop_services.Verify.LATER if keep_unverified
                    else makeshop_services.Verify.NOW
                ),
                no_verdict=keep_unverified,
                client=client,
                actor=actor,
            )
        except makeshop_services.VerificationBudgetExceeded:
            self.add_error(
                None,
                ValidationError(
                    self.error_messages["too_many_attempts"], code="too_many_attempts"
                ),
            )
            return None
        except makeshop_services.ChecksPaused:
            self.add_error(
                None, ValidationError(self.error_messages["checks_paused"], code="checks_paused")
            )
            return None
        except makeshop_services.ConcurrentEditError:
            self.add_error(
                None,
                ValidationError(self.error_messages["concurrent_edit"], code="concurrent_edit"),
            )
            return None
        except makeshop_services.ShopIdTakenError:
            self.add_error(
                "shop_id",
                ValidationError(self.error_messages["shop_id_taken"], code="shop_id_taken"),
            )
            return None
        if not result.saved and not result.needs_decision:
            self._add_rejections(result.verification)
        return result

    def _add_rejections(self, verification):
        """Each refusal on its field, once MakeShop accepted the order code; a refused
        order code is one verdict on the whole form (see ``PROOF_OF_CONTROL``)."""
        proof = verification.results.get(makeshop_services.PROOF_OF_CONTROL)
        if proof is not None and proof.outcome == Outcome.REJECTED:
            if proof.reason == Reason.NOT_ENABLED:  # a fact of the shop, no field's fault
                message, code = advice(proof.check, proof.reason, rejected=True), proof.reason
            else:
                message, code = self.error_messages["not_accepted"], "not_accepted"
            self.add_error(None, ValidationError(message, code=code))
            return
        for check, result in verification.results.items():
            if result.outcome != Outcome.REJECTED:
                continue
            message = advice(check, result.reason, rejected=True)
            if result.message:
                said = self.error_messages["makeshop_said"] % {"message": result.message}
                message = f"{message} {said}"
            self.add_error(
                check.secret_field,
                ValidationError(message, code=result.reason or "rejected"),
            )


class AddMakeShopShopForm(forms.Form):
    """The name under which a new MakeShop shop appears in GoQ."""

    name = forms.CharField(
        label=_("Display name"),
        max_length=200,
        initial="MakeShop",
        help_text=_("How this shop is named in GoQ's lists, for example your shop's name."),
        error_messages={"required": _("Enter a name for the shop.")},
        # The model's own rule: a name goes into e-mails and staff's digest as one line.
        validators=[validate_single_line],
    )

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)
