"""The GraphQL client over real HTTP: the sandbox for the known shapes, scripted servers
for everything MakeShop might do instead."""

import json
import socket
import time
from datetime import UTC, datetime

import pytest

from malls.makeshop import Outcome
from malls.makeshop.app.client import verification_query
from malls.makeshop.app.sandbox import DEMO_APP_SHOPS

from .conftest import json_answer, stalled

TOKEN = DEMO_APP_SHOPS["demo-shop"].token


def test_a_valid_token_is_accepted_with_the_three_headers(graphql, make_client):
    result = make_client(graphql.url).verify_token(shop_id="demo-shop", token=TOKEN)

    assert (result.outcome, result.reason) == (Outcome.ACCEPTED, None)
    assert str(result.check) == "app_token"
    (call,) = graphql.graphql.calls
    assert call.shop_id == "demo-shop" and call.outcome == "answered"


def test_every_call_carries_a_fresh_timestamp(scripted, make_client):
    server = scripted(json_answer(200, {"data": {"searchOrder": {"searchedCount": 0}}}))
    now = [1_800_000_000.0]
    client = make_client(server.url, api_key="key-1234", clock=lambda: now[0])

    client.verify_token(shop_id="s1", token="tok-a")
    now[0] += 7
    client.verify_token(shop_id="s1", token="tok-a")

    (first, body), (second, _) = server.seen
    assert first["authorization"] == "Bearer tok-a"
    assert first["x-api-key"] == "key-1234"
    assert (first["x-timestamp"], second["x-timestamp"]) == ("1800000000", "1800000007")
    assert "searchOrder" in json.loads(body)["query"]


def test_the_verification_asks_for_one_order_of_the_last_minute_in_japan_time():
    query = verification_query(datetime(2026, 11, 28, 3, 0, 30, tzinfo=UTC))

    assert 'startOrderDate: "20261128115930", endOrderDate: "20261128120030"' in query
    assert "page: 1, limit: 1" in query and "searchedCount" in query


def test_a_wrong_token_is_rejected(graphql, make_client):
    result = make_client(graphql.url).verify_token(shop_id="demo-shop", token="not-the-token")

    assert (result.outcome, result.reason, result.detail) == (
        Outcome.REJECTED, "token_rejected", "UNAUTHENTICATED"
    )


def test_a_revoked_token_is_rejected(graphql, make_client):
    graphql.graphql.revoke("demo-shop")

    result = make_client(graphql.url).verify_token(shop_id="demo-shop", token=TOKEN)

    assert result.outcome == Outcome.REJECTED


def test_our_wrong_api_key_is_not_the_merchants_fault(graphql, make_client):
    result = make_client(graphql.url, api_key="wrong-key").verify_token(
        shop_id="demo-shop", token=TOKEN
    )

    assert (result.outcome, result.reason, result.detail) == (
        Outcome.UNEXPECTED, "unexpected_status", "403"
    )


def test_a_stale_timestamp_is_unexpected_not_rejected(graphql, make_client):
    client = make_client(graphql.url, clock=lambda: time.time() - 7200)

    result = client.verify_token(shop_id="demo-shop", token=TOKEN)

    assert (result.outcome, result.reason, result.detail) == (
        Outcome.UNEXPECTED, "graphql_error", "INVALID_TIMESTAMP"
    )




def errors(code, message="x"):
    return json_answer(200, {"errors": [{"message": message, "extensions": {"code": code}}]})


ERRORS = {
    "http 401": (json_answer(401, {"message": "Unauthorized"}), Outcome.REJECTED,
                 "token_rejected"),
    "errors UNAUTHENTICATED": (
        errors("UNAUTHENTICATED"),
        Outcome.REJECTED, "token_rejected"),
    "errors 'Unauthorized' message": (
        json_answer(200, {"data": None, "errors": [{"message": "Unauthorized"}]}),
        Outcome.REJECTED, "token_rejected"),
    "errors FORBIDDEN": (
        errors("FORBIDDEN", "no scope"),
        Outcome.UNEXPECTED, "graphql_error"),
    "unknown error": (
        json_answer(200, {"errors": [{"message": "Something odd happened"}]}),
        Outcome.UNEXPECTED, "graphql_error"),
    "errors not a list": (json_answer(200, {"errors": "boom"}), Outcome.UNEXPECTED,
                          "unexpected_json"),
    "rate limited (errors)": (
        errors("TOO_MANY_REQUESTS"),
        Outcome.UNREACHABLE, "rate_limited"),
    "http 429": (json_answer(429, {}), Outcome.UNREACHABLE, "rate_limited"),
    "http 500": (json_answer(500, {}), Outcome.UNREACHABLE, "http_5xx"),
    "http 503": (json_answer(503, {}), Outcome.UNREACHABLE, "maintenance"),
    "redirect": (lambda h: (302, {"Location": "https://elsewhere.invalid/"}, b""),
                 Outcome.UNREACHABLE, "redirect"),
    "html": (lambda h: (200, {"Content-Type": "text/html"}, b"<!DOCTYPE html><html></html>"),
             Outcome.UNEXPECTED, "html"),
    "bad json": (lambda h: (200, {}, b"{not json"), Outcome.UNEXPECTED, "bad_json"),
    "empty": (lambda h: (200, {}, b""), Outcome.UNEXPECTED, "empty"),
    "no searchedCount": (json_answer(200, {"data": {"searchOrder": {}}}), Outcome.UNEXPECTED,
                         "unexpected_json"),
    "too large": (lambda h: (200, {}, b" " * 70_000), Outcome.UNEXPECTED, "too_large"),
    "http 404": (
        json_answer(404, {"message": "Not Found"}), Outcome.UNEXPECTED, "unexpected_status"
    ),
}


@pytest.mark.parametrize("name", list(ERRORS))
def test_answers_are_classified(scripted, make_client, name):
    answer, outcome, reason = ERRORS[name]
    server = scripted(answer)

    result = make_client(server.url).verify_token(shop_id="s1", token="tok-a")

    assert (result.outcome, result.reason) == (outcome, reason)


def test_an_unknown_errors_code_and_message_are_kept_for_staff(scripted, make_client):
    server = scripted(json_answer(200, {"errors": [
        {"message": "Plan does not allow orders", "extensions": {"code": "PLAN_LIMIT"}}
    ]}))

    result = make_client(server.url).verify_token(shop_id="s1", token="tok-a")

    assert (result.detail, result.message) == ("PLAN_LIMIT", "Plan does not allow orders")


def test_a_stalling_server_is_cut_at_the_deadline(scripted, make_client):
    server = scripted(stalled(3))
    client = make_client(server.url, read_timeout=5.0, deadline=0.8)

    started = time.monotonic()
    result = client.verify_token(shop_id="s1", token="tok-a")

    assert (result.outcome, result.reason) == (Outcome.UNREACHABLE, "timeout")
    assert time.monotonic() - started < 2.5


def test_a_closed_port_is_unreachable(make_client):
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]

    result = make_client(f"http://127.0.0.1:{port}/v1/graphql").verify_token(
        shop_id="s1", token="tok-a"
    )

    assert (result.outcome, result.reason) == (Outcome.UNREACHABLE, "refused")


def test_the_client_repr_shows_no_key(make_client):
    client = make_client("http://127.0.0.1:9/v1/graphql", api_key="Zk9secret-key")

    assert "Zk9secret" not in repr(client)
