"""Verdicts only from what we know (``answers.RULES``), over real HTTP.

An empty period in any plausible form is never a rejection; an error inside
``<orders>`` is never success; undeclared Japanese encodings decode; an API that
no longer answers as one gets its own reason and advice.
"""

import re

import pytest
from django.utils import translation

from malls.makeshop import Check, Outcome, Reason
from malls.makeshop.legacy import answers
from malls.makeshop.sandbox import DEMO_SHOPS
from malls.makeshop.verdicts import advice

from ..fault_server import reply

DEMO = DEMO_SHOPS["demo-shop"]


def check_order(client, shop=DEMO):
    return client.verify_order_auth_code(shop_id=shop.shop_id, auth_code=shop.order_token)


@pytest.fixture
def quick_sandbox(make_sandbox):
    """A sandbox without the rate limit, for several checks of one shop in a row."""
    return make_sandbox(min_interval=0.0)


def run_all(client, shop):
    return [
        check_order(client, shop),
        client.verify_product_auth_code(shop_id=shop.shop_id, auth_code=shop.product_code),
        client.verify_login(shop_id=shop.shop_id, password=shop.password),
    ]


# The empty period --------------------------------------------------------------------

EMPTY_ORDERS = {
    "self-closing": b"<orders/>",
    "open and close": b"<orders></orders>",
    "declared, with whitespace": b'<?xml version="1.0" encoding="UTF-8"?>\n<orders>\n</orders>\n',
    "declared EUC-JP": b'<?xml version="1.0" encoding="EUC-JP"?><orders/>',
}


@pytest.mark.parametrize("body", list(EMPTY_ORDERS.values()), ids=list(EMPTY_ORDERS))
def test_an_empty_orders_document_is_accepted(fault, make_client, body):
    fault.behaviour = reply(200, body)

    result = check_order(make_client(fault.url))

    assert result.ok, result


EMPTY_MESSAGES = {
    "response with a message": "<response><message>該当する注文はありません</message></response>",
    "response with code and message": (
        "<response><code>0</code><message>該当データなし</message></response>"
    ),
    "a bare message root": "<message>no orders found</message>",
    "english words": "<result><message>No matching orders.</message></result>",
}


@pytest.mark.parametrize("body", list(EMPTY_MESSAGES.values()), ids=list(EMPTY_MESSAGES))
def test_a_message_only_empty_period_is_unexpected_with_makeshops_words(fault, make_client, body):
    fault.behaviour = reply(200, body.encode("utf-8"))

    result = check_order(make_client(fault.url))

    assert (result.outcome, result.reason) == (Outcome.UNEXPECTED, Reason.UNKNOWN_MESSAGE)
    assert result.message and result.message in body
    assert not result.reason.is_rejection


def test_sandbox_default_empty_period_is_accepted(quick_sandbox, make_client):
    results = run_all(make_client(quick_sandbox.url), DEMO)

    assert all(result.ok for result in results), results
    assert quick_sandbox.order_fetches[0].mode == "period"


def test_sandbox_message_only_empty_period_is_not_a_rejection(sandbox, make_client):
    shop = DEMO_SHOPS["demo-empty-message"]

    result = check_order(make_client(sandbox.url), shop)

    assert (result.outcome, result.reason) == (Outcome.UNEXPECTED, Reason.UNKNOWN_MESSAGE)
    assert result.message.startswith("該当する注文データがありません")


def test_the_message_shown_has_the_code_removed(fault, make_client):
    token = "a1b2c3d4" * 4
    body = f"<response><message>no data for {token}</message></response>"
    fault.behaviour = reply(200, body.encode())

    result = make_client(fault.url).verify_order_auth_code(shop_id="s", auth_code=token)

    assert result.reason is Reason.UNKNOWN_MESSAGE
    assert token not in result.message and "no data for" in result.message


# Errors inside <orders> are never success --------------------------------------------

ORDERS_WITH_ERRORS = {
    "refusal in orders": (
        "<orders><code>401</code><message>認証エラー</message></orders>",
        (Outcome.REJECTED, Reason.TOKEN_REJECTED),
    ),
    "unknown words in orders": (
        "<orders><message>something happened</message></orders>",
        (Outcome.UNEXPECTED, Reason.UNKNOWN_MESSAGE),
    ),
    "error element in orders": (
        "<orders><error>メンテナンス中</error></orders>",
        (Outcome.UNREACHABLE, Reason.MAINTENANCE),
    ),
    "error code beside an order": (
        "<orders><order><ordernum>1</ordernum></order><error_code>E9</error_code></orders>",
        (Outcome.UNEXPECTED, Reason.UNKNOWN_MESSAGE),
    ),
}


@pytest.mark.parametrize("answer", list(ORDERS_WITH_ERRORS))
def test_an_orders_document_carrying_an_error_is_not_accepted(fault, make_client, answer):
    body, expected = ORDERS_WITH_ERRORS[answer]
    fault.behaviour = reply(200, body.encode())

    result = check_order(make_client(fault.url))

    assert (result.outcome, result.reason) == expected


# Only recognised refusals reject -----------------------------------------------------

WORDS = {
    "認証に失敗しました": Reason.TOKEN_REJECTED,
    "認証コードが違います": Reason.TOKEN_REJECTED,
    "トークンが不正です": Reason.TOKEN_REJECTED,
    "Invalid token": Reason.TOKEN_REJECTED,
    "authentication failed": Reason.TOKEN_REJECTED,
    "API利用が承認されていません": Reason.NOT_ENABLED,
    "エラーが発生しました": Reason.UNKNOWN_MESSAGE,
    "該当する注文がありません": Reason.UNKNOWN_MESSAGE,
    "not found": Reason.UNKNOWN_MESSAGE,
    "error": Reason.UNKNOWN_MESSAGE,
}


