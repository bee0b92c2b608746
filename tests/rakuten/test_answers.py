"""The table of rules that reads RMS's answers: every row labelled, every row reachable."""

import json
from datetime import date

import pytest

from malls.rakuten import answers
from malls.rakuten.answers import RULES, Reply
from malls.rakuten.api import Check, Reason


def reply(status, body, content_type="application/json;charset=UTF-8"):
    if isinstance(body, dict):
        body = json.dumps(body, ensure_ascii=False)
    return Reply(status, content_type, body.encode() if isinstance(body, str) else body)


def read(check, answer):
    """As the client reads: the status first, then the whole answer."""
    head = answers.read(check, Reply(answer.status, answer.content_type, None))
    return head or answers.read(check, answer)


ES01 = {"Results": {"errorCode": "ES01-01", "message": "Un-Authorised"}}
SHOP_MASTER = (
    "<shopBizApiResponse><result><status><systemStatus>OK</systemStatus></status>"
    "<shopMaster><shopName>x</shopName><url>My-Shop</url></shopMaster></result>"
    "</shopBizApiResponse>"
)
# (rule expected, check, answer, reason, fact)
EXAMPLES = [
    ("redirect", Check.EXPIRY, reply(301, ""), Reason.REDIRECT, None),
    ("rate-limited", Check.ORDERS, reply(429, ""), Reason.RATE_LIMITED, None),
    ("server-error", Check.SHOP, reply(502, ""), Reason.HTTP_5XX, None),
    ("refused-status", Check.EXPIRY, reply(401, ES01), Reason.UNAUTHORISED, None),
    ("refused-status", Check.ORDERS, reply(401, b""), Reason.UNAUTHORISED, None),
    ("refused-status", Check.EXPIRY,
     reply(401, {"Results": {"errorCode": "ES01-01", "message": "有効期限切れのライセンスキー"}}),
     Reason.EXPIRED, None),
    ("refused-status", Check.SHOP, reply(
        403, "<result><status><systemStatus>NG</systemStatus><message>denied</message>"
        "</status></result>", "text/xml"), Reason.UNAUTHORISED, None),
    ("refusal-code", Check.ORDERS, reply(400, {"MessageModelList": [
        {"messageType": "ERROR", "messageCode": "ES04-01", "message": "Bad Request"}]}),
     Reason.UNAUTHORISED, None),
    ("other-status", Check.EXPIRY, reply(400, {"errors": [{"code": "X1", "message": "m"}]}),
     Reason.UNKNOWN_ERROR, None),
    ("other-status", Check.EXPIRY, reply(404, "gone", "text/plain"),
     Reason.UNEXPECTED_STATUS, None),
    ("empty", Check.EXPIRY, reply(200, b"  "), Reason.EMPTY, None),
    ("web-page", Check.ORDERS, reply(200, "<!DOCTYPE html><html>", "text/html"),
     Reason.HTML, None),
    ("expiry-date", Check.EXPIRY, reply(200, {"expiryDate": "2026-11-28T23:59:59"}),
     None, date(2026, 11, 28)),
    ("expiry-date", Check.EXPIRY, reply(200, "{oops"), Reason.BAD_JSON, None),
    ("orders", Check.ORDERS, reply(200, {"orderNumberList": [], "MessageModelList": [
        {"messageType": "INFO", "messageCode": "I", "message": "ok"}]}), None, None),
    ("orders", Check.ORDERS, reply(200, {"MessageModelList": [
        {"messageType": "ERROR", "messageCode": "E9", "message": "boom"}]}),
     Reason.UNKNOWN_ERROR, None),
    ("shop-master", Check.SHOP, reply(200, SHOP_MASTER, "text/xml"), None, "my-shop"),
    ("shop-master", Check.SHOP, reply(
        200, '<!DOCTYPE x [<!ENTITY a "b">]><x>&a;</x>', "text/xml"), Reason.UNSAFE_XML, None),
    ("shop-master", Check.SHOP, reply(200, "<unclosed", "text/xml"), Reason.BAD_XML, None),
    ("unexpected", Check.EXPIRY, reply(200, {"expiryDate": "soon"}),
     Reason.UNEXPECTED_JSON, None),
    ("unexpected", Check.SHOP, reply(200, "<x/>", "text/xml"), Reason.UNEXPECTED_XML, None),
]


@pytest.mark.parametrize(("rule", "check", "answer", "reason", "fact"), EXAMPLES)
def test_each_answer_gets_its_rules_verdict(rule, check, answer, reason, fact):
    verdict = read(check, answer)
    assert (verdict.rule, verdict.reason, verdict.fact) == (rule, reason, fact)


def test_every_rule_is_labelled_with_its_evidence_and_reached_by_an_example():
    names = [rule.name for rule in RULES]
    assert len(names) == len(set(names))
    for rule in RULES:
        assert rule.evidence.split(":")[0] in ("confirmed", "inferred", "ours"), rule.name
        assert rule.reads in ("status", "body")
    assert {example[0] for example in EXAMPLES} == set(names)


def test_an_expiry_date_with_a_zone_is_moved_to_japan_first():
    assert answers.expiry_date("2026-11-28T16:00:00+00:00") == date(2026, 11, 29)
    assert answers.expiry_date("2026-11-28T23:59:59") == date(2026, 11, 28)
    assert answers.expiry_date("28/11/2026") is None
