"""The MakeShop settings form: what it requires, what it renders, how verdicts land on fields."""

from dataclasses import replace

import pytest
from django.utils import timezone, translation

from malls import crypto
from malls.makeshop import Outcome
from malls.makeshop import throttle as makeshop_throttle
from malls.makeshop.forms import AddMakeShopShopForm, MakeShopSettingsForm
from malls.makeshop.models import MakeShopConnection

from .factories import make_connection, make_shop
from .screens_factories import ScriptedMakeShop

ORDER_CODE = "0123456789abcdef0123456789abcdef"


@pytest.fixture(autouse=True)
def in_english():
    with translation.override("en"):
        yield


@pytest.fixture
def no_spacing(monkeypatch):
    """The scripted MakeShop has no rate limit; do not wait a second between its calls."""
    monkeypatch.setattr(makeshop_throttle, "RATE", replace(makeshop_throttle.RATE, spacing=0.0))


def new_connection():
    return MakeShopConnection(shop=make_shop())


@pytest.mark.django_db
class TestRequiredFields:
    def test_a_new_shop_needs_shop_id_password_and_order_code_but_not_the_product_code(self):
        form = MakeShopSettingsForm({}, connection=new_connection())

        assert not form.is_valid()
        assert set(form.errors) == {"shop_id", "password", "order_auth_code"}
        assert form.errors["password"] == ["Enter the password you sign in to MakeShop with."]

    def test_saved_secrets_may_be_left_empty_to_keep_them(self):
        connection = make_connection(makeshop_shop_id="kept-shop")

        form = MakeShopSettingsForm(
            {"shop_id": "kept-shop", "version": connection.version}, connection=connection
        )

        assert form.is_valid(), form.errors
        assert form.cleaned_data["password"] == ""

    def test_an_unreadable_saved_secret_must_be_entered_again(self):
        connection = make_connection()
        # A value encrypted for another place fails authentication when read here.
        MakeShopConnection.objects.filter(pk=connection.pk).update(
            order_auth_code=crypto.encrypt(ORDER_CODE, context="somewhere-else")
        )
        connection = MakeShopConnection.objects.get(pk=connection.pk)

        form = MakeShopSettingsForm(
            {"shop_id": connection.makeshop_shop_id, "version": connection.version},
            connection=connection,
        )

        assert not form.is_valid()
        assert form.errors["order_auth_code"] == [
            "The saved value can no longer be read: enter it again."
        ]
        assert str(form.fields["order_auth_code"].secret_state) == "Must be entered again"

    @pytest.mark.parametrize("shop_id", ["shop id", "ショップ", "a", "x/../y", "-leading"])
    def test_the_shop_id_is_checked_by_the_models_validator(self, shop_id):
        form = MakeShopSettingsForm(
            {"shop_id": shop_id, "password": "p", "order_auth_code": ORDER_CODE},
            connection=new_connection(),
        )

        assert not form.is_valid()
        assert form.has_error("shop_id", code="invalid_shop_id")

    def test_spaces_pasted_inside_codes_are_dropped_but_a_password_is_kept_as_typed(self):
        form = MakeShopSettingsForm(
            {
                "shop_id": "demo-shop",
                "password": " pass word ",
                "order_auth_code": " 01234567 89abcdef\t0123456789abcdef ",
            },
            connection=new_connection(),
        )

        assert form.is_valid(), form.errors
        assert form.cleaned_data["order_auth_code"] == ORDER_CODE
        assert form.cleaned_data["password"] == " pass word "


@pytest.mark.django_db
def test_the_form_never_renders_a_secret_neither_saved_nor_just_typed():
    connection = make_connection(password="saved-password-1234", order_auth_code=ORDER_CODE)
    typed = {
        "shop_id": "typed-shop",
        "password": "typed-password-5678",
        "order_auth_code": "typed-order-code-abcdefgh",
        "product_auth_code": "typed-product-code-ijkl",
        "version": connection.version,
    }

    html = str(MakeShopSettingsForm(typed, connection=connection)) + str(
        MakeShopSettingsForm(connection=connection)
    )

    for secret in ("saved-password-1234", ORDER_CODE, *list(typed.values())[1:4]):
        assert secret not in html
    assert 'value="typed-shop"' in html


@pytest.mark.django_db
def test_a_saved_secret_is_described_by_at_most_its_last_four_characters():
    connection = make_connection(order_auth_code=ORDER_CODE, password="short")

    form = MakeShopSettingsForm(connection=connection)

    assert str(form.fields["order_auth_code"].secret_state) == "Saved (ends in cdef)"
    assert str(form.fields["password"].secret_state) == "Saved"  # too short to show any


