"""Forms of the merchant screens, and what to tell a merchant about MakeShop's verdicts.

The MakeShop settings form does not save by itself: ``save()`` hands the cleaned
values to ``services.apply_makeshop_settings`` (which asks MakeShop first) and turns
the answer into coded errors on the fields they concern, the way
``AuthenticationForm.clean()`` turns a refused login into a form error.
"""

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _
from django.views.decorators.debug import sensitive_variables

from . import services
from .makeshop import Check, Outcome
from .models import SHOP_ID_MAX_LENGTH, MakeShopConnection, SecretState, validate_makeshop_shop_id

# MakeShop's checks and the form field each one is about.
CHECK_FIELDS = {
    Check.ORDER_AUTH_CODE: "order_auth_code",
    Check.PRODUCT_AUTH_CODE: "product_auth_code",
    Check.PASSWORD: "password",
}

# Secrets a connection cannot work without; the product code is optional.
REQUIRED_SECRETS = ("password", "order_auth_code")

# Reasons (see ``malls.makeshop.client``) meaning MakeShop could not be reached; any
# other reason without a verdict is an answer we could not read.
UNREACHABLE_REASONS = frozenset({"timeout", "refused", "dns", "tls", "connection", "redirect"})
BUSY_REASONS = frozenset({"busy", "rate_limited"})

# What to do about a verdict, keyed by (check, reason) or by reason alone. Shown on the
# field after a refused save and under the shop's status in the list.
ADVICE = {
    (Check.ORDER_AUTH_CODE, "token_rejected"): _(
        "MakeShop did not accept this order data auth code. If 変更 was pressed next to the "
        "code in MakeShop, a new code was issued and the old one stopped working: copy the "
        "code MakeShop shows now (ショップ作成 → 外部システム連携 → 注文データ連携設定) and "
        "enter it again."
    ),
    (Check.PRODUCT_AUTH_CODE, "token_rejected"): _(
        "MakeShop did not accept this product data auth code. If 変更 was pressed next to the "
        "code in MakeShop, a new code was issued and the old one stopped working: copy the "
        "code MakeShop shows now (ショップ作成 → 外部システム連携 → 商品データ連携設定) and "
        "enter it again."
    ),
    "not_enabled": _(
        "MakeShop has not approved API use for this shop yet. GoQ applies to MakeShop on your "
        "behalf; approval takes from a few days to about a week. Save again once it is approved."
    ),
    "login_refused": _(
        "MakeShop refused this shop ID and password. Use the login of the shop's main "
        "administrator: sub-administrator logins are not accepted. Check that the whole "
        "password was entered."
    ),
    "rejected": _("MakeShop did not accept this value. Check it in MakeShop and enter it again."),
    "maintenance": _(
        "MakeShop is under maintenance, so it could not check the settings. GoQ will check "
        "again later."
    ),
    "busy": _(
        "MakeShop is busy with other requests for this shop, so it could not check the "
        "settings. GoQ will check again later."
    ),
    "unreachable": _("MakeShop could not be reached. GoQ will check again later."),
    # Set by malls.services.shop_ids (not MakeShop's words).
    "shop_id_released": _(
        "MakeShop did not confirm this shop ID for this shop, so GoQ set it aside. Check the "
        "shop ID and save the settings again."
    ),
    "shop_id_taken": _(
        "This shop ID cannot be connected to this shop. If it is your shop's ID, contact "
        "GoQ support."
    ),
    "unexpected": _(
        "MakeShop gave an answer GoQ did not expect. GoQ will check again later; if this "
        "goes on, contact GoQ support."
    ),
}


def advice_for(check: str, reason: str, *, rejected: bool) -> str:
    """Plain advice for one of MakeShop's verdicts on ``check`` (a ``Check`` value)."""
    if rejected:
        return str(ADVICE.get((check, reason)) or ADVICE.get(reason) or ADVICE["rejected"])
    if reason == "maintenance":
        return str(ADVICE["maintenance"])
    if reason in BUSY_REASONS:
        return str(ADVICE["busy"])
    if not reason or reason in UNREACHABLE_REASONS or reason.startswith("http_"):
        return str(ADVICE["unreachable"])
    return str(ADVICE["unexpected"])


