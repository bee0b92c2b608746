"""The new API's configuration check, the GraphQL sandbox's own rules, and the
``makeshop_sandbox`` app-store actions against a running sandbox and a live server."""

import json
import secrets

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from malls.makeshop.app import sandbox
from malls.makeshop.app.checks import check_app_configuration
from malls.makeshop.app.client import MakeShopAppClient
from malls.makeshop.app.config import get_config, is_enabled
from malls.makeshop.app.models import MakeShopAppInstallation
from malls.makeshop.sandbox import make_server

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

    assert error.id == "makeshop.E101" and error.level >= 40 and words in error.msg
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


@pytest.mark.parametrize("query", [
    "{ searchProduct { id } }",
    '{ searchOrder(input: {page: 1, limit: 1}) { searchedCount totalPrice } }',
    "query Q { getShop { shopId ownerEmail } }",
])
def test_unknown_queries_and_fields_are_422_validation_errors(graphql_sandbox, query):
    status, data = ask(graphql_sandbox, query)
    assert status == 422 and data["errors"][0]["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"
    assert data["errors"][0]["message"].startswith("Cannot query field")


def test_get_shop_names_the_tokens_shop(graphql_sandbox):
    """INVENTED in the sandbox: getShop { shopId } (MakeShop has not published its fields)."""
    status, data = ask(graphql_sandbox, "query GoqWhichShop { getShop { shopId } }")
    assert (status, data) == (200, {"data": {"getShop": {"shopId": "demo-shop"}}})


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


# --- The main sandbox serves the new API, and plays the app store ----------------------------


@pytest.fixture
def main_sandbox(settings):
    """The sandbox ``makeshop_sandbox`` serves, with the new API pointed at it."""
    server = make_server(min_interval=0.0).start_in_thread()
    settings.MAKESHOP_API_BASE_URL = server.url
    settings.MAKESHOP_APP_GRAPHQL_URL = server.url + sandbox.GRAPHQL_PATH
    settings.MAKESHOP_APP_ID = sandbox.SANDBOX_APP_ID
    settings.MAKESHOP_APP_API_KEY = sandbox.SANDBOX_API_KEY
    settings.MAKESHOP_APP_WEBHOOK_SECRET = secrets.token_urlsafe(32)
    yield server
    server.shutdown()


def verify_with(server, shop_id):
    client = MakeShopAppClient(server.url + sandbox.GRAPHQL_PATH, sandbox.SANDBOX_API_KEY)
    try:
        return client.verify_token(shop_id=shop_id, token=sandbox.DEMO_APP_SHOPS[shop_id].token)
    finally:
        client.close()


def test_the_main_sandbox_answers_the_graphql_endpoint(main_sandbox):
    assert verify_with(main_sandbox, "demo-app").ok
    assert main_sandbox.graphql.calls[-1].outcome == "answered"
    assert main_sandbox.calls == []  # the legacy API's records are its own


def test_the_main_sandbox_accepts_the_api_key_it_was_given():
    server = make_server(app_api_key="another-key-" + "x" * 20).start_in_thread()
    try:
        result = verify_with(server, "demo-app")
        assert not result.ok and result.outcome == "unexpected"  # 403: GoQ's key, not the shop's
    finally:
        server.shutdown()


@pytest.mark.django_db(transaction=True)
def test_install_order_update_and_uninstall_through_the_running_sandbox(
    main_sandbox, live_server, settings, capsys, caplog
):
    caplog.set_level("DEBUG")

    def act(action, *extra):
        call_command("makeshop_sandbox", action, "--shop", "demo-app", "--app-url",
                     live_server.url, "--sandbox-url", main_sandbox.url, *extra)

    act("install-app")
    installation = MakeShopAppInstallation.objects.get()
    assert installation.state == "verified"  # the job used the token on the sandbox

    act("order-update", "--order", "D000000777")
    installation.refresh_from_db()
    assert installation.last_update_at is not None

    act("uninstall-app")
    installation.refresh_from_db()
    assert installation.state == "uninstalled" and installation.token is None
    # Revoked inside the sandbox itself: the token MakeShop issued no longer works.
    result = verify_with(main_sandbox, "demo-app")
    assert result.outcome == "rejected"

    act("install-app")  # a re-install gives the token back
    assert verify_with(main_sandbox, "demo-app").ok
    installation.refresh_from_db()
    assert installation.state == "verified"

    output = capsys.readouterr().out
    assert "install-app for demo-app: GoQ answered HTTP 200; the app token works" in output
    assert "uninstall-app for demo-app: GoQ answered HTTP 200; the app token revoked" in output
    assert settings.MAKESHOP_APP_WEBHOOK_SECRET not in output
    # Neither the sandbox nor GoQ nor urllib3 logged the secret or the token.
    assert settings.MAKESHOP_APP_WEBHOOK_SECRET not in caplog.text
    assert sandbox.DEMO_APP_SHOPS["demo-app"].token not in caplog.text
    assert "/_sandbox/app/install" in caplog.text  # the sandbox's own log line, path only


def test_the_command_says_plainly_when_the_new_api_is_off(settings):
    configure(settings)
    with pytest.raises(CommandError, match="new API is off"):
        call_command("makeshop_sandbox", "install-app", "--shop", "demo-app")


def test_the_command_says_plainly_when_no_sandbox_runs(settings):
    configure(settings, **FULL)
    with pytest.raises(CommandError, match="No MakeShop sandbox answered"):
        call_command("makeshop_sandbox", "uninstall-app", "--shop", "demo-app",
                     "--sandbox-url", "http://127.0.0.1:9")


def test_the_admin_path_refuses_what_it_cannot_do(main_sandbox):
    store = main_sandbox.app_store
    body = json.dumps({"shop_id": "demo-app", "app_url": "file:///etc/passwd",
                       "webhook_secret": "s", "app_id": "a"}).encode()
    assert store.handle("install", "192.0.2.1", body).status == 403  # loopback callers only
    assert store.handle("reboot", "127.0.0.1", body).status == 404
    assert store.handle("install", "127.0.0.1", b"[1]").status == 400
    assert store.handle("install", "127.0.0.1", body).status == 400  # not an http(s) URL
    unknown = json.dumps({**json.loads(body), "shop_id": "nobody",
                          "app_url": "http://127.0.0.1:9"}).encode()
    assert store.handle("install", "127.0.0.1", unknown).status == 404
    assert not main_sandbox.graphql.is_revoked("demo-app")


def test_an_uninstall_revokes_the_token_even_when_goq_does_not_answer(main_sandbox):
    status, answer = sandbox.remote_control(
        main_sandbox.url, "uninstall", shop_id="demo-app", app_url="http://127.0.0.1:9",
        webhook_secret="s" * 32, app_id=sandbox.SANDBOX_APP_ID,
    )
    assert status == 502 and answer["token_works"] is False
    assert verify_with(main_sandbox, "demo-app").outcome == "rejected"


def test_the_sandbox_url_and_api_key_follow_the_settings(settings):
    from malls.makeshop.management.commands import makeshop_sandbox as command

    settings.MAKESHOP_APP_GRAPHQL_URL = "http://127.0.0.1:8123/v1/graphql"
    settings.MAKESHOP_APP_API_KEY = "dev-key-" + "y" * 30
    assert command.default_sandbox_url() == "http://127.0.0.1:8123"
    key, said = command.app_api_key()
    assert key == settings.MAKESHOP_APP_API_KEY and key not in said

    settings.MAKESHOP_APP_GRAPHQL_URL = "https://app-api.makeshop.jp/v1/graphql"  # a real one
    settings.MAKESHOP_API_BASE_URL = "https://www.makeshop.jp"
    assert command.default_sandbox_url() == "http://127.0.0.1:8001"
    assert command.app_api_key()[0] == sandbox.SANDBOX_API_KEY  # a real key stays out