@pytest.mark.django_db(transaction=True)
class TestSave:
    def submit(self, connection, client, **data):
        values = {
            "shop_id": "form-shop",
            "password": "main-admin-pass",
            "order_auth_code": ORDER_CODE,
            "version": "" if connection._state.adding else connection.version,
            **data,
        }
        form = MakeShopSettingsForm(values, connection=connection)
        assert form.is_valid(), form.errors
        return form, form.save(client=client)

    def test_accepted_settings_are_saved_as_verified(self, no_spacing):
        form, result = self.submit(new_connection(), ScriptedMakeShop())

        assert result.saved
        assert not form.errors
        saved = MakeShopConnection.objects.get(makeshop_shop_id="form-shop")
        assert saved.status == MakeShopConnection.Status.VERIFIED

    @pytest.mark.parametrize(
        ("check", "reason", "field", "says"),
        [
            ("product_auth_code", "token_rejected", "product_auth_code", "商品データ連携設定"),
            ("password", "login_refused", "password", "main administrator"),
        ],
    )
    def test_a_rejection_is_put_on_its_field_with_what_to_do_and_nothing_is_saved(
        self, no_spacing, check, reason, field, says
    ):
        scripted = ScriptedMakeShop(**{check: (Outcome.REJECTED, reason)})

        form, result = self.submit(
            new_connection(), scripted, product_auth_code="product-code-0001"
        )

        assert not result.saved and not result.needs_decision
        assert form.has_error(field, code=reason)
        assert says in form.errors[field][0]
        assert not MakeShopConnection.objects.exists()

    def test_makeshop_unreachable_asks_for_a_decision_without_errors(self, no_spacing):
        scripted = ScriptedMakeShop(order_auth_code=(Outcome.UNREACHABLE, "timeout"))

        form, result = self.submit(new_connection(), scripted)

        assert result.needs_decision and not result.saved
        assert not form.errors

    def test_keeping_unverified_saves_despite_makeshop_being_unreachable(self, no_spacing):
        scripted = ScriptedMakeShop(order_auth_code=(Outcome.UNREACHABLE, "maintenance"))
        form = MakeShopSettingsForm(
            {"shop_id": "form-shop", "password": "p", "order_auth_code": ORDER_CODE},
            connection=new_connection(),
        )
        assert form.is_valid()

        result = form.save(keep_unverified=True, client=scripted)

        assert result.saved
        assert result.connection.status == MakeShopConnection.Status.UNVERIFIED

    def test_a_save_from_an_outdated_page_is_refused(self, no_spacing):
        connection = make_connection(makeshop_shop_id="form-shop")
        stale_version = connection.version
        MakeShopConnection.objects.filter(pk=connection.pk).update(version=stale_version + 1)

        form, result = self.submit(connection, ScriptedMakeShop(), version=stale_version)

        assert result is None
        assert form.has_error("__all__", code="concurrent_edit")

    def test_a_shop_id_connected_elsewhere_is_refused_on_the_shop_id(self, no_spacing):
        """Said only once MakeShop accepted the settings, so it reveals nothing to a guesser."""
        make_connection(makeshop_shop_id="taken-shop", verified_at=timezone.now())
        scripted = ScriptedMakeShop()

        form, result = self.submit(new_connection(), scripted, shop_id="taken-shop")

        assert result is None
        assert form.has_error("shop_id", code="shop_id_taken")
        assert scripted.calls  # MakeShop was asked first
        assert MakeShopConnection.objects.filter(makeshop_shop_id="taken-shop").count() == 1

    def test_a_shop_id_connected_elsewhere_is_not_revealed_to_rejected_settings(
        self, no_spacing
    ):
        make_connection(makeshop_shop_id="taken-shop", verified_at=timezone.now())
        scripted = ScriptedMakeShop(order_auth_code=(Outcome.REJECTED, "token_rejected"))

        form, result = self.submit(new_connection(), scripted, shop_id="taken-shop")

        assert not result.saved
        assert not form.has_error("shop_id", code="shop_id_taken")
        assert form.has_error("__all__", code="not_accepted")

    @pytest.mark.parametrize(
        ("reason", "code", "says"),
        [
            ("token_rejected", "not_accepted", "変更"),
            ("not_enabled", "not_enabled", "about a week"),
        ],
    )
    def test_a_refused_order_code_is_one_verdict_on_the_whole_form(
        self, no_spacing, reason, code, says
    ):
        """N2: once MakeShop refuses the order code nothing else is asked, and no field is
        singled out."""
        scripted = ScriptedMakeShop(order_auth_code=(Outcome.REJECTED, reason))

        form, result = self.submit(
            new_connection(), scripted, product_auth_code="product-code-0001"
        )
        message = form.non_field_errors()[0]

        assert not result.saved and not result.needs_decision
        assert list(form.errors) == ["__all__"]
        assert form.has_error("__all__", code=code)
        assert says in message


def test_a_new_shop_needs_a_display_name():
    form = AddMakeShopShopForm({"name": ""})

    assert not form.is_valid()
    assert form.errors["name"] == ["Enter a name for the shop."]


@pytest.mark.parametrize("name", ["Evil\r\nBcc: x@example.com", "L1\u2028L2", "a\x85b", "\u202eR"])
def test_a_new_shop_name_must_be_one_line(name):
    form = AddMakeShopShopForm({"name": name})
    assert not form.is_valid()
    assert form.errors.as_data()["name"][0].code == "not_single_line"
