"""Canary: distinctive secrets must not surface in logs, results or error reports.

Each secret holds a marker made of letters and digits, which every encoding it
could leak in (raw, URL-encoded, HTML-escaped, repr) leaves intact; finding no
marker anywhere means finding no secret. The secrets also hold characters that
URL encoding changes, so a redaction that only knows the raw form would miss.
"""

import html
from urllib.parse import quote

import pytest
from django.views.debug import ExceptionReporter

from malls.makeshop import Outcome
from malls.makeshop.sandbox import DemoShop

from .fault_server import drip, reply, stall

MARKERS = ("Kq7Zorder", "Wv3Xproduct", "Jm5Ypass", "Hb8Twrong")
ORDER_TOKEN = "Kq7Zorder-0f3a &/+=秘 tok"
PRODUCT_CODE = "Wv3Xproduct-9c1e &/+=秘 code"
PASSWORD = "Jm5Ypass-word long/&+= 秘密"  # longer than 12 characters, as it must stay
WRONG = "Hb8Twrong-5d2b &/+=秘"
SHOP_ID = "canary-shop"
CANARY_SHOPS = {SHOP_ID: DemoShop(SHOP_ID, ORDER_TOKEN, PRODUCT_CODE, PASSWORD)}


def run_all_checks(client, secret=None):
    """Every check, with the right secrets or with ``secret`` for each."""
    return [
        client.verify_order_auth_code(shop_id=SHOP_ID, auth_code=secret or ORDER_TOKEN),
        client.verify_product_auth_code(shop_id=SHOP_ID, auth_code=secret or PRODUCT_CODE),
        client.verify_login(shop_id=SHOP_ID, password=secret or PASSWORD),
    ]


def assert_no_marker(text):
    for marker in MARKERS:
        assert marker not in text




@pytest.fixture
def canary_sandbox(make_sandbox):
    return make_sandbox(shops=CANARY_SHOPS, min_interval=0.0)


def test_checks_against_the_sandbox_leak_nothing(canary_sandbox, make_client, logs):
    client = make_client(canary_sandbox.url)

    accepted = run_all_checks(client)
    refused = run_all_checks(client, WRONG)

    assert [r.outcome for r in accepted] == [Outcome.ACCEPTED] * 3
    assert [r.outcome for r in refused] == [Outcome.REJECTED] * 3
    assert "urllib3.connectionpool" in logs.text  # DEBUG request lines were logged...
    assert "token=***" in logs.text  # ...with the token masked
    assert_no_marker(logs.text + repr(accepted) + repr(refused))


FAULTS = {
    "slow to answer": stall(3, reply(200, b"<orders/>")),
    "dripping": drip(b"HTTP/1.0 200 OK\r\n\r\n", b"<orders>", every=0.2),
    "server error": reply(500, b"Internal Server Error", content_type="text/plain"),
    "redirect": reply(302, b"", headers={"Location": "https://elsewhere.invalid/"}),
    "bad xml": reply(200, b"<orders"),
}


@pytest.mark.parametrize("fault_name", list(FAULTS))
def test_failed_checks_leak_nothing(fault, make_client, logs, fault_name):
    fault.behaviour = FAULTS[fault_name]
    client = make_client(fault.url, impatient=fault_name in ("slow to answer", "dripping"))

    if fault_name == "dripping":
        # Each call takes a whole deadline, so only the check whose secret travels in
        # the URL (and so in exception texts) runs.
        results = [client.verify_order_auth_code(shop_id=SHOP_ID, auth_code=ORDER_TOKEN)]
    else:
        results = run_all_checks(client)

    assert all(not r.ok for r in results)
    assert_no_marker(logs.text + repr(results))


def test_refused_connection_leaks_nothing(refused_url, make_client, logs):
    """requests' exception text holds the whole URL, token included."""
    results = run_all_checks(make_client(refused_url))

    assert [r.reason for r in results] == ["refused"] * 3
    assert_no_marker(logs.text + repr(results))


def test_makeshops_message_echoing_the_code_is_scrubbed(fault, make_client, logs):
    echo = f"bad token {ORDER_TOKEN} ({quote(ORDER_TOKEN, safe='')})"
    fault.behaviour = reply(
        200, f"<response><code>1</code><message>{html.escape(echo)}</message></response>".encode()
    )

    (result,) = run_all_checks(make_client(fault.url))[:1]

    assert result.message == "bad token *** (***)"
    assert_no_marker(logs.text + repr(result))


def test_a_failure_inside_the_client_with_the_secret_in_its_text_leaks_nothing(
    fault, make_client, logs, monkeypatch
):
    client = make_client(fault.url)

    def broken_transport(request, **kwargs):
        url = request.url  # the secret, as a local of a frame inside the call
        raise RuntimeError(f"transport broke while sending {url} {request.body}")

    monkeypatch.setattr(client._session.get_adapter(fault.url), "send", broken_transport)

    results = run_all_checks(client)

    assert [r.reason for r in results] == ["internal_error"] * 3
    assert "RuntimeError" in logs.text
    assert_no_marker(logs.text + repr(results))


class Interrupted(BaseException):
    """Like KeyboardInterrupt or gevent's Timeout: not an Exception, so it escapes."""


def reporter(exc):
    return ExceptionReporter(None, type(exc), exc, exc.__traceback__)


def reports(exc):
    return reporter(exc).get_traceback_text() + reporter(exc).get_traceback_html()


@pytest.mark.parametrize("check", [0, 1, 2], ids=["order", "product", "login"])
def test_error_report_of_an_escaping_interruption_hides_the_secrets(
    fault, make_client, monkeypatch, settings, check
):
    """With DEBUG off, Django's reports hide every local below a client method."""
    settings.DEBUG = False
    client = make_client(fault.url)

    def interrupted_transport(request, **kwargs):
        raise Interrupted("interrupted")

    monkeypatch.setattr(client._session.get_adapter(fault.url), "send", interrupted_transport)

    with pytest.raises(Interrupted) as caught:
        [
            lambda: client.verify_order_auth_code(shop_id=SHOP_ID, auth_code=ORDER_TOKEN),
            lambda: client.verify_product_auth_code(shop_id=SHOP_ID, auth_code=PRODUCT_CODE),
            lambda: client.verify_login(shop_id=SHOP_ID, password=PASSWORD),
        ][check]()

    report = reports(caught.value)
    assert "interrupted_transport" in report  # the frames are there...
    assert_no_marker(report)  # ...their secrets are not


@pytest.mark.parametrize("debug", [True, False], ids=["debug on", "debug off"])
def test_error_report_after_a_failed_check_holds_no_secret(
    fault, make_client, monkeypatch, settings, debug
):
    """With DEBUG on, Django filters nothing; an error inside the client must not escape.

    The client swallows the failure, so the caller's own error that follows
    carries no client frame and no chained exception to show.
    """
    settings.DEBUG = debug
    client = make_client(fault.url)

    def broken_transport(request, **kwargs):
        raise RuntimeError(f"transport broke while sending {request.url}")

    monkeypatch.setattr(client._session.get_adapter(fault.url), "send", broken_transport)

    with pytest.raises(LookupError) as caught:
        results = run_all_checks(client)
        raise LookupError(f"the caller failed after: {[r.reason for r in results]}")

    report = reports(caught.value)
    frames = reporter(caught.value).get_traceback_frames()
    assert "internal_error" in report and "results" in report
    assert [frame["function"] for frame in frames] == [
        "test_error_report_after_a_failed_check_holds_no_secret"
    ]  # no client frame, no chained exception
    assert_no_marker(report)
