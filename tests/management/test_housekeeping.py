"""The periodic clean-up command."""

import io
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.utils import timezone

from malls import ratelimits
from malls.makeshop.models import MakeShopConnection
from malls.models import RateCounter
from tests.factories import make_connection

pytestmark = pytest.mark.django_db


def test_housekeeping_drops_expired_counters_and_retired_tokens():
    ratelimits.hit("old", limit=5, window_seconds=60, clock=lambda: 1_000.0)
    ratelimits.hit("current", limit=5, window_seconds=60)
    retired = make_connection(
        previous_notification_token="old-token",
        previous_token_expires_at=timezone.now() - timedelta(minutes=1),
    )
    in_grace = make_connection(
        previous_notification_token="grace-token",
        previous_token_expires_at=timezone.now() + timedelta(hours=1),
    )
    out = io.StringIO()
    call_command("housekeeping", stdout=out)
    counters = RateCounter.objects.exclude(key__startswith="periodic:")  # the jobs' own
    assert list(counters.values_list("key", flat=True)) == ["current"]
    assert MakeShopConnection.objects.get(pk=retired.pk).previous_notification_token == ""
    assert (
        MakeShopConnection.objects.get(pk=in_grace.pk).previous_notification_token
        == "grace-token"
    )
    assert "removed 1 rate counters" in out.getvalue()
    assert "makeshop: forget retired notification URLs: 1" in out.getvalue()


def test_a_periodic_job_runs_once_per_its_interval_unless_all_is_asked():
    first, second, forced = io.StringIO(), io.StringIO(), io.StringIO()
    call_command("housekeeping", stdout=first)
    call_command("housekeeping", stdout=second)
    call_command("housekeeping", "--all", stdout=forced)
    job = "makeshop: forget retired notification URLs"
    assert job in first.getvalue()
    assert job not in second.getvalue()  # its hour has not passed
    assert job in forced.getvalue()
