"""Replaying MakeShop's captured answers: every verdict must match the recorded truth.

The files in tests/makeshop/captures/ are written by ``manage.py makeshop_capture``
(real answers, the operator's word on the right verdict) or by hand (``"synthetic":
true``, with the assumption they stand for). Each answer is served again by a tiny
local HTTP server, status, headers and body as recorded, and read by the client.
"""

import contextlib
import io
import json
import re

import pytest
from django.core.management import call_command

from malls.makeshop import Check, MakeShopClient
from malls.makeshop.capture import CAPTURED_SHOP_ID, CAPTURES_DIR, replayed_body
from malls.makeshop.sandbox import DEMO_SHOPS
from malls.models import CallSlot

FILES = sorted(CAPTURES_DIR.glob("*.json"))


def recorded_answers():
    for path in FILES:
        for answer in json.loads(path.read_text(encoding="utf-8"))["answers"]:
            yield pytest.param(answer, id=f"{path.stem}:{answer['case']}")


def replay(answer):
    body = replayed_body(answer)

    def behaviour(handler):
        handler.send_response(answer["status"])
        for name, value in answer["headers"].items():
            handler.send_header(name, value)
        handler.send_header("Content-Length", str(len(body)))
        handler.end_headers()
        handler.wfile.write(body)

    return behaviour


@pytest.mark.parametrize("answer", list(recorded_answers()))
def test_a_captured_answer_gets_the_recorded_verdict(fault, make_client, answer):
    fault.behaviour = replay(answer)

    result = make_client(fault.url).verify(
        Check(answer["check"]), shop_id=CAPTURED_SHOP_ID, secret="replayed-secret"
    )

    expected = answer["expected"]
    assert str(result.outcome) == expected["outcome"], (result, answer["body_text"][:200])
    if "reason" in expected:
        assert str(result.reason) == expected["reason"], result


def test_there_are_captures_and_each_says_what_it_is():
    assert len(FILES) >= 5
    for path in FILES:
        data = json.loads(path.read_text(encoding="utf-8"))
        assert isinstance(data["synthetic"], bool), path.name
        if data["synthetic"]:
            assert data["assumption"], path.name
        else:
            assert "codes_were_right" in data["operator_statement"], path.name
        for answer in data["answers"]:
            assert answer["check"] in {c.value for c in Check}
            assert answer["expected"]["outcome"] in {
                "accepted", "rejected", "unreachable", "unexpected"
            }
            assert not re.search(r"(?<![0-9a-f])[0-9a-f]{32}(?![0-9a-f])", answer["body_text"])


# --- The command, against the sandbox ---------------------------------------------------

SHOP = DEMO_SHOPS["demo-shop"]


def run_capture(tmp_path, sandbox, lines, *extra):
    out = io.StringIO()
    call_command(
        "makeshop_capture", "--shop-id", SHOP.shop_id, "--out", str(tmp_path),
        "--base-url", sandbox.url, *extra, stdin=io.StringIO("\n".join(lines) + "\n"),
        stdout=out,
    )
    (path,) = tmp_path.glob("*.json")
    return path, out.getvalue()


@pytest.mark.django_db(transaction=True)
def test_capture_writes_every_answer_and_no_secret(tmp_path, sandbox, caplog):
    caplog.set_level("DEBUG")
    # The codes, the password (--with-login), "right codes?", five verdicts, a note.
    lines = [SHOP.order_token, SHOP.product_code, SHOP.password, "y", *[""] * 5, "no orders then"]

    path, output = run_capture(tmp_path, sandbox, lines, "--with-login")
    text = path.read_text(encoding="utf-8")

    data = json.loads(text)
    assert data["synthetic"] is False
    assert data["operator_statement"] == {"codes_were_right": True, "note": "no orders then"}
    cases = {answer["case"]: answer for answer in data["answers"]}
    assert set(cases) == {
        "order_right_code_last_minute", "order_wrong_token", "login_wrong_password",
        "product_right_code", "login_right_password",
    }
    assert {name: a["verdict_at_capture"]["outcome"] for name, a in cases.items()} == {
        name: a["expected"]["outcome"] for name, a in cases.items()
    }
    assert SHOP.shop_id not in text  # it names a real merchant
    for secret in (SHOP.order_token, SHOP.product_code, SHOP.password):
        assert secret not in text
        assert secret not in output
        assert secret not in caplog.text
    access_url = json.loads(cases["product_right_code"]["body_text"])["result_data"]["access_url"]
    assert access_url.endswith("shop_id=captured-shop&access_token=***")
    assert sandbox.violations == 0
    assert CallSlot.objects.filter(pk=f"makeshop:{SHOP.shop_id}").get().calls == 5


@pytest.mark.django_db(transaction=True)
def test_the_operators_truth_is_recorded_even_when_it_disagrees(tmp_path, sandbox):
    lines = [SHOP.order_token, SHOP.product_code, "y", "rejected", "", "", ""]

    path, output = run_capture(tmp_path, sandbox, lines)

    data = json.loads(path.read_text(encoding="utf-8"))
    first = data["answers"][0]
    assert (first["verdict_at_capture"]["outcome"], first["expected"]["outcome"]) == (
        "accepted", "rejected"
    )
    assert "disagrees" in output


def test_a_real_capture_replays(tmp_path, fault, make_client):
    """A file the command wrote is read back by the replay as written."""
    from malls.makeshop import capture

    body = b'<?xml version="1.0" encoding="EUC-JP"?><orders/>'
    encoding, text = capture.decode_for_record(body, "text/xml")
    answer = {"status": 200, "headers": {"Content-Type": "text/xml"}, "body_encoding": encoding,
              "body_text": text}
    assert replayed_body(answer) == body
    fault.behaviour = replay(answer)
    with contextlib.closing(MakeShopClient(fault.url)) as client:
        assert client.verify(Check.ORDER_AUTH_CODE, shop_id="s", secret="x").ok
