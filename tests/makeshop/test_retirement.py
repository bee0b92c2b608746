"""The legacy API gone: a 404/410 at once, web pages once they repeat (rule "web-pages-again").

What repeats is remembered on the shops' call slots (``malls.throttle``), so it
holds across processes; these tests go through the slot as every caller does.
"""

import dataclasses

import pytest

from malls.makeshop import MakeShopClient, Outcome, Reason
from malls.makeshop import services as makeshop_services
from malls.makeshop import throttle as makeshop_throttle
from malls.makeshop.legacy.signs import RETIRED_AFTER_SHOPS, Signs
from malls.makeshop.models import MakeShopConnection
from malls.makeshop.sandbox import DEMO_SHOPS
from malls.makeshop.verdicts import advice
from tests.admin_factories import make_demo_connection, sandbox_for

pytestmark = pytest.mark.django_db(transaction=True)

PAGE = DEMO_SHOPS["demo-retired-page"]
DEMO = DEMO_SHOPS["demo-shop"]


class Clock:
    """The slot's clock, moved on by its sleeps: spaced calls without waiting."""

    def __init__(self):
        self.now = 1_000.0

    def __call__(self):
        return self.now

    def sleep(self, seconds):
        self.now += seconds


def check_in_slot(client, shop, clock):
    with makeshop_throttle.makeshop_call_slot(shop.shop_id, clock=clock, sleep=clock.sleep):
        return client.verify_order_auth_code(shop_id=shop.shop_id, auth_code=shop.order_token)


def test_a_shops_second_web_page_in_a_row_is_a_retired_api(make_sandbox, make_client):
    sandbox = make_sandbox(min_interval=0.0)
    client, clock = make_client(sandbox.url), Clock()

    first = check_in_slot(client, PAGE, clock)
    second = check_in_slot(client, PAGE, clock)

    assert (first.outcome, first.reason) == (Outcome.UNEXPECTED, Reason.HTML)
    assert (second.outcome, second.reason, second.detail) == (
        Outcome.UNEXPECTED, Reason.LEGACY_API_RETIRED, "html"
    )


def test_web_pages_from_many_shops_at_once_are_a_retired_api(make_sandbox, make_client):
    shops = {
        f"page-{n}": dataclasses.replace(PAGE, shop_id=f"page-{n}")
        for n in range(RETIRED_AFTER_SHOPS)
    }
    sandbox = make_sandbox(min_interval=0.0, shops=shops)
    client, clock = make_client(sandbox.url), Clock()

    results = [check_in_slot(client, shop, clock) for shop in shops.values()]

    assert [r.reason for r in results] == [Reason.HTML] * (RETIRED_AFTER_SHOPS - 1) + [
        Reason.LEGACY_API_RETIRED
    ]
    assert makeshop_throttle.retired_api_signs(now=clock()) == RETIRED_AFTER_SHOPS


def test_an_api_answer_ends_the_streak():
    book = makeshop_throttle.EvidenceBook("demo-retired-page", clock=lambda: 1_000.0)

    assert book.note("demo-retired-page", not_an_api=True) == Signs(1, 1)
    assert book.note("demo-retired-page", not_an_api=False) == Signs(0, 0)
    assert book.note("demo-retired-page", not_an_api=True) == Signs(1, 1)


def test_other_answers_leave_the_memory_alone(make_sandbox, make_client):
    sandbox = make_sandbox(min_interval=0.0)
    client, clock = make_client(sandbox.url), Clock()

    assert check_in_slot(client, DEMO, clock).ok
    assert check_in_slot(client, DEMO_SHOPS["demo-maint"], clock).reason is Reason.MAINTENANCE

    assert makeshop_throttle.retired_api_signs(now=clock()) == 0


def test_a_retired_api_is_recorded_on_the_shop_with_its_advice(settings):
    connection = make_demo_connection("demo-retired", only_order_code=True)

    with sandbox_for(settings):
        verification = makeshop_services.verify_connection(connection=connection)

    assert verification.outcome is Outcome.UNEXPECTED
    connection = MakeShopConnection.objects.get(pk=connection.pk)
    assert connection.status == MakeShopConnection.Status.UNVERIFIED  # not the merchant's fault
    assert connection.failure_reason == Reason.LEGACY_API_RETIRED
    assert "新API" in advice(connection.failed_check, connection.failure_reason, rejected=False)


def test_the_empty_period_is_verified(settings):
    connection = make_demo_connection("demo-shop", only_order_code=True)

    with sandbox_for(settings) as sandbox:
        verification = makeshop_services.verify_connection(connection=connection)

    assert verification.ok
    assert [fetch.mode for fetch in sandbox.order_fetches] == ["period"]
    connection = MakeShopConnection.objects.get(pk=connection.pk)
    assert connection.status == MakeShopConnection.Status.VERIFIED


def test_unrecognised_words_are_kept_for_staff_and_never_a_rejection(settings):
    connection = make_demo_connection("demo-empty-message", only_order_code=True)

    with sandbox_for(settings):
        makeshop_services.verify_connection(connection=connection)

    connection = MakeShopConnection.objects.get(pk=connection.pk)
    assert connection.status == MakeShopConnection.Status.UNVERIFIED
    assert connection.failure_reason == Reason.UNKNOWN_MESSAGE
    assert connection.makeshop_message.startswith("該当する注文データがありません")


def test_a_bare_client_works_without_any_slot(make_sandbox):
    sandbox = make_sandbox(min_interval=0.0)
    client = MakeShopClient(sandbox.url)
    try:
        result = client.verify_order_auth_code(shop_id=PAGE.shop_id, auth_code=PAGE.order_token)
    finally:
        client.close()

    assert result.reason is Reason.HTML
