"""Names merchants and staff choose (stores, shops) are one line of plain text: refused at
input by the model field's validator, and so by the admin's forms (N12)."""

import pytest
from django.core.exceptions import ValidationError

from core.text import one_line, validate_single_line
from malls.models import MallShop, Store
from tests.factories import get_mall, make_store, make_user

BREAKING = ["\r", "\n", "\t", "\x00", "\x1b", "\x7f", "\x85", "\u2028", "\u2029",
            "\u202a", "\u202b", "\u202c", "\u202d", "\u202e", "\u2066", "\u2067", "\u2068",
            "\u2069"]


@pytest.mark.parametrize("char", BREAKING)
def test_a_breaking_character_is_refused_with_a_japanese_reason(char):
    with pytest.raises(ValidationError) as refused:
        validate_single_line(f"本店{char}ショップ")
    assert refused.value.code == "not_single_line"
    assert "改行" in str(refused.value.messages[0])


@pytest.mark.parametrize("name", ["本店ショップ", "Shop (Tokyo) 〜 2号店", "ｶﾀｶﾅ店", "店 ‐ A&B"])
def test_ordinary_names_pass(name):
    validate_single_line(name)
    assert one_line(name) == name


def test_one_line_turns_every_breaking_character_into_one_space():
    assert one_line("A" + "".join(BREAKING) + "B") == "A B"


@pytest.mark.django_db
def test_the_model_fields_refuse_such_names():
    store = make_store()
    shop = MallShop(store=store, mall=get_mall(), name="本店\u2028偽の行")
    with pytest.raises(ValidationError) as refused:
        shop.full_clean()
    assert "name" in refused.value.message_dict
    with pytest.raises(ValidationError) as refused:
        Store(name="店舗\r\nBcc: x@evil.test").full_clean()
    assert "name" in refused.value.message_dict


@pytest.mark.django_db
def test_staff_cannot_save_such_a_name_in_the_admin(client):
    client.force_login(make_user(is_staff=True, is_superuser=True))
    refused = client.post("/admin/malls/store/add/", {"name": "店舗\u202eRTL"})
    assert refused.status_code == 200
    assert "改行" in refused.content.decode()
    assert not Store.objects.filter(name__startswith="店舗").exists()
