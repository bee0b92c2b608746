"""The admin's index: the overview and the lists, without Django's "Recent actions" panel.

That panel lists the admin's own log of the signed-in user's edits (empty for most staff,
so it read 最近行った操作 — 利用不可); who changed what is the change history, linked from
the same page.
"""

import pytest
from django.contrib.admin.models import CHANGE, LogEntry
from django.contrib.contenttypes.models import ContentType
from django.urls import reverse

from malls.models import MallShop

from ..factories import make_shop, make_user

pytestmark = pytest.mark.django_db


def test_the_index_has_no_recent_actions_panel_and_links_to_the_change_history(client):
    staff = make_user(is_staff=True, is_superuser=True)
    shop = make_shop(name="本店")
    # An edit of their own, which the panel would have listed.
    LogEntry.objects.create(
        user=staff, content_type=ContentType.objects.get_for_model(MallShop),
        object_id=str(shop.pk), object_repr=str(shop), action_flag=CHANGE,
    )
    client.force_login(staff)

    html = client.get(reverse("admin:index")).text

    assert 'id="goq-overview-title"' in html  # the index itself is intact
    assert 'id="recent-actions-module"' not in html
    assert "最近行った操作" not in html and "利用不可" not in html
    assert reverse("admin:malls_mallshop_change", args=[shop.pk]) not in html
    # One column: no margin kept for a sidebar that is not there.
    assert 'id="content" class="colM"' in html
    assert reverse("admin:malls_changerecord_changelist") in html
