"""The MakeShop client: every answer and failure becomes a CheckResult, in time."""

import dataclasses
import logging
import time
from datetime import UTC, datetime
from urllib.parse import parse_qs, urlsplit

import pytest

from core.redaction import RedactFilter
from malls.makeshop import Check, MakeShopClient, Outcome, Reason, get_client
from malls.makeshop.api import LEGACY_CHECKS
from malls.makeshop.legacy import client as client_module
from malls.makeshop.sandbox import DEMO_SHOPS

from ..fault_server import drip, raw, reply, stall

MARGIN = 1.0  # scheduling slack on top of the client's deadline, for loaded machines

DEMO = DEMO_SHOPS["demo-shop"]
EUCJP = DEMO_SHOPS["demo-eucjp"]

MAINTENANCE_PAGE = (
    "<!DOCTYPE html><html><head><title>メンテナンスのお知らせ</title></head>"
    "<body>ただいまメンテナンス中です</body></html>"
)
BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
]>
<orders><order>&lol4;</order></orders>"""
EXTERNAL_ENTITY = b"""<?xml version="1.0"?>
<!DOCTYPE orders [<!ENTITY leak SYSTEM "file:///etc/passwd">]>
<orders><order>&leak;</order></orders>"""


def check_order(client):
    return client.verify_order_auth_code(shop_id="demo-shop", auth_code=DEMO.order_token)


def check_product(client):
    return client.verify_product_auth_code(shop_id="demo-shop", auth_code=DEMO.product_code)


def check_login(client):
    return client.verify_login(shop_id="demo-shop", password=DEMO.password)


CHECKS = {
    Check.ORDER_AUTH_CODE: check_order,
    Check.PRODUCT_AUTH_CODE: check_product,
    Check.PASSWORD: check_login,
}


def timed(client, call):
    """Run ``call(client)`` and insist that it ended within the client's deadline."""
    started = time.monotonic()
    result = call(client)
    took = time.monotonic() - started
    assert took < client.deadline + MARGIN, f"took {took:.2f} s: {result}"
    return result


# Happy paths and verdicts, against the sandbox ------------------------------------


@pytest.mark.parametrize("shop_id", ["demo-shop", "demo-eucjp"])
@pytest.mark.parametrize("check", LEGACY_CHECKS)
def test_demo_shop_codes_are_accepted(sandbox, make_client, shop_id, check):
    shop = DEMO_SHOPS[shop_id]
    client = make_client(sandbox.url)
    calls = {
        Check.ORDER_AUTH_CODE: lambda: client.verify_order_auth_code(
            shop_id=shop_id, auth_code=shop.order_token
        ),
        Check.PRODUCT_AUTH_CODE: lambda: client.verify_product_auth_code(
            shop_id=shop_id, auth_code=shop.product_code
        ),
        Check.PASSWORD: lambda: client.verify_login(shop_id=shop_id, password=shop.password),
    }

    result = calls[check]()

    assert result.ok, result
    assert (result.check, result.reason, result.detail, result.message) == (check, None, "", "")
    assert sandbox.violations == 0


def test_order_check_always_asks_for_the_last_minute_explicitly(sandbox, make_client):
    """A call without a period would move MakeShop's "last fetched" marker."""
    client = make_client(sandbox.url)

    assert client.verify_order_auth_code(shop_id="demo-shop", auth_code=DEMO.order_token).ok
    assert client.verify_order_auth_code(shop_id="demo-eucjp", auth_code=EUCJP.order_token).ok

    fetches = sandbox.order_fetches
    assert [fetch.mode for fetch in fetches] == ["period", "period"]
    for fetch in fetches:
        start = datetime.strptime(fetch.start, "%Y%m%d%H%M%S")
        end = datetime.strptime(fetch.end, "%Y%m%d%H%M%S")
        assert (end - start).total_seconds() == 60


def test_order_period_is_the_minute_before_now_in_tokyo_time(fault, make_client):
    fault.behaviour = reply(200, b"<orders/>")
    client = make_client(fault.url)

    result = client.verify_order_auth_code(
        shop_id="demo-shop", auth_code="x", now=datetime(2025, 1, 15, 1, 0, tzinfo=UTC)
    )

    assert result.ok
    (seen,) = fault.seen
    assert urlsplit(seen.path).path == "/api/orderinfo/index.html"
    assert parse_qs(urlsplit(seen.path).query) == {
        "cmd": ["get"],
        "shopid": ["demo-shop"],
        "token": ["x"],
        "service": ["goq"],
        "start": ["20250115095900"],
        "end": ["20250115100000"],
    }


