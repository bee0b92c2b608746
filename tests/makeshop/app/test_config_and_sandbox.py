"""The new API's configuration check, the GraphQL sandbox's own rules, and the
``makeshop_app_sandbox`` command against a live server."""

import json
import secrets

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from malls.makeshop.app import sandbox
from malls.makeshop.app.checks import check_app_configuration
from malls.makeshop.app.config import get_config, is_enabled
from malls.makeshop.app.models import MakeShopAppInstallation

SECRET = secrets.token_urlsafe(32)
FULL = {
    "MAKESHOP_APP_GRAPHQL_URL": "https://app-api.makeshop.jp/v1/graphql",
    "MAKESHOP_APP_ID": "goq",
    "MAKESHOP_APP_API_KEY": "k" * 40,
    "MAKESHOP_APP_WEBHOOK_SECRET": SECRET,
}


def configure(settings, **values):
    for name in FULL:
        setattr(settings, name, values.get(name, ""))


# --- Configuration ---------------------------------------------------------------------------


def test_all_unset_is_off_and_fine(settings):
    configure(settings)
    assert not is_enabled() and check_app_configuration() == []


def test_all_set_is_on_and_fine(settings):
    configure(settings, **FULL)
    assert is_enabled() and check_app_configuration() == []


@pytest.mark.parametrize("change, words", [
    ({"MAKESHOP_APP_API_KEY": ""}, "MAKESHOP_APP_API_KEY is not set"),
    ({"MAKESHOP_APP_WEBHOOK_SECRET": "short"}, "at least 32"),
    ({"MAKESHOP_APP_WEBHOOK_SECRET": "x" * 31 + "/"}, "at least 32"),
    ({"MAKESHOP_APP_GRAPHQL_URL": "http://app-api.makeshop.jp/v1/graphql"}, "https"),
    ({"MAKESHOP_APP_GRAPHQL_URL": "https://u:p@app-api.makeshop.jp/v1/graphql"}, "https"),
])
def test_a_partial_or_weak_configuration_stops_start_up(settings, change, words):
    configure(settings, **FULL | change)
    settings.DEBUG = False

    (error,) = check_app_configuration()

    assert error.id == "goq.E101" and error.level >= 40 and words in error.msg
    assert not is_enabled()
    assert "k" * 40 not in error.msg and SECRET not in error.msg


def test_plain_http_is_allowed_for_a_loopback_sandbox(settings):
    configure(settings, **FULL | {"MAKESHOP_APP_GRAPHQL_URL": "http://127.0.0.1:8002/v1/graphql"})
    assert is_enabled()


def test_the_configuration_repr_hides_the_secrets(settings):
    configure(settings, **FULL)
    assert "k" * 40 not in repr(get_config()) and SECRET not in repr(get_config())


# --- The GraphQL sandbox ---------------------------------------------------------------------

TOKEN = sandbox.DEMO_APP_SHOPS["demo-shop"].token


def ask(graphql, query, *, token=TOKEN, timestamp=None, api_key=sandbox.SANDBOX_API_KEY,
        variables=None):
    headers = {"Authorization": f"Bearer {token}", "X-Api-Key": api_key,
               "X-Timestamp": str(timestamp if timestamp is not None else 1_800_000_000)}
    body = json.dumps({"query": query, "variables": variables}).encode()
    answer = graphql.handle("POST", headers, body)
    return answer.status, json.loads(answer.body)


@pytest.fixture
def graphql_sandbox():
    return sandbox.GraphQLSandbox(clock=lambda: 1_800_000_000, min_interval=0.0)


def test_search_order_answers_only_the_requested_fields(graphql_sandbox):
    status, data = ask(graphql_sandbox, 'query { searchOrder(input: {startOrderDate: '
                       '"20270101000000", endOrderDate: "20280101000000", page: 1, limit: 10})'
                       " { searchedCount page orders { displayOrderNumber } } }")

    assert status == 200
    result = data["data"]["searchOrder"]
    assert result["searchedCount"] == 2 and result["page"] == 1
    assert [o["displayOrderNumber"] for o in result["orders"]] == ["D000000102", "D000000103"]


def test_search_order_with_variables_and_a_recent_empty_period(graphql_sandbox):
    status, data = ask(
        graphql_sandbox, "query Q($input: SearchOrderInput!) { searchOrder(input: $input) "
        "{ searchedCount } }",
        variables={"input": {"startOrderDate": "20270115075900",
                             "endOrderDate": "20270115080000"}},
    )
    assert (status, data) == (200, {"data": {"searchOrder": {"searchedCount": 0}}})


@pytest.mark.parametrize("offset, ok", [(-3600, True), (3600, True), (-3601, False),
                                        (3601, False)])
def test_the_timestamp_window_is_one_hour(graphql_sandbox, offset, ok):
    _, data = ask(graphql_sandbox, sandbox_query(), timestamp=1_800_000_000 + offset)
    assert ("errors" not in data) == ok


def sandbox_query():
    return ('{ searchOrder(input: {startOrderDate: "20270101000000", '
            'endOrderDate: "20270101000100", page: 1, limit: 1}) { searchedCount } }')


def test_wrong_token_and_wrong_key_are_refused(graphql_sandbox):
    status, data = ask(graphql_sandbox, sandbox_query(), token="nope")
    assert data["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    status, data = ask(graphql_sandbox, sandbox_query(), api_key="nope")
    assert (status, data) == (403, {"message": "Forbidden"})


def test_unknown_queries_are_validation_errors(graphql_sandbox):
    status, data = ask(graphql_sandbox, "{ searchProduct { id } }")
    assert status == 400 and data["errors"][0]["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"


def test_the_sandbox_enforces_one_call_per_second_per_shop():
    now = [100.0]
    graphql_sandbox = sandbox.GraphQLSandbox(clock=lambda: 1_800_000_000, monotonic=lambda: now[0])

    first, _ = ask(graphql_sandbox, sandbox_query())
    now[0] += 0.5
    second, _ = ask(graphql_sandbox, sandbox_query())
    now[0] += 1.0
    third, _ = ask(graphql_sandbox, sandbox_query())

    assert (first, second, third) == (200, 429, 200)
    assert graphql_sandbox.violations == 1


# --- The command --------------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_the_command_installs_and_uninstalls_the_app_for_a_demo_shop(app_settings, live_server,
                                                                     capsys):
    call_command("makeshop_app_sandbox", "install", "--shop", "demo-app",
                 "--app-url", live_server.url)
    assert MakeShopAppInstallation.objects.get().state == "verified"

    call_command("makeshop_app_sandbox", "order-update", "--shop", "demo-app",
                 "--app-url", live_server.url)
    call_command("makeshop_app_sandbox", "uninstall", "--shop", "demo-app",
                 "--app-url", live_server.url)

    assert MakeShopAppInstallation.objects.get().state == "uninstalled"
    output = capsys.readouterr().out
    assert "install for demo-app: the app answered HTTP 200" in output
    assert app_settings.MAKESHOP_APP_WEBHOOK_SECRET not in output


def test_the_command_says_plainly_when_the_new_api_is_off(settings):
    configure(settings)
    with pytest.raises(CommandError, match="new API is off"):
        call_command("makeshop_app_sandbox", "install", "--shop", "demo-app")