@pytest.mark.parametrize("message", list(WORDS))
def test_only_an_explicit_refusal_is_a_rejection(message):
    verdict = answers.classify(answers.Words("", message))

    assert verdict.reason is WORDS[message]


# Encoding: declaration, HTTP charset, then EUC-JP / UTF-8 / CP932 ------------------------

REFUSAL = "<response><message>認証コードが違います</message></response>"


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        (REFUSAL.encode("euc_jp"), "text/xml"),  # nothing declared
        (REFUSAL.encode("euc_jp"), "text/xml; charset=EUC-JP"),  # HTTP only
        (REFUSAL.encode("cp932"), "text/xml; charset=Shift_JIS"),
        (REFUSAL.encode("cp932"), "text/xml"),  # undeclared Shift_JIS
        (('<?xml version="1.0" encoding="UTF-8"?>' + REFUSAL).encode("euc_jp"), "text/xml"),
        (
            ('<?xml version="1.0" encoding="EUC-JP"?>' + REFUSAL).encode("euc_jp"),
            "text/xml; charset=UTF-8",
        ),
    ],
    ids=["undeclared euc-jp", "http charset", "http shift_jis", "undeclared shift_jis",
         "wrong declaration", "declaration beats http"],
)
def test_japanese_answers_decode_however_they_are_labelled(fault, make_client, body, content_type):
    fault.behaviour = reply(200, body, content_type=content_type)

    result = check_order(make_client(fault.url))

    assert (result.reason, result.message) == (Reason.TOKEN_REJECTED, "認証コードが違います")


def test_sandbox_undeclared_eucjp_orders_decode(quick_sandbox, make_client):
    shop = DEMO_SHOPS["demo-eucjp-bare"]

    results = run_all(make_client(quick_sandbox.url), shop)

    assert all(result.ok for result in results), results


# The legacy API gone -----------------------------------------------------------------


def test_a_retired_api_gets_its_own_reason_for_every_check(quick_sandbox, make_client):
    shop = DEMO_SHOPS["demo-retired"]

    results = run_all(make_client(quick_sandbox.url), shop)

    assert [(r.outcome, r.reason, r.detail) for r in results] == [
        (Outcome.UNEXPECTED, Reason.LEGACY_API_RETIRED, "404")
    ] * 3


@pytest.mark.parametrize("language", ["en", "ja"])
def test_a_retired_api_gets_advice_pointing_to_the_new_api(language):
    with translation.override(language):
        text = advice(Check.ORDER_AUTH_CODE, Reason.LEGACY_API_RETIRED, rejected=False)

    assert ("new API" in text) if language == "en" else ("新API" in text)


def test_a_single_web_page_is_only_a_web_page(sandbox, make_client):
    """Without the shop's slot (no memory), one page is no proof of a closure."""
    result = check_order(make_client(sandbox.url), DEMO_SHOPS["demo-retired-page"])

    assert (result.outcome, result.reason) == (Outcome.UNEXPECTED, Reason.HTML)


# Product answers in the real shape ---------------------------------------------------

PRODUCT = {
    "real success": (
        b'{"result_data": {"status_code": "200", "error_message": null, '
        b'"access_url": "https://x/api/product/search/?shop_id=s&access_token=t", '
        b'"expire_date": "20261129120500"}}',
        None,
    ),
    "200 with an error message": (
        b'{"result_data": {"status_code": "200", "error_message": "something"}}',
        Reason.UNKNOWN_MESSAGE,
    ),
    "another status with unknown words": (
        b'{"result_data": {"status_code": "500", "error_message": "unknown"}}',
        Reason.UNKNOWN_MESSAGE,
    ),
    "refusal": (
        '{"result_data": {"status_code": "400", "error_message": "認証コードが不正です"}}'.encode(),
        Reason.TOKEN_REJECTED,
    ),
}


@pytest.mark.parametrize("answer", list(PRODUCT))
def test_product_answers(fault, make_client, answer):
    body, reason = PRODUCT[answer]
    fault.behaviour = reply(200, body, content_type="application/json")

    result = make_client(fault.url).verify_product_auth_code(shop_id="s", auth_code="c")

    assert result.reason is reason


# The table ---------------------------------------------------------------------------


def test_every_rule_names_its_evidence_once():
    names = [rule.name for rule in answers.RULES]

    assert len(names) == len(set(names))
    for rule in answers.RULES:
        assert re.match(r"(known|assumed|ours): ", rule.evidence), rule.name
        assert rule.reads in {"status", "page", "parse", "orders", "product", "login", "words",
                              "history"}


def test_every_verdict_names_the_rule_that_gave_it(fault, make_client):
    fault.behaviour = reply(200, b"<orders/>")
    names = {rule.name for rule in answers.RULES}

    reply_ = answers.Reply(200, "text/xml", b"<orders/>")
    assert answers.read(Check.ORDER_AUTH_CODE, reply_).rule == "orders-document"
    assert answers.read(Check.ORDER_AUTH_CODE, answers.Reply(200, "", b"\xff")).rule in names
    assert answers.read(Check.PASSWORD, answers.Reply(404, "", None)).rule == "api-path-gone"