def test_order_check_refuses_a_naive_now(make_client):
    client = make_client("http://127.0.0.1:9")
    with pytest.raises(ValueError, match="timezone-aware"):
        client.verify_order_auth_code(shop_id="s", auth_code="x", now=datetime(2025, 1, 15))


def test_forms_carry_the_fields_makeshop_expects(fault, make_client):
    fault.behaviour = reply(200, b"FAILURE", content_type="text/plain")
    client = make_client(fault.url)

    client.verify_product_auth_code(shop_id="demo-shop", auth_code="code")
    client.verify_login(shop_id="demo-shop", password="a password longer than twelve")

    product, login = fault.seen
    assert (product.method, product.path) == ("POST", "/api/product/auth/")
    assert parse_qs(product.body.decode()) == {
        "shop_id": ["demo-shop"],
        "auth_code": ["code"],
        "process": ["search"],
        "response_format": ["json"],
    }
    assert (login.method, login.path) == ("POST", "/api/webftp/index.html")
    assert parse_qs(login.body.decode()) == {
        "id": ["demo-shop"],
        "pw": ["a password longer than twelve"],  # whole: never cut to 12 characters
    }


@pytest.mark.parametrize(
    ("shop_id", "message_start"),
    [("demo-shop", "認証に失敗しました"), ("demo-eucjp", "認証に失敗しました")],
)
def test_wrong_order_code_is_rejected_with_makeshops_message(
    sandbox, make_client, shop_id, message_start
):
    result = make_client(sandbox.url).verify_order_auth_code(shop_id=shop_id, auth_code="0" * 32)

    assert (result.outcome, result.reason, result.detail) == (
        Outcome.REJECTED,
        "token_rejected",
        "401",
    )
    assert result.message.startswith(message_start)


def test_wrong_product_code_is_rejected(sandbox, make_client):
    result = make_client(sandbox.url).verify_product_auth_code(
        shop_id="demo-shop", auth_code="wrong"
    )

    assert (result.outcome, result.reason, result.detail) == (
        Outcome.REJECTED,
        "token_rejected",
        "401",
    )


def test_a_password_cut_to_twelve_characters_is_refused(sandbox, make_client):
    result = make_client(sandbox.url).verify_login(shop_id="demo-shop", password=DEMO.password[:12])

    assert (result.outcome, result.reason) == (Outcome.REJECTED, "login_refused")


@pytest.mark.parametrize("check", [Check.ORDER_AUTH_CODE, Check.PRODUCT_AUTH_CODE])
def test_shop_without_approved_api_use_is_not_enabled(sandbox, make_client, check):
    shop = DEMO_SHOPS["demo-pending"]
    client = make_client(sandbox.url)
    if check is Check.ORDER_AUTH_CODE:
        result = client.verify_order_auth_code(shop_id=shop.shop_id, auth_code=shop.order_token)
    else:
        result = client.verify_product_auth_code(shop_id=shop.shop_id, auth_code=shop.product_code)

    assert (result.outcome, result.reason, result.detail) == (
        Outcome.REJECTED,
        "not_enabled",
        "403",
    )
    assert "承認" in result.message


def test_shop_under_maintenance_is_unreachable(sandbox, make_client):
    shop = DEMO_SHOPS["demo-maint"]
    result = make_client(sandbox.url).verify_login(shop_id=shop.shop_id, password=shop.password)

    assert (result.outcome, result.reason) == (Outcome.UNREACHABLE, "maintenance")


def test_sandbox_rate_limit_answer_reads_as_rate_limited(sandbox, sandbox_clock, make_client):
    client = make_client(sandbox.url)
    assert check_login(client).ok

    result = check_order(client)  # the same shop, at once

    assert (result.outcome, result.reason) == (Outcome.UNREACHABLE, "rate_limited")
    assert sandbox.violations == 1


# Faults: each becomes the right result, within the deadline -------------------------

