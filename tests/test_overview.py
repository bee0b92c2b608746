"""The staff overview: counts by state, cause, application and API, the 30-day series
read back from the history, the chart's geometry, and links that list exactly the
shops a number counts."""

from datetime import UTC, date, datetime, timedelta

import pytest
import time_machine
from django.db import connection as db_connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from malls import services
from malls.makeshop.admin import overview, overview_chart
from malls.makeshop.app import installations
from malls.makeshop.app.models import MakeShopAppInstallation
from malls.makeshop.models import MakeShopConnection
from malls.makeshop.verdicts import check_label
from malls.models import ChangeRecord, MallShop

from .admin_factories import make_staff
from .factories import make_connection, make_shop

Status = MakeShopConnection.Status
Check = MakeShopConnection.Check
Application = MallShop.ApplicationStatus
State = MakeShopAppInstallation.State
pytestmark = pytest.mark.django_db

# 2026-11-20 12:00 in Tokyo.
NOW = datetime(2026, 11, 20, 3, 0, tzinfo=UTC)
TODAY = date(2026, 11, 20)


@pytest.fixture(autouse=True)
def frozen_clock():
    with time_machine.travel(NOW, tick=False):
        yield


def rejected(*, worked=True, since=timedelta(days=2), check=Check.ORDER_AUTH_CODE,
             reason="token_rejected", **extra):
    return make_connection(
        status=Status.REJECTED,
        verified_at=NOW - since - timedelta(days=1) if worked else None,
        failing_since=NOW - since,
        failed_check=check,
        failure_reason=reason,
        **extra,
    )


def status_change(connection_or_shop, old, new, at, action="makeshop.verified"):
    """A history entry as the services write it, dated ``at``."""
    shop = getattr(connection_or_shop, "shop", connection_or_shop)
    record = services.record_change(
        shop=shop, source=ChangeRecord.Source.TASK, action=action,
        changes={"status": [old, new]},
    )
    ChangeRecord.objects.filter(pk=record.pk).update(at=at)


def installed(shop_id, *, connection=None, state=None):
    """A MakeShop app installation, linked to ``connection`` and in ``state``."""
    installation = installations.store_installation(shop_id=shop_id, token="tok-overview")
    MakeShopAppInstallation.objects.filter(pk=installation.pk).update(
        connection=connection, state=state or installation.state
    )


def by_key(figures):
    return {figure.key: figure for figure in figures}


