"""The autocomplete select that answers a malformed id with the form error, not a 500
(malls/admin/widgets.py)."""

import pytest
from django.urls import reverse

from malls.makeshop.models import MakeShopConnection

from ..admin_factories import make_staff

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("value", ["not-an-id", "9" * 20, "-1", ""])
def test_a_malformed_shop_id_redraws_the_form_with_its_error(client, value):
    client.force_login(make_staff(permissions=(), is_superuser=True))

    response = client.post(reverse("admin:malls_makeshopconnection_add"),
                           {"shop": value, "makeshop_shop_id": "widget-test"})

    assert response.status_code == 200
    assert "shop" in response.context["adminform"].form.errors
    assert not MakeShopConnection.objects.exists()