FAULTS = {
    "server error": (
        reply(500, b"<html><body>Internal Server Error</body></html>", content_type="text/html"),
        Outcome.UNREACHABLE,
        ("http_5xx", "500"),
    ),
    "bad gateway": (
        reply(502, b"", content_type="text/html"),
        Outcome.UNREACHABLE,
        ("http_5xx", "502"),
    ),
    "503": (reply(503, b"", content_type="text/html"), Outcome.UNREACHABLE, "maintenance"),
    "maintenance page on a 500": (
        reply(500, MAINTENANCE_PAGE.encode("cp932"), content_type="text/html"),
        Outcome.UNREACHABLE,
        "maintenance",
    ),
    "maintenance page on a 200": (
        reply(200, MAINTENANCE_PAGE.encode("euc_jp"), content_type="text/html"),
        Outcome.UNREACHABLE,
        "maintenance",
    ),
    "429": (reply(429, b"", headers={"Retry-After": "1"}), Outcome.UNREACHABLE, "rate_limited"),
    "403": (
        reply(403, b"Forbidden", content_type="text/plain"),
        Outcome.UNEXPECTED,
        ("unexpected_status", "403"),
    ),
    # The legacy API's documented path is gone: MakeShop announced its closure.
    "404": (
        reply(404, b"<html>Not Found</html>"),
        Outcome.UNEXPECTED,
        ("legacy_api_retired", "404"),
    ),
    "410": (reply(410, b""), Outcome.UNEXPECTED, ("legacy_api_retired", "410")),
    "204": (reply(204, b""), Outcome.UNEXPECTED, ("unexpected_status", "204")),
    "empty body": (reply(200, b""), Outcome.UNEXPECTED, "empty"),
    "some other page": (
        reply(200, b"<!DOCTYPE html><html><body>Login</body></html>", content_type="text/html"),
        Outcome.UNEXPECTED,
        "html",
    ),
    "declared too large": (
        reply(200, b"<orders/>", headers={"Content-Length": "9999999"}, content_length=False),
        Outcome.UNEXPECTED,
        "too_large",
    ),
    "too large": (
        reply(200, b"<orders>" + b" " * 200_000 + b"</orders>", content_length=False),
        Outcome.UNEXPECTED,
        "too_large",
    ),
    "cut short": (
        raw(b"HTTP/1.0 200 OK\r\nContent-Length: 1000\r\n\r\n<orders>"),
        Outcome.UNREACHABLE,
        "connection",
    ),
    "redirect": (
        reply(302, b"", headers={"Location": "https://elsewhere.invalid/"}),
        Outcome.UNREACHABLE,
        "redirect",
    ),
    "slow to answer": (stall(3, reply(200, b"<orders/>")), Outcome.UNREACHABLE, "timeout"),
    "dripping body": (
        drip(b"HTTP/1.0 200 OK\r\n\r\n", b"<orders>", every=0.2),
        Outcome.UNREACHABLE,
        "timeout",
    ),
    "dripping headers": (
        drip(b"", b"HTTP/1.0 200 OK\r\nX-Slow: yes\r\n", every=0.2),
        Outcome.UNREACHABLE,
        "timeout",
    ),
}


# The slow faults take their whole deadline: they run for one GET and one POST check.
SLOW_FAULTS = {"slow to answer", "dripping body", "dripping headers"}
FAULT_CASES = [
    (fault_name, check)
    for fault_name in FAULTS
    for check in LEGACY_CHECKS
    if fault_name not in SLOW_FAULTS or check is not Check.PRODUCT_AUTH_CODE
]


@pytest.mark.parametrize(("fault_name", "check"), FAULT_CASES)
def test_fault_gives_the_right_result_within_the_deadline(fault, make_client, fault_name, check):
    behaviour, outcome, reason = FAULTS[fault_name]
    reason, detail = reason if isinstance(reason, tuple) else (reason, "")
    fault.behaviour = behaviour

    client = make_client(fault.url, impatient=fault_name in SLOW_FAULTS)

    result = timed(client, CHECKS[check])

    assert (result.check, result.outcome, result.reason) == (check, outcome, reason)
    assert result.detail == detail
    assert isinstance(result.reason, Reason) and result.reason.outcome is outcome


@pytest.mark.parametrize("check", LEGACY_CHECKS)
def test_refused_connection_is_unreachable(refused_url, make_client, check):
    result = timed(make_client(refused_url), CHECKS[check])

    assert (result.outcome, result.reason) == (Outcome.UNREACHABLE, "refused")


