"""Japanese by default, English on request, and the Japanese catalogue complete."""

import shutil
import subprocess
from pathlib import Path

import pytest
from django.conf import settings
from django.urls import reverse

from ..factories import make_connection, make_shop
from ..screens_factories import make_member

CATALOGUE = Path(settings.BASE_DIR) / "locale" / "ja" / "LC_MESSAGES" / "django.po"


@pytest.fixture
def shop(client):
    user, (store,) = make_member()
    client.force_login(user)
    return make_shop(store=store, name="デモ店")


@pytest.mark.skipif(not shutil.which("msgfmt"), reason="gettext's msgfmt is not installed")
def test_every_string_has_a_japanese_translation():
    statistics = subprocess.run(
        ["msgfmt", "--check", "--statistics", "-o", "/dev/null", str(CATALOGUE)],
        capture_output=True, text=True, check=True,
    ).stderr

    assert "untranslated" not in statistics and "fuzzy" not in statistics, statistics


@pytest.mark.django_db
def test_the_settings_page_is_japanese_by_default(client, shop):
    html = client.get(reverse("malls:makeshop_settings", args=[shop.pk])).text

    assert '<html lang="ja">' in html
    for text in (
        "MakeShop外部システム連携設定", "APIアクセス設定", "ショップID", "パスワード",
        "注文データ連携 認証コード", "商品データ連携 認証コード", "設定を保存して次へ進む",
    ):
        assert text in html


@pytest.mark.django_db
def test_the_language_switch_turns_the_pages_into_english(client, shop):
    url = reverse("malls:makeshop_settings", args=[shop.pk])

    response = client.post(reverse("set_language"), {"language": "en", "next": url})

    assert response["Location"] == url
    html = client.get(url).text
    assert '<html lang="en">' in html
    for text in ("MakeShop integration settings", "API access", "Shop ID", "Password",
                 "Order data auth code", "Product data auth code", "Save and continue",
                 "Required", "Optional"):
        assert text in html
    assert "設定を保存して次へ進む" not in html


@pytest.mark.django_db
def test_saved_secrets_are_described_in_the_pages_language(client, shop):
    make_connection(shop=shop, order_auth_code="0123456789abcdef0123456789abcdef")
    url = reverse("malls:makeshop_settings", args=[shop.pk])

    assert "設定済み（末尾 cdef）" in client.get(url).text
    assert "Saved (ends in cdef)" in client.get(url, headers={"accept-language": "en"}).text
