"""The ASGI entry point (``goq.asgi``): it serves the project, with the production
request class and the start-up checks, like ``goq.wsgi``."""

import io

import pytest
from asgiref.sync import async_to_sync
from asgiref.testing import ApplicationCommunicator

from goq.requests import SafeCharsetASGIRequest

# The real handler closes the database connection after each request, as in production,
# which only a transactional test database survives.
pytestmark = pytest.mark.django_db(transaction=True)


def http_scope(path, *, query=b"", headers=()):
    return {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": query,
        "root_path": "",
        "headers": [(b"host", b"127.0.0.1"), *headers],
        "client": ("127.0.0.1", 50000),
        "server": ("127.0.0.1", 80),
    }


def serve(scope) -> tuple[int, dict[bytes, bytes], bytes]:
    """(status, headers by lower-case name, body) of one request through goq.asgi."""
    from goq.asgi import application

    async def exchange():
        communicator = ApplicationCommunicator(application, scope)
        await communicator.send_input({"type": "http.request", "body": b"", "more_body": False})
        start = await communicator.receive_output(timeout=10)
        body = b""
        while True:
            message = await communicator.receive_output(timeout=10)
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        await communicator.wait(timeout=10)
        return start["status"], {k.lower(): v for k, v in start["headers"]}, body

    return async_to_sync(exchange)()


def test_the_application_builds_requests_with_the_safe_charset_class():
    from goq.asgi import application

    assert application.request_class is SafeCharsetASGIRequest


def test_it_serves_a_page_through_the_whole_middleware_stack():
    status, headers, body = serve(http_scope("/healthz"))

    assert status == 200
    assert body == b'{"status": "ok"}'
    assert headers[b"x-content-type-options"] == b"nosniff"
    assert b"default-src 'self'" in headers[b"content-security-policy"]
    assert headers[b"x-request-id"]


def test_it_sends_the_sign_in_page_to_the_signed_out():
    status, headers, _ = serve(http_scope("/settings/malls/"))

    assert status == 302
    assert headers[b"location"].startswith(b"/accounts/login/")


@pytest.mark.parametrize("path", ["/healthz", "/accounts/login/", "/makeshop/notify/x/"])
@pytest.mark.parametrize("charset", ["hex", "rot13", "zlib"])
def test_a_content_type_charset_that_is_no_text_encoding_is_no_server_error(path, charset):
    """Django decodes the query string with the request's charset while building the
    request; a codec that is not a text encoding would raise there (see goq.requests)."""
    status, _, _ = serve(
        http_scope(path, query=b"a=b",
                   headers=[(b"content-type", f"text/plain; charset={charset}".encode())])
    )

    assert status < 500


def request_with_charset(charset: str) -> SafeCharsetASGIRequest:
    content_type = f"text/plain; charset={charset}".encode()
    return SafeCharsetASGIRequest(
        http_scope("/", query=b"next=%E3%81%82", headers=[(b"content-type", content_type)]),
        body_file=io.BytesIO(b""),
    )


@pytest.mark.parametrize("charset", ["hex", "rot13", "zlib"])
def test_the_request_class_ignores_a_charset_that_is_no_text_encoding(charset):
    request = request_with_charset(charset)

    assert request.encoding is None  # DEFAULT_CHARSET applies
    assert request.GET["next"] == "あ"


def test_the_request_class_honours_a_text_charset():
    assert request_with_charset("shift_jis").encoding == "shift_jis"