def test_untrusted_certificate_is_refused(tls_fault, make_client):
    tls_fault.behaviour = reply(200, b"<orders/>")

    result = timed(make_client(tls_fault.url), check_order)

    assert (result.outcome, result.reason) == (Outcome.UNREACHABLE, "tls")
    assert tls_fault.seen == []


@pytest.mark.parametrize(
    ("behaviour", "reason"),
    [
        (reply(200, b"<orders/>"), None),
        (drip(b"HTTP/1.0 200 OK\r\n\r\n", b"<orders>", every=0.2), "timeout"),
        (drip(b"", b"HTTP/1.0 200 OK\r\nX-Slow: yes\r\n", every=0.2), "timeout"),
    ],
    ids=["answer", "dripping body", "dripping headers"],
)
def test_trusted_tls_server_is_read_within_the_deadline(
    tls_fault, make_client, certificate, monkeypatch, behaviour, reason
):
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", certificate)  # requests' own way to trust a CA
    tls_fault.behaviour = behaviour

    result = timed(make_client(tls_fault.url, impatient=reason == "timeout"), check_order)

    assert result.reason == reason


def test_redirect_is_never_followed(make_fault, make_client):
    elsewhere = make_fault(reply(200, b"<orders/>"))
    origin = make_fault(reply(302, b"", headers={"Location": f"{elsewhere.url}/api/orderinfo/"}))

    result = check_order(make_client(origin.url))

    assert result.reason == "redirect"
    assert len(origin.seen) == 1
    assert elsewhere.seen == []


ORDER_ANSWERS = {
    "utf-8 without declaration": (b"<orders><order><ordernum>1</ordernum></order></orders>", True),
    "no orders": (b'<?xml version="1.0" encoding="UTF-8"?>\n<orders></orders>', True),
    "euc-jp with vendor characters": (
        '<?xml version="1.0" encoding="EUC-JP"?>\n'
        "<orders><order><buyer><name>①髙山 ㈱テスト～</name></buyer></order></orders>".encode(
            "euc_jis_2004", errors="replace"
        ),
        True,
    ),
    "shift_jis": (
        '<?xml version="1.0" encoding="Shift_JIS"?><orders><order>山田</order></orders>'.encode(
            "cp932"
        ),
        True,
    ),
    "garbage": (b"\x00\xff\xfe garbage \x81\x82", "bad_xml"),
    "truncated": (b'<?xml version="1.0"?><orders><order><ordernum>1', "bad_xml"),
    # A label no codec knows is passed over: the next candidates read the document.
    "unknown encoding": (b'<?xml version="1.0" encoding="x-unheard-of"?><orders/>', True),
    "no codec reads it": (b"<orders>\x80\xff\xfe</orders>", "bad_xml"),
    "billion laughs": (BILLION_LAUGHS, "unsafe_xml"),
    "external entity": (EXTERNAL_ENTITY, "unsafe_xml"),
    "other root": (b"<result><items/></result>", "unexpected_xml"),
    "error saying OK": (
        b"<response><code>0</code><message>OK</message></response>",
        "unexpected_xml",
    ),
}


@pytest.mark.parametrize("answer", list(ORDER_ANSWERS))
def test_order_answer_is_read_in_its_declared_encoding_and_defused(fault, make_client, answer):
    body, expected = ORDER_ANSWERS[answer]
    fault.behaviour = reply(200, body)

    result = timed(make_client(fault.url), check_order)

    if expected is True:
        assert result.ok, result
    else:
        assert (result.outcome, result.reason) == (Outcome.UNEXPECTED, expected)


# Encodings Python knows by name but cannot read a document with: "undefined" raises
# a plain UnicodeError, idna refuses anything but ASCII labels, the rest are not text
# codecs at all. Each is a broken answer (bad_xml), never an internal error.
UNUSABLE_ENCODINGS = (
    "undefined", "idna", "punycode", "unicode_escape", "hex", "rot13", "zlib", "base64",
    "uu", "bz2",
)


