"""Fuzzing the endpoint MakeShop sends update notifications to (/makeshop/notify/...).

Anyone on the Internet can reach it, with any method, path, query, body, content type
and headers. Whatever they send, the answer is one of the endpoint's own statuses,
a refused notification records nothing, and an accepted one is recorded.
"""

import json
from datetime import timedelta
from urllib.parse import quote, urlencode

import pytest
from django.test.client import BOUNDARY, MULTIPART_CONTENT, encode_multipart
from django.utils import timezone
from hypothesis import event
from hypothesis import strategies as st

from malls.makeshop import notification_records as notifications
from malls.models import RateCounter
from tests.factories import make_connection

from .support import (
    EXAMPLE_COUNTS,
    assert_unchanged,
    database_state,
    fuzz,
    hostile_text,
    weighted,
)

pytestmark = pytest.mark.django_db

ANSWERS = {200, 400, 403, 404, 405, 413, 429}
SHOP_ID = "demo-shop"
FORM = "application/x-www-form-urlencoded"

# The tokens are made per test; the strategies draw these names and the check swaps
# in the real values.
TOKENS = ("current", "previous_in_grace", "previous_expired", "other_shop")

CHARSETS = ("utf-8", "utf-16", "shift_jis", "euc-jp", "latin-1", "ascii", "hex", "rot13",
            "base64", "bogus", "")
CONTENT_TYPES = (
    FORM, MULTIPART_CONTENT, "multipart/form-data", "multipart/form-data; boundary=",
    "multipart/mixed; boundary=x", "application/json", "text/plain", "text/xml",
    "application/octet-stream", "", "*/*", "application/x-www-form-urlencoded; charset",
)


def content_types():
    with_charset = st.builds(
        "{}; charset={}".format,
        st.sampled_from([FORM, "application/json", "text/plain", MULTIPART_CONTENT]),
        st.sampled_from(CHARSETS),
    )
    latin1 = st.text(st.characters(max_codepoint=0xFF), max_size=60)
    return weighted((4, st.sampled_from(CONTENT_TYPES)), (2, with_charset), (1, latin1))


def values():
    """What a parameter may hold: MakeShop-like values, placeholders, or anything."""
    return weighted(
        (2, st.sampled_from([SHOP_ID, "DEMO-SHOP", "other-shop", "[SHOPID]", "[ORDERNUM]",
                             "[CMD]", "order", "payment", "cancel", "キャンセル", "入金完了",
                             "ｏｒｄｅｒ", ""])),
        (2, st.from_regex(r"[A-Za-z0-9_-]{1,64}", fullmatch=True)),
        (3, hostile_text(max_size=80)),
    )


def parameters():
    names = weighted(
        (3, st.sampled_from(["shopid", "shop_id", "SHOP-ID", "ordernum", "order_num",
                             "orderNumber", "cmd", "command", "CMD"])),
        (1, hostile_text(max_size=20)),
    )
    return st.dictionaries(
        names, weighted((5, values()), (1, st.lists(values(), max_size=3))), max_size=5
    )


def json_documents():
    leaves = st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20)
    return st.recursive(
        leaves,
        lambda children: st.lists(children, max_size=4)
        | st.dictionaries(st.text(max_size=10), children, max_size=4),
        max_leaves=20,
    )


