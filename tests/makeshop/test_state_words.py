"""One answer to "is this shop working?": the merchant's list, staff's list and the
overview say the same of every demo shop (the app-connected one included)."""

import re

import pytest
from django.utils.translation import override

from malls import presenters
from malls.demo import seed_demo
from malls.makeshop.admin import columns, overview
from malls.makeshop.models import MakeShopConnection
from malls.models import Store

pytestmark = pytest.mark.django_db


def staff_word(connection) -> str:
    return re.sub(r"<[^>]+>", "", str(columns.verification(connection)))


@pytest.fixture(params=["app on", "app off"])
def new_api(request, settings):
    if request.param == "app on":
        settings.MAKESHOP_APP_GRAPHQL_URL = "http://127.0.0.1:9/v1/graphql"
        settings.MAKESHOP_APP_ID = "goq-sandbox-app"
        settings.MAKESHOP_APP_API_KEY = "sandbox-api-key-0000-not-a-secret"
        settings.MAKESHOP_APP_WEBHOOK_SECRET = "w" * 40
    return request.param


def test_every_demo_shop_has_one_state_word_on_both_lists(new_api):
    seed_demo()
    with override("ja"):
        merchant = {
            row.shop_id: row.status.label
            for store in Store.objects.all()
            for row in presenters.shop_rows(store)
            if row.settings_url and "/makeshop/" in row.settings_url and row.shop_id
        }
        connections = MakeShopConnection.objects.prefetch_related("app_installation")
        staff = {c.makeshop_shop_id: staff_word(c) for c in connections if c.makeshop_shop_id}
    assert merchant == staff
    if new_api == "app on":
        assert merchant["demo-app"] == "インストール済み・確認済み"  # on the app, not 未設定


def test_the_overviews_counts_agree_with_the_lists(new_api):
    seed_demo()
    counts = overview.connection_counts()
    connections = list(MakeShopConnection.objects.prefetch_related("app_installation"))
    from malls.makeshop.app import usage

    for status in MakeShopConnection.Status:
        in_use = [c for c in connections if usage.status_in_use(c) == status]
        assert counts[status.value] == len(in_use), status
    stored_verified = len([c for c in connections if c.status == "verified"])
    assert counts["verified"] == stored_verified + (1 if new_api == "app on" else 0)