class TestCounts:
    def test_connections_by_status_with_broken_and_recently_broken(self):
        make_connection(status=Status.VERIFIED, verified_at=NOW)
        make_connection(status=Status.VERIFIED, verified_at=NOW)
        make_connection(status=Status.PENDING)
        make_connection(status=Status.UNVERIFIED, verified_at=NOW - timedelta(days=1))
        rejected(worked=False)
        rejected(since=timedelta(hours=3))
        rejected(since=timedelta(days=3))
        rejected(since=timedelta(days=30))

        counts = overview.connection_counts()

        assert counts["total"] == 8
        assert (counts["verified"], counts["pending"], counts["unverified"]) == (2, 1, 1)
        assert counts["rejected"] == 4
        assert counts["unset"] == 0
        assert counts["broken"] == 3  # the one rejected from the start never worked
        assert counts["broke_24h"] == 1
        assert counts["broke_7d"] == 2

    def test_causes_are_counted_on_failing_shops_by_reason_and_check(self):
        rejected(check=Check.ORDER_AUTH_CODE, reason="token_rejected")
        rejected(check=Check.ORDER_AUTH_CODE, reason="token_rejected")
        rejected(check=Check.PRODUCT_AUTH_CODE, reason="token_rejected")
        rejected(check=Check.PASSWORD, reason="login_refused")
        make_connection(status=Status.UNVERIFIED, failed_check=Check.ORDER_AUTH_CODE,
                        failure_reason="maintenance")
        # New settings waiting for their check keep the old failure on the row.
        make_connection(status=Status.PENDING, failed_check=Check.PASSWORD,
                        failure_reason="login_refused")

        figures = overview.cause_figures()

        counted = {(f.params["cause"], f.params["check"]): f.count for f in figures}
        assert counted == {
            ("token_rejected", "order_auth_code"): 2,
            ("token_rejected", "product_auth_code"): 1,
            ("login_refused", "password"): 1,
            ("maintenance", "order_auth_code"): 1,
        }
        first = figures[0]
        assert first.count == 2
        assert check_label(Check.ORDER_AUTH_CODE) in first.label
        assert overview.reason_label("token_rejected") in first.label
        assert sum(f.count for f in figures) == 5

    def test_an_unknown_reason_keeps_makeshops_code_and_no_reason_has_a_label(self):
        make_connection(status=Status.UNVERIFIED, failed_check=Check.ORDER_AUTH_CODE,
                        failure_reason="http_503")
        make_connection(status=Status.UNVERIFIED, failed_check="", failure_reason="")

        figures = by_key(overview.cause_figures())

        assert "http_503" in figures["cause:http_503:order_auth_code"].label
        assert figures["cause::"].params == {"cause": "none", "check": "none"}

    def test_every_application_state_is_listed_even_at_zero(self):
        make_connection(shop=make_shop(application_status=Application.APPLIED))
        make_connection(shop=make_shop(application_status=Application.APPLIED))
        make_connection(shop=make_shop(application_status=Application.APPROVED))
        make_shop(application_status=Application.APPLIED)  # no MakeShop settings: not counted

        figures = by_key(overview.application_figures())

        assert list(figures) == list(Application.values)
        assert figures["applied"].count == 2
        assert figures["approved"].count == 1
        assert figures["not_applied"].count == 0
        assert figures["applied"].params == {"shop__application_status__exact": "applied"}

    def test_shops_are_on_the_app_once_verified_and_on_the_legacy_api_until_then(self):
        make_connection()
        make_connection(status=Status.VERIFIED)
        on_app = make_connection(makeshop_shop_id="on-app")
        installed("on-app", connection=on_app, state=State.VERIFIED)
        not_yet = make_connection(makeshop_shop_id="not-yet")
        installed("not-yet", connection=not_yet, state=State.INSTALLED)
        make_connection(password=None, order_auth_code=None, product_auth_code=None)
        installed("unclaimed", state=State.VERIFIED)  # serves no GoQ shop

        counts = overview.connection_counts()

        assert overview.api_counts(counts) == {"legacy": 3, "app": 1}
        legacy, app = overview.api_figures(counts)
        assert legacy.count == 3 and legacy.url == overview.changelist_url({"api": "legacy"})
        assert app.count == 1 and app.url == overview.changelist_url({"api": "app"})


class TestConstantQueries:
    def test_the_whole_overview_costs_the_same_queries_for_one_shop_or_many(
        self, django_assert_num_queries
    ):
        make_connection(status=Status.VERIFIED)
        with django_assert_num_queries(overview.QUERIES):
            overview.build_overview()

        for n in range(40):
            connection = rejected(reason=["token_rejected", "not_enabled", "timeout"][n % 3],
                                  shop=make_shop(application_status=list(Application)[n % 4]))
            status_change(connection, "unset", "verified", NOW - timedelta(days=n % 29 + 1))
            status_change(connection, "verified", "rejected", NOW - timedelta(hours=n))
        with django_assert_num_queries(overview.QUERIES):
            summary = overview.build_overview()

        assert summary.total == 41