class WriteOnlySecretInput(forms.PasswordInput):
    """A secret input that never renders a value back into the page.

    Auth codes use it too: a text input would show the code to anyone looking at
    the screen and let the browser keep it in its form history.
    """

    def __init__(self, attrs=None):
        super().__init__(
            attrs={
                "autocomplete": "new-password",
                "autocapitalize": "none",
                "spellcheck": "false",
                **(attrs or {}),
            },
            render_value=False,
        )


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
    password = forms.CharField(
        label=_("Password"),
        required=False,
        strip=False,
        max_length=128,
        help_text=_(
            "The password you sign in to MakeShop's admin with, as the shop's main "
            "administrator (a sub-administrator's password does not work). GoQ uses it to "
            "send data to MakeShop in bulk."
        ),
        widget=WriteOnlySecretInput,
    )
    order_auth_code = forms.CharField(
        label=_("Order data auth code"),
        required=False,
        max_length=200,
        help_text=_(
            "In MakeShop: ショップ作成 → 外部システム連携 → 注文データ連携設定. The code appears "
            "next to 認証コード once 注文情報参照 is set to 許可する and the page is saved."
        ),
        widget=WriteOnlySecretInput,
    )
    product_auth_code = forms.CharField(
        label=_("Product data auth code"),
        required=False,
        max_length=200,
        help_text=_(
            "Optional. In MakeShop: ショップ作成 → 外部システム連携 → 商品データ連携設定, next to "
            "認証コード. Needed only for working with your products from GoQ."
        ),
        widget=WriteOnlySecretInput,
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

    def clean_order_auth_code(self):
        # Codes are pasted; spaces inside one are never part of it.
        return "".join(self.cleaned_data["order_auth_code"].split())

    def clean_product_auth_code(self):
        return "".join(self.cleaned_data["product_auth_code"].split())

    @sensitive_variables()
    def save(self, *, keep_unverified=False, actor=None, client=None):
        """Verify the settings with MakeShop and save them if it accepts them.

        Returns the service's ``SaveResult``, or None when the save was refused
        before MakeShop was asked (errors are then on the form). A rejection by
        MakeShop is put on the field it concerns; nothing is saved in that case.
        """
        data = self.cleaned_data
        try:
            result = services.apply_makeshop_settings(
                connection=self.connection,
                shop_id=data["shop_id"],
                new_secrets={name: data[name] for name in MakeShopConnection.SECRET_FIELDS},
                expected_version=data["version"],
                verify=services.Verify.LATER if keep_unverified else services.Verify.NOW,
                no_verdict=keep_unverified,
                client=client,
                actor=actor,
            )
        except services.VerificationBudgetExceeded:
            self.add_error(
                None,
                ValidationError(
                    self.error_messages["too_many_attempts"], code="too_many_attempts"
                ),
            )
            return None
        except services.ConcurrentEditError:
            self.add_error(
                None,
                ValidationError(self.error_messages["concurrent_edit"], code="concurrent_edit"),
            )
            return None
        except services.ShopIdTakenError:
            self.add_error(
                "shop_id",
                ValidationError(self.error_messages["shop_id_taken"], code="shop_id_taken"),
            )
            return None
        if not result.saved and not result.needs_decision:
            self._add_rejections(result.verification)
        return result

    def _add_rejections(self, verification):
        for check, result in verification.results.items():
            if result.outcome != Outcome.REJECTED:
                continue
            message = advice_for(check, result.reason, rejected=True)
            if result.message:
                said = self.error_messages["makeshop_said"] % {"message": result.message}
                message = f"{message} {said}"
            self.add_error(
                CHECK_FIELDS[check],
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
    )

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)