@pytest.mark.parametrize("encoding", UNUSABLE_ENCODINGS)
def test_an_answer_declaring_an_unusable_encoding_is_bad_xml(fault, make_client, encoding, caplog):
    declared = f'<?xml version="1.0" encoding="{encoding}"?><orders/>'.encode()
    fault.behaviour = reply(200, declared)

    result = timed(make_client(fault.url), check_order)

    assert (result.outcome, result.reason) == (Outcome.UNEXPECTED, "bad_xml")
    assert not [record for record in caplog.records if record.levelno >= logging.ERROR]


@pytest.mark.parametrize("encoding", UNUSABLE_ENCODINGS)
def test_an_unusable_http_charset_is_bad_xml_too(fault, make_client, encoding):
    fault.behaviour = reply(200, b"<orders/>", content_type=f"text/xml; charset={encoding}")

    result = timed(make_client(fault.url), check_order)

    assert (result.outcome, result.reason) == (Outcome.UNEXPECTED, "bad_xml")


def test_a_product_answer_with_an_unusable_charset_is_still_read(fault, make_client):
    """JSON is UTF-8 unless HTTP names a usable charset: a silly one changes nothing."""
    fault.behaviour = reply(
        200, b'{"result_data": {"status_code": 200}}', content_type="application/json; charset=hex"
    )

    assert timed(make_client(fault.url), check_product).ok


ERROR_ANSWERS = {
    "euc-jp rejection": (
        '<?xml version="1.0" encoding="EUC-JP"?><error><code>E01</code>'
        "<message>認証コードが違います</message></error>".encode("euc_jp"),
        (Outcome.REJECTED, "token_rejected", "E01", "認証コードが違います"),
    ),
    "message only": (
        b"<response><message>invalid token</message></response>",
        (Outcome.REJECTED, "token_rejected", "", "invalid token"),
    ),
    "not approved": (
        "<response><code>E99</code><message>API利用申請が承認されていません</message></response>".encode(),
        (Outcome.REJECTED, "not_enabled", "E99", "API利用申請が承認されていません"),
    ),
    "busy": (
        b"<response><code>429</code><message>Too Many Requests</message></response>",
        (Outcome.UNREACHABLE, "rate_limited", "429", "Too Many Requests"),
    ),
    "maintenance": (
        "<response><code>503</code><message>メンテナンス中です</message></response>".encode(),
        (Outcome.UNREACHABLE, "maintenance", "503", "メンテナンス中です"),
    ),
}


@pytest.mark.parametrize("answer", list(ERROR_ANSWERS))
def test_order_error_answer_is_classified(fault, make_client, answer):
    body, expected = ERROR_ANSWERS[answer]
    fault.behaviour = reply(200, body)

    result = check_order(make_client(fault.url))

    assert (result.outcome, result.reason, result.detail, result.message) == expected


def test_makeshops_message_is_cut_to_500_characters(fault, make_client):
    fault.behaviour = reply(200, b"<response><message>" + b"x" * 2000 + b"</message></response>")

    assert check_order(make_client(fault.url)).message == "x" * 500


PRODUCT_ANSWERS = {
    "accepted": (b'{"result_data": {"status_code": 200, "access_url": "https://x/"}}', None),
    "status as text": (b'{"result_data": {"status_code": "200"}}', None),
    "rejected": (
        b'{"result_data": {"status_code": 401, "message": "bad code"}}',
        (Outcome.REJECTED, "token_rejected"),
    ),
    "not enabled": (
        b'{"result_data": {"status_code": 403, "message": "denied"}}',
        (Outcome.REJECTED, "not_enabled"),
    ),
    "not json": (b"{status_code: 200", (Outcome.UNEXPECTED, "bad_json")),
    "deeply nested": (b"[" * 100_000 + b"]" * 100_000, (Outcome.UNEXPECTED, "too_large")),
    "nested within the cap": (b"[" * 30_000 + b"]" * 30_000, (Outcome.UNEXPECTED, "bad_json")),
    "no result_data": (b'{"status_code": 200}', (Outcome.UNEXPECTED, "unexpected_json")),
    "a list": (b"[200]", (Outcome.UNEXPECTED, "unexpected_json")),
    "boolean status": (
        b'{"result_data": {"status_code": true}}',
        (Outcome.UNEXPECTED, "unexpected_json"),
    ),
}