class TestDailySeries:
    def test_thirty_days_oldest_first_ending_today(self):
        days = overview.daily_series(overview.connection_counts())

        assert len(days) == 30
        assert days[-1].day == TODAY
        assert days[0].day == TODAY - timedelta(days=29)

    def test_each_day_is_the_state_at_its_end_read_back_from_the_history(self):
        # Worked from 10 days ago, rejected 3 days ago.
        broke = rejected(since=timedelta(days=3))
        status_change(broke, "unset", "pending", NOW - timedelta(days=10, hours=1))
        status_change(broke, "pending", "verified", NOW - timedelta(days=10))
        status_change(broke, "verified", "rejected", NOW - timedelta(days=3))
        # Saved while MakeShop was down this morning.
        fresh = make_connection(status=Status.UNVERIFIED)
        status_change(fresh, "unset", "unverified", NOW - timedelta(hours=2))
        # No history: taken to have been working all along.
        make_connection(status=Status.VERIFIED)

        days = {day.day: day for day in overview.daily_series(overview.connection_counts())}

        def at(ago):
            day = days[TODAY - timedelta(days=ago)]
            return day.working, day.rejected, day.unverified

        assert at(0) == (1, 1, 1)
        assert at(1) == (1, 1, 0)
        assert at(3) == (1, 1, 0)
        assert at(4) == (2, 0, 0)
        assert at(10) == (2, 0, 0)  # pending then verified, the same day: verified at its end
        assert at(11) == (1, 0, 0)
        assert at(29) == (1, 0, 0)

    def test_days_end_at_midnight_in_tokyo(self):
        connection = make_connection(status=Status.VERIFIED)
        tokyo = timezone.get_default_timezone()
        # 00:30 on the 19th in Tokyo is still the 18th in UTC.
        status_change(connection, "pending", "verified",
                      datetime(2026, 11, 19, 0, 30, tzinfo=tokyo))

        days = {day.day: day for day in overview.daily_series(overview.connection_counts())}

        assert days[date(2026, 11, 19)].working == 1
        assert days[date(2026, 11, 18)].working == 0
        assert days[date(2026, 11, 18)].unverified == 1

    def test_a_deletion_that_recorded_the_status_counts_the_shop_until_then(self):
        shop = make_shop()
        status_change(shop, "unset", "verified", NOW - timedelta(days=5))
        status_change(shop, "verified", None, NOW - timedelta(days=2), action="makeshop.deleted")

        days = {day.day: day for day in overview.daily_series(overview.connection_counts())}

        assert days[TODAY].working == 0
        assert days[TODAY - timedelta(days=2)].working == 0
        assert days[TODAY - timedelta(days=3)].working == 1
        assert days[TODAY - timedelta(days=5)].working == 1
        assert days[TODAY - timedelta(days=6)].working == 0


class TestChart:
    @pytest.mark.parametrize(
        ("peak", "step"), [(0, 1), (4, 1), (5, 2), (8, 2), (9, 5), (20, 5), (21, 10),
                           (100_000, 50_000), (100_001, 50_000)],
    )
    def test_the_axis_step_is_1_2_or_5_times_a_power_of_ten(self, peak, step):
        assert overview_chart.axis_step(peak) == step
        assert step * overview_chart.Y_STEPS >= peak

    def test_lines_span_the_plot_and_values_sit_on_the_scale(self):
        days = [
            overview.Day(TODAY - timedelta(days=29 - i), working=i, rejected=0, unverified=1)
            for i in range(30)
        ]

        chart = overview_chart.line_chart(days)

        working = next(line for line in chart.lines if line.key == "working")
        assert [line.key for line in chart.lines] == ["working", "rejected", "unverified"]
        assert len(working.points) == 30
        assert working.points[0].x == chart.left and working.points[-1].x == chart.right
        assert working.points[0].y == chart.bottom  # zero sits on the axis
        top_tick = chart.y_ticks[-1]
        assert top_tick.label == "40" and top_tick.at == chart.top
        assert chart.x_ticks[-1].label == "11/20"  # today is labelled
        assert len(working.path.split()) == 30


class TestLinks:
    """Every number, followed, lists as many shops as it says."""

    def test_each_figure_links_to_a_list_of_exactly_its_shops(self, client):
        make_connection(status=Status.VERIFIED, verified_at=NOW,
                        shop=make_shop(application_status=Application.APPROVED))
        make_connection(status=Status.PENDING, failed_check=Check.PASSWORD,
                        failure_reason="login_refused")
        make_connection(status=Status.UNVERIFIED, failed_check=Check.ORDER_AUTH_CODE,
                        failure_reason="timeout")
        make_connection(status=Status.UNVERIFIED, failed_check="", failure_reason="")
        rejected(worked=False, shop=make_shop(application_status=Application.APPLIED))
        rejected(since=timedelta(hours=1))
        rejected(since=timedelta(days=5), check=Check.PASSWORD, reason="login_refused")
        rejected(since=timedelta(days=20), reason="not_enabled")
        installed("app-shop", connection=make_connection(makeshop_shop_id="app-shop"),
                  state=State.VERIFIED)
        installed("app-waiting", connection=make_connection(makeshop_shop_id="app-waiting"))
        client.force_login(make_staff())

        summary = overview.build_overview()
        figures = [*summary.by_status, *summary.broke, *summary.by_cause,
                   *summary.by_application, *summary.by_api]

        assert len(figures) > 15
        for figure in figures:
            response = client.get(figure.url)
            assert response.status_code == 200, figure
            assert response.context["cl"].result_count == figure.count, figure