def bodies():
    """(body bytes, the content type that body would naturally be sent with)."""
    limit = notifications.MAX_BODY_BYTES
    return weighted(
        (2, st.just((b"", ""))),
        (4, parameters().map(lambda p: (urlencode(p, doseq=True).encode(), FORM))),
        (2, parameters().map(lambda p: (encode_multipart(BOUNDARY, p), MULTIPART_CONTENT))),
        (2, parameters().map(lambda p: (json.dumps(p).encode(), "application/json"))),
        (1, json_documents().map(lambda d: (json.dumps(d).encode(), "application/json"))),
        # Nested deeper than Python's recursion limit, still under the size limit.
        (1, st.builds(lambda opener, depth: ((opener * depth).encode(), "application/json"),
                      st.sampled_from(["[", '{"a":']), st.integers(500, limit // 5))),
        (2, st.binary(max_size=2048).map(lambda b: (b, "application/octet-stream"))),
        (1, st.integers(limit, limit * 4).map(lambda n: (b"x" * n, FORM))),
    )


def paths():
    """The path after /makeshop/notify/: a token, then any segments."""
    segment = weighted((3, values()), (1, hostile_text(max_size=40)))
    in_path = st.tuples(segment, segment, segment).map(list)
    segments = weighted((2, st.just([])), (3, in_path), (1, st.lists(segment, max_size=6)))
    tokens = weighted(
        (6, st.sampled_from(TOKENS)),
        (1, st.from_regex(r"[A-Za-z0-9_-]{20,64}", fullmatch=True)),
        (1, hostile_text(max_size=80)),
    )
    return st.tuples(tokens, segments, st.booleans(), st.sampled_from(["", "/"]))


@st.composite
def notification_requests(draw):
    method = draw(weighted(
        (8, st.sampled_from(["GET", "POST"])),
        (2, st.sampled_from(["HEAD", "PUT", "PATCH", "DELETE", "OPTIONS", "TRACE"])),
        (1, st.text(st.characters(codec="ascii", categories=["Lu", "Ll"]), min_size=1,
                    max_size=12)),
    ))
    body, natural_type = draw(bodies())
    content_type = draw(weighted((3, st.just(natural_type)), (1, content_types())))
    query = draw(weighted(
        (2, st.just("")),
        (3, parameters().map(lambda p: urlencode(p, doseq=True))),
        # A raw query string, as a WSGI server hands it over (bytes as latin-1).
        (1, st.binary(max_size=200).map(lambda b: b.decode("latin-1"))),
    ))
    environ = {"QUERY_STRING": query, "CONTENT_TYPE": content_type}
    environ["REMOTE_ADDR"] = draw(weighted(
        (6, st.just("127.0.0.1")),
        (1, st.sampled_from(["::1", "2001:db8::1", "198.51.100.7", "", "unix:", "not an ip"])),
    ))
    if draw(st.integers(0, 3)) == 0:
        environ["HTTP_X_FORWARDED_FOR"] = draw(weighted(
            (1, st.sampled_from(["203.0.113.9", "203.0.113.9, 127.0.0.1", "::ffff:1.2.3.4",
                                 "unknown", ", ,", "2001:db8::/64"])),
            (1, st.text(st.characters(max_codepoint=0xFF), max_size=60)),
        ))
    if draw(st.integers(0, 7)) == 0:
        # Declared lengths that are unreadable, negative or too large; a declared
        # length the body cannot fill would only hang a real server.
        environ["CONTENT_LENGTH"] = draw(st.sampled_from(
            ["abc", "", " ", "-1", "1e3", "0x10", str(notifications.MAX_BODY_BYTES + 1),
             "9" * 30]
        ))
    return method, draw(paths()), body, environ


@pytest.mark.parametrize("examples", EXAMPLE_COUNTS)
def test_notification_endpoint(client, settings, examples):
    """Any request gets one of the endpoint's answers, never a server error; only an
    accepted (200) notification changes stored data, and it always does."""
    # X-Forwarded-For is believed from this proxy only: both branches get exercised.
    settings.TRUSTED_PROXIES = ["127.0.0.1/32"]
    now = timezone.now()
    connection = make_connection(
        makeshop_shop_id=SHOP_ID,
        previous_notification_token="P" * 43,
        previous_token_expires_at=now + timedelta(hours=1),
    )
    expired = make_connection(
        previous_notification_token="E" * 43,
        previous_token_expires_at=now - timedelta(hours=1),
    )
    tokens = {
        "current": connection.notification_token,
        "previous_in_grace": "P" * 43,
        "previous_expired": "E" * 43,
        "other_shop": expired.notification_token,
    }

    def check(request):
        method, (token, segments, trailing_slash, safe), body, environ = request
        token = tokens.get(token, token)
        path = "/makeshop/notify/" + "/".join(
            quote(part, safe=safe) for part in (token, *segments)
        )
        if trailing_slash:
            path += "/"
        RateCounter.objects.all().delete()  # so the limits do not hide the other paths
        before = database_state()

        response = client.generic(method, path, body, **environ)

        event(f"answer {response.status_code}")
        assert response.status_code in ANSWERS, response.status_code
        after = database_state()
        if response.status_code == 200:
            assert after != before, "an accepted notification was not recorded"
        else:
            assert_unchanged(before, after, f"the endpoint answered {response.status_code}")

    fuzz(notification_requests(), check, examples=examples)