@pytest.mark.parametrize("answer", list(PRODUCT_ANSWERS))
def test_product_answer(fault, make_client, answer):
    body, expected = PRODUCT_ANSWERS[answer]
    fault.behaviour = reply(200, body, content_type="application/json")

    result = check_product(make_client(fault.url))

    if expected is None:
        assert result.ok, result
    else:
        assert (result.outcome, result.reason) == expected


LOGIN_ANSWERS = {
    "accepted": (b"https://upload.example/abc\nKEY123\n", None),
    "accepted, CRLF": (b"https://upload.example/abc\r\nKEY123\r\n", None),
    "refused": (b"FAILURE\n", (Outcome.REJECTED, "login_refused")),
    "one line": (b"https://upload.example/abc\n", (Outcome.UNEXPECTED, "unexpected_text")),
    "no url": (b"OK\nKEY\n", (Outcome.UNEXPECTED, "unexpected_text")),
    "other text": (b"ERROR: try later", (Outcome.UNEXPECTED, "unexpected_text")),
}


@pytest.mark.parametrize("answer", list(LOGIN_ANSWERS))
def test_login_answer(fault, make_client, answer):
    body, expected = LOGIN_ANSWERS[answer]
    fault.behaviour = reply(200, body, content_type="text/plain")

    result = check_login(make_client(fault.url))

    if expected is None:
        assert result.ok, result
        assert result.message == ""  # the upload URL and key are credentials too
    else:
        assert (result.outcome, result.reason) == expected


def test_a_bug_inside_the_client_is_reported_not_raised(fault, make_client, monkeypatch, caplog):
    fault.behaviour = reply(200, b"<orders/>")

    def broken(body):
        raise KeyError("boom")

    order_call = dataclasses.replace(client_module.CALLS[Check.ORDER_AUTH_CODE], interpret=broken)
    monkeypatch.setitem(client_module.CALLS, Check.ORDER_AUTH_CODE, order_call)

    result = check_order(make_client(fault.url))

    assert (result.outcome, result.reason) == (Outcome.UNEXPECTED, "internal_error")
    assert "KeyError" in caplog.text and "broken" in caplog.text


def test_cookies_are_never_kept_between_calls(fault, make_client):
    fault.behaviour = reply(200, b"<orders/>", headers={"Set-Cookie": "session=shop-a; Path=/"})
    client = make_client(fault.url)

    check_order(client)
    check_order(client)

    assert all("Cookie" not in seen.headers for seen in fault.seen)


def test_each_call_logs_one_info_line(fault, make_client, caplog):
    fault.behaviour = reply(200, b"<orders/>")
    caplog.set_level(logging.INFO, logger="malls.makeshop")

    check_order(make_client(fault.url))

    (record,) = [r for r in caplog.records if r.name == "malls.makeshop"]
    assert record.levelno == logging.INFO
    assert "'demo-shop'" in record.getMessage() and "accepted" in record.getMessage()


@pytest.mark.parametrize(
    "base_url",
    [
        "ftp://www.makeshop.jp",
        "www.makeshop.jp",
        "https://",
        "https://u:p@www.makeshop.jp",
        "https://www.makeshop.jp/?x=1",
        "https://www.makeshop.jp/#x",
    ],
)
def test_base_url_must_be_a_plain_http_url(base_url):
    with pytest.raises(ValueError, match="base URL"):
        MakeShopClient(base_url)


def test_shop_id_never_reaches_the_host(fault, make_client):
    fault.behaviour = reply(200, b"<orders/>")

    result = make_client(fault.url + "/").verify_order_auth_code(
        shop_id="@evil.example/x?", auth_code="x"
    )

    assert result.ok
    assert parse_qs(urlsplit(fault.seen[0].path).query)["shopid"] == ["@evil.example/x?"]


def test_get_client_reads_the_setting_when_called(settings):
    settings.MAKESHOP_API_BASE_URL = "https://one.example"
    first = get_client()
    settings.MAKESHOP_API_BASE_URL = "https://two.example/"

    assert first.base_url == "https://one.example"
    assert get_client().base_url == "https://two.example"
    assert get_client() is get_client()


def test_log_redaction_is_installed_once(make_client):
    make_client("http://127.0.0.1:9")
    make_client("http://127.0.0.1:9")

    filters = logging.getLogger("urllib3.connectionpool").filters
    assert len([f for f in filters if isinstance(f, RedactFilter)]) == 1