class TestIndexPage:
    INDEX = reverse("admin:index")

    def test_staff_who_may_see_shops_get_the_overview_on_the_admin_index(self, client):
        rejected(since=timedelta(hours=1))
        client.force_login(make_staff())

        html = client.get(self.INDEX).text

        assert "GoQSystem 管理" in html
        assert 'id="goq-overview-title"' in html
        assert "<svg" in html and 'id="goq-chart-table"' in html
        assert f'href="{overview.changelist_url({"broke_within": "24h"})}"'.replace(
            "&", "&amp;"
        ) in html

    def test_the_admin_speaks_english_too(self, client):
        client.force_login(make_staff())
        client.cookies["django_language"] = "en"

        html = client.get(self.INDEX, headers={"accept-language": "en"}).text

        assert "GoQSystem admin" in html
        assert "Shops per day, last 30 days" in html
        assert "Django" not in html

    def test_staff_without_the_shop_permission_see_no_overview_and_cost_no_query(self, client):
        client.force_login(make_staff(permissions=["malls.view_changerecord"]))

        with CaptureQueriesContext(db_connection) as queries:
            html = client.get(self.INDEX).text

        assert "GoQSystem 管理" in html
        assert 'id="goq-overview-title"' not in html
        assert not any("malls_makeshopconnection" in query["sql"] for query in queries)

    def test_the_job_list_has_a_name_staff_can_read(self, client):
        client.force_login(make_staff())

        html = client.get(self.INDEX).text

        assert "Tasks Database Backend" not in html
        assert "Task Results" not in html
        assert "バックグラウンドジョブ" in html


class TestConnectionList:
    """The list's compact columns and the texts Django leaves in English."""

    CHANGELIST = reverse("admin:malls_makeshopconnection_changelist")

    def test_a_row_names_the_failure_in_a_few_words_with_the_details_on_hover(self, client):
        rejected(makeshop_shop_id="broken", makeshop_message="認証に失敗しました")
        client.force_login(make_staff())

        html = client.get(self.CHANGELIST).text

        reason = overview.reason_label("token_rejected")
        assert f"{check_label(Check.ORDER_AUTH_CODE)}: {reason}" in html
        assert 'title="認証に失敗しました\n' in html  # the message, then the likely cause

    def test_the_change_form_gives_the_reason_in_words_and_makeshops_code(self, client):
        connection = rejected(makeshop_shop_id="broken")
        client.force_login(make_staff())

        html = client.get(
            reverse("admin:malls_makeshopconnection_change", args=[connection.pk])
        ).text

        assert f"{overview.reason_label('token_rejected')} (token_rejected)" in html

    def test_the_actions_menu_and_filters_speak_japanese(self, client):
        make_connection()
        client.force_login(make_staff())

        html = client.get(self.CHANGELIST).text

        assert "- Select an option -" not in html
        assert "- 選択してください -" in html
        assert "失敗の原因 で絞り込む" in html

    def test_a_reason_without_words_is_still_a_filter_value(self, client):
        make_connection(makeshop_shop_id="down", status=Status.UNVERIFIED,
                        failed_check=Check.ORDER_AUTH_CODE, failure_reason="http_503")
        make_connection(makeshop_shop_id="old-failure", status=Status.PENDING,
                        failed_check=Check.ORDER_AUTH_CODE, failure_reason="http_503")
        client.force_login(make_staff())

        response = client.get(self.CHANGELIST, {"cause": "http_503"})

        assert [c.makeshop_shop_id for c in response.context["cl"].result_list] == ["down"]
