"""Canaries: Rakuten's keys never reach a log line, whatever the answer.

The licenseKey travels in the expiry call's query string (urllib3 logs request lines
at DEBUG) and the ESA header carries Base64(serviceSecret:licenseKey).
"""

import base64
import logging
from urllib.parse import quote

import pytest

from malls.rakuten import redaction
from malls.rakuten.sandbox import DEMO_SHOPS, Behaviour, DemoShop

SECRET = "SP424242_CanarySecretQ7"
KEY = "SL424242_CanaryLicenseZ9"
ESA = base64.b64encode(f"{SECRET}:{KEY}".encode()).decode()


def _canary_shops(behaviour):
    return {
        **DEMO_SHOPS,
        "canary": DemoShop("canary", SECRET, KEY, behaviour=behaviour, shop_name="canary"),
    }


def _leaks(text: str) -> list[str]:
    forms = {SECRET, KEY, ESA, quote(KEY), quote(SECRET), ESA[:24]}
    return sorted(form for form in forms if form in text)


@pytest.mark.parametrize(
    "behaviour",
    [Behaviour.NORMAL, Behaviour.EXPIRED, Behaviour.NO_ORDERS, Behaviour.BUSY, Behaviour.DOWN],
)
def test_no_key_in_any_log_line_at_debug(make_sandbox, make_client, logs, behaviour):
    sandbox = make_sandbox(min_interval=0, shops=_canary_shops(behaviour))
    verification = make_client(sandbox.url).verify(
        service_secret=SECRET, license_key=KEY, shop_url="canary"
    )

    assert sandbox.calls  # the calls were made, and logged by urllib3 at DEBUG
    assert "licenseKey=***" in logs.text  # urllib3's request line, redacted
    assert _leaks(logs.text) == []
    assert _leaks(repr(verification)) == []


def test_rms_echoing_the_keys_back_is_scrubbed_from_the_result(serve, make_client, logs):
    def app(environ, start_response):
        start_response("400 Bad Request", [("Content-Type", "application/json")])
        body = f'{{"Results":{{"errorCode":"X-{KEY}","message":"bad {SECRET} {ESA}"}}}}'
        return [body.encode()]

    verification = make_client(serve(app).url).verify(
        service_secret=SECRET, license_key=KEY, shop_url="canary"
    )
    assert not verification.ok
    assert _leaks(repr(verification)) == []
    assert _leaks(logs.text) == []


@pytest.mark.parametrize(
    "line",
    [
        f"GET /es/1.0/license-management/license-key/expiry-date?licenseKey={KEY} HTTP/1.1",
        f"GET /x?a=1&licenseKey={quote(KEY)}&b=2",
        f"Authorization: ESA {ESA}",
        f"{{'Authorization': 'ESA {ESA}'}}",
        f'{{"serviceSecret": "{SECRET}", "licenseKey": "{KEY}"}}',
        f"service_secret={SECRET}&license_key={KEY}",
        f"licenseKey%3D{KEY}",
    ],
)
def test_the_redaction_pattern_knows_every_shape(line):
    assert _leaks(redaction.redact(line)) == []


def test_the_filter_redacts_a_records_arguments(logs):
    redaction.install_log_redaction()
    logging.getLogger("urllib3.connectionpool").debug(
        '%s://%s:%s "%s %s %s" %s %s', "https", "api.rms.rakuten.co.jp", 443, "GET",
        f"/es/1.0/license-management/license-key/expiry-date?licenseKey={KEY}", "HTTP/1.1",
        200, 37,
    )
    assert "licenseKey=***" in logs.text
    assert _leaks(logs.text) == []
