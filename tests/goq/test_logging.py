"""Log lines: one JSON object each, request id attached, secrets and newlines harmless."""

import json
import logging

from goq.logging import JsonFormatter, RequestContextFilter, TextFormatter, request_id_var


def render(formatter, message, *args, **extra):
    record = logging.makeLogRecord(
        {"name": "t", "levelno": 20, "levelname": "INFO", "msg": message, "args": args, **extra}
    )
    RequestContextFilter().filter(record)
    return formatter.format(record)


def test_one_line_per_event_even_with_newlines_in_user_values():
    token = request_id_var.set("req-12345678")
    try:
        line = render(JsonFormatter(), "shop id %s", "evil\n{\"level\": \"ERROR\"}")
    finally:
        request_id_var.reset(token)
    assert "\n" not in line
    event = json.loads(line)
    assert event["request_id"] == "req-12345678"
    assert event["message"].startswith("shop id evil\n")


def test_secrets_in_urls_and_ciphertexts_are_redacted():
    message = (
        "GET /api/orderinfo/index.html?cmd=get&token=0123456789abcdef0123456789abcdef&pw=hunter2"
        " stored gqc1.k1.QUJDREVGR0hJSktMTU5PUA=="
    )
    for formatter in (JsonFormatter(), TextFormatter("%(message)s")):
        line = render(formatter, message)
        assert "0123456789abcdef0123456789abcdef" not in line
        assert "hunter2" not in line
        assert "QUJDREVG" not in line
        assert "token=***" in line


def test_notification_tokens_in_paths_are_redacted():
    line = render(JsonFormatter(), 'POST /makeshop/notify/AbC-123_xyz/demo/1/new/ 500')
    assert "AbC-123_xyz" not in line and "/makeshop/notify/***/demo/1/new/" in line
