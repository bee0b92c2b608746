"""Charsets Python knows but cannot decode with: a clean 400 with the security headers,
never a bare 500, through the production entry points (``goq.wsgi``, ``goq.asgi``)."""

import asyncio
import io

import pytest

from goq.requests import is_readable_charset

# Every one is a codec Python finds by name.
UNREADABLE = ["undefined", "idna", "hex", "zlib", "bz2", "base64", "uu", "quopri", "rot13"]
READABLE = ["utf-8", "shift_jis", "cp932", "euc-jp", "iso-2022-jp", "utf-16", "latin-1"]
QUERIES = ["next=/x", "next=%FF", "a=%E3%81%82", ""]
SECURITY_HEADERS = (
    "Content-Security-Policy", "X-Frame-Options", "X-Content-Type-Options",
    "Referrer-Policy", "Strict-Transport-Security",
)


def call_wsgi(path, *, charset, query="", method="GET", body=b"", content_type=None):
    from goq.wsgi import application

    environ = {
        "REQUEST_METHOD": method,
        "PATH_INFO": path,
        "QUERY_STRING": query,
        "CONTENT_TYPE": content_type or f"application/x-www-form-urlencoded; charset={charset}",
        "CONTENT_LENGTH": str(len(body)),
        "SERVER_NAME": "127.0.0.1",
        "SERVER_PORT": "443",
        "HTTP_HOST": "127.0.0.1",
        "REMOTE_ADDR": "127.0.0.1",
        "wsgi.url_scheme": "https",
        "wsgi.input": io.BytesIO(body),
        "wsgi.errors": io.StringIO(),
    }
    answer = {}

    def start_response(status, headers, exc_info=None):
        answer["status"] = int(status.split()[0])
        answer["headers"] = dict(headers)

    answer["body"] = b"".join(application(environ, start_response))
    return answer


def call_asgi(path, *, charset, query="", method="GET", body=b""):
    from goq.asgi import application

    scope = {
        "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1",
        "method": method, "scheme": "https", "path": path, "raw_path": path.encode(),
        "query_string": query.encode("latin-1"), "root_path": "",
        "headers": [
            (b"host", b"127.0.0.1"),
            (b"content-type", f"application/x-www-form-urlencoded; charset={charset}".encode()),
            (b"content-length", str(len(body)).encode()),
        ],
        "client": ("127.0.0.1", 5000), "server": ("127.0.0.1", 443),
    }
    messages = [{"type": "http.request", "body": body, "more_body": False}]
    answer = {"body": b""}

    async def receive():
        if messages:
            return messages.pop(0)
        await asyncio.sleep(3600)
        return {"type": "http.disconnect"}

    async def send(message):
        if message["type"] == "http.response.start":
            answer["status"] = message["status"]
            answer["headers"] = {k.decode(): v.decode() for k, v in message["headers"]}
        elif message["type"] == "http.response.body":
            answer["body"] += message.get("body", b"")

    asyncio.run(application(scope, receive, send))
    return answer


def test_the_probe_tells_readable_from_unreadable_charsets():
    assert not any(is_readable_charset(name) for name in UNREADABLE)
    assert all(is_readable_charset(name) for name in READABLE)


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("charset", UNREADABLE)
@pytest.mark.parametrize("query", QUERIES)
@pytest.mark.parametrize("path", ["/accounts/login/", "/healthz", "/makeshop/notify/x/"])
def test_wsgi_answers_400_with_the_security_headers(path, query, charset):
    answer = call_wsgi(path, charset=charset, query=query)
    assert answer["status"] == 400, answer
    for header in SECURITY_HEADERS:
        assert header in answer["headers"], header


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(
    "content_type",
    [
        "text/plain; charset*=undefined''utf-8",  # RFC 2231, decoded while parsing
        "text/plain; charset*=idna''%FF",
        "text/plain; a=" + "b" * 20_000,  # longer than Django parses
    ],
)
def test_wsgi_answers_400_to_a_content_type_django_cannot_parse(content_type):
    answer = call_wsgi("/makeshop/notify/x/", charset="", content_type=content_type)
    assert answer["status"] == 400
    assert "Content-Security-Policy" in answer["headers"]


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("charset", ["undefined", "idna", "hex"])
def test_wsgi_refuses_a_form_post_in_an_unreadable_charset(charset):
    answer = call_wsgi(
        "/accounts/login/", charset=charset, method="POST", query="next=%FF",
        body=b"username=a%FF&password=b",
    )
    assert answer["status"] == 400
    assert "Content-Security-Policy" in answer["headers"]


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("charset", READABLE + ["no-such-charset"])
def test_wsgi_serves_readable_and_unknown_charsets(charset):
    answer = call_wsgi("/accounts/login/", charset=charset, query="next=%FF")
    assert answer["status"] == 200


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("charset", UNREADABLE)
@pytest.mark.parametrize("query", ["next=%FF", ""])
def test_asgi_answers_400_with_the_security_headers(charset, query):
    answer = call_asgi("/accounts/login/", charset=charset, query=query)
    assert answer["status"] == 400, answer
    for header in SECURITY_HEADERS:
        assert header.lower() in {k.lower() for k in answer["headers"]}, header


@pytest.mark.django_db(transaction=True)
def test_asgi_refuses_a_form_post_in_an_unreadable_charset():
    answer = call_asgi(
        "/accounts/login/", charset="undefined", method="POST", body=b"username=a&password=b"
    )
    assert answer["status"] == 400


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("charset", ["shift_jis", "no-such-charset"])
def test_asgi_serves_readable_and_unknown_charsets(charset):
    assert call_asgi("/accounts/login/", charset=charset, query="next=%FF")["status"] == 200
