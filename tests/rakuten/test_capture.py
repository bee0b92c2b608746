"""Captured RMS answers: written without keys or the shop's identity, replayed through the
rules; every capture in tests/rakuten/captures must still get its expected verdict."""

import base64
import io
import json

import pytest
from django.core.management import call_command

from malls.rakuten import capture

from .conftest import keys_of

CAPTURED = sorted(capture.CAPTURES_DIR.glob("*.json"))


def test_a_capture_against_the_sandbox_holds_no_key_and_replays(sandbox, tmp_path):
    keys = keys_of("demo-rakuten")
    files = capture.capture(base_url=sandbox.url, shop_url="demo-rakuten", directory=tmp_path,
                            **keys)

    assert [path.stem for path in files] == [case.name for case in capture.CASES]
    everything = "".join(path.read_text("utf-8") for path in files)
    esa = base64.b64encode(f"{keys['service_secret']}:{keys['license_key']}".encode()).decode()
    for secret in (*keys.values(), esa, keys["license_key"][:-4]):
        assert secret not in everything
    assert "demo-rakuten" not in everything and "デモ楽天ショップ" not in everything
    for path in files:
        record = json.loads(path.read_text("utf-8"))
        assert capture.replay(path).outcome == record["expected"], path.name


@pytest.mark.parametrize("path", CAPTURED, ids=[path.stem for path in CAPTURED])
def test_every_captured_answer_still_gets_its_verdict(path):
    expected = json.loads(path.read_text("utf-8"))["expected"]
    assert capture.replay(path).outcome == expected


def test_the_sandbox_command_lists_the_demo_shops():
    out = io.StringIO()
    call_command("rakuten_sandbox", "--list", stdout=out)
    assert "demo-expiring" in out.getvalue() and "SL900002_sandboxlicense002" in out.getvalue()
