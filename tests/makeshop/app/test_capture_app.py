"""``manage.py makeshop_capture`` for the new API against the GraphQL sandbox (right and
wrong token, wrong key, stale and future x-timestamp, a token after uninstall), and its
webhook mode (header names and body shapes, no value), over real HTTP."""

import io
import json

import pytest
from django.core.management import call_command

from malls.makeshop.app.sandbox import DEMO_APP_SHOPS, send_install, send_order_update

pytestmark = pytest.mark.django_db(transaction=True)
TOKEN = DEMO_APP_SHOPS["demo-shop"].token


def run(*args, answers=""):
    out = io.StringIO()
    call_command("makeshop_capture", *args, stdin=io.StringIO(answers), stdout=out)
    return out.getvalue()


def only_file(folder):
    (path,) = folder.glob("*.json")
    return path.read_text(encoding="utf-8"), json.loads(path.read_text(encoding="utf-8"))


def test_the_app_capture_records_every_case_with_goqs_verdict_and_no_secret(
    app_settings, tmp_path
):
    output = run("--app", "--shop-id", "demo-shop", "--out", str(tmp_path),
                 answers=TOKEN + "\n" + "\n" * 5 + "sandbox run\n")

    text, content = only_file(tmp_path)
    seen = {a["case"]: (a["status"], a["verdict_at_capture"]["outcome"])
            for a in content["answers"]}
    assert seen == {
        "app_right_token": (200, "accepted"),
        "app_wrong_token": (200, "rejected"),
        "app_wrong_key": (403, "unexpected"),
        "app_stale_timestamp": (200, "unexpected"),
        "app_future_timestamp": (200, "unexpected"),
    }
    stale = next(a for a in content["answers"] if a["case"] == "app_stale_timestamp")
    assert "INVALID_TIMESTAMP" in stale["body_text"] and stale["clock_offset"] == -3660
    assert all(a["expected"]["outcome"] == a["verdict_at_capture"]["outcome"]
               for a in content["answers"])  # Enter took the expected verdicts
    for secret in (TOKEN, app_settings.MAKESHOP_APP_API_KEY):
        assert secret not in text and secret not in output
    assert "demo-shop" not in text
    assert content["operator_statement"] == {"note": "sandbox run"}


def test_a_token_after_uninstall_is_captured_as_rejected(app_settings, tmp_path):
    app_settings.graphql_server.graphql.revoke("demo-shop")

    run("--app-uninstalled", "--shop-id", "demo-shop", "--out", str(tmp_path),
        answers=TOKEN + "\n\n\n")

    _, content = only_file(tmp_path)
    (answer,) = content["answers"]
    assert (answer["case"], answer["verdict_at_capture"]["outcome"]) == (
        "app_token_after_uninstall", "rejected")


def test_the_webhook_mode_writes_header_names_and_shapes_without_values(
    app_settings, live_server, tmp_path
):
    app = {"app_url": live_server.url, "secret": app_settings.MAKESHOP_APP_WEBHOOK_SECRET}
    send_install("demo-shop", **app)
    send_order_update("demo-shop", order_number="W12345", **app)  # ordinary: no receipt
    assert send_order_update("demo-shop", event="", order_number="", **app) == 200

    output = run("--webhooks", "--out", str(tmp_path))

    text, content = only_file(tmp_path)
    kinds = [w["kind"] for w in content["webhooks"]]
    assert kinds == ["orders", "install"]  # newest first; the unreadable update is kept
    install = content["webhooks"][1]
    assert "content-type" in install["header_names"]
    assert install["shape"]["token"] == f"str:{len(TOKEN)}"
    for value in (TOKEN, "demo-shop", "W12345", app_settings.MAKESHOP_APP_WEBHOOK_SECRET):
        assert value not in text
    assert "2 webhooks, no values" in output
