"""Bounded request bodies (N14): a declared Content-Length over REQUEST_BODY_MAX_BYTES is
refused with 413 before the body is read, for every content type, multipart included;
a body without Content-Length (chunked) is capped as it is read."""

import io
import socket
from urllib.parse import urlsplit

import pytest
from django.test import Client

from tests.factories import make_user

MB = 1024 * 1024


@pytest.fixture(autouse=True)
def cap(settings):
    settings.REQUEST_BODY_MAX_BYTES = 2 * MB


def raw_request(url: str, head: str, body: bytes = b"") -> bytes:
    """Send ``head`` and ``body`` over a socket; return the status line and headers."""
    parts = urlsplit(url)
    with socket.create_connection((parts.hostname, parts.port), timeout=10) as sock:
        sock.sendall(head.encode("latin-1") + b"\r\n" + body)
        answer = b""
        while b"\r\n\r\n" not in answer:
            chunk = sock.recv(65536)
            if not chunk:
                break
            answer += chunk
    return answer


@pytest.mark.django_db(transaction=True)
def test_a_declared_40_mb_multipart_upload_is_refused_before_it_is_sent(live_server):
    # Only the first kilobyte of the announced 40 MB is ever sent: the answer comes anyway.
    host = urlsplit(live_server.url).netloc
    head = (
        "POST /accounts/login/ HTTP/1.1\r\n"
        f"Host: {host}\r\n"
        "Content-Type: multipart/form-data; boundary=XyZ\r\n"
        f"Content-Length: {40 * MB}\r\n"
        "Connection: close\r\n"
    )
    first = b'--XyZ\r\nContent-Disposition: form-data; name="f"; filename="a.bin"\r\n\r\n'
    answer = raw_request(live_server.url, head, first + b"x" * 1000)
    status_line = answer.split(b"\r\n", 1)[0]
    assert b" 413 " in status_line, answer[:200]


@pytest.mark.parametrize(
    "content_type",
    ["multipart/form-data; boundary=XyZ", "application/x-www-form-urlencoded",
     "application/json", "text/plain", "application/octet-stream"],
)
def test_every_content_type_over_the_cap_gets_413_with_the_security_headers(
    db, content_type
):
    body = b"a" * (2 * MB + 1)
    response = Client(enforce_csrf_checks=True).post(
        "/accounts/login/", data=body, content_type=content_type
    )
    assert response.status_code == 413
    assert response["X-Frame-Options"] == "DENY" and response["Content-Security-Policy"]


def test_a_multipart_file_under_the_cap_is_still_read(client, db):
    make_user(username="shopkeeper", password="right-pass-2026")
    upload = io.BytesIO(b"x" * (MB))
    upload.name = "a.bin"
    response = client.post(
        "/accounts/login/",
        {"username": "shopkeeper", "password": "right-pass-2026", "f": upload},
    )
    assert response.status_code == 302  # read and handled as an ordinary sign-in


def test_the_cap_is_a_setting(client, db, settings):
    settings.REQUEST_BODY_MAX_BYTES = 1000
    assert client.post("/accounts/login/", {"username": "x" * 2000}).status_code == 413
    assert client.post("/accounts/login/", {"username": "x" * 500}).status_code == 200


@pytest.mark.urls("tests.goq.body_limit_urls")
class TestChunkedBodies:
    """No Content-Length: Django reads nothing; a view reading the stream is capped."""

    def post_chunked(self, body: bytes, query=""):
        # As gunicorn hands over a chunked body: a file-like stream, no Content-Length.
        return Client().generic(
            "POST", f"/raw/{query}", data=body, content_type="application/json",
            CONTENT_LENGTH="", HTTP_TRANSFER_ENCODING="chunked",
            **{"wsgi.input": io.BytesIO(body), "wsgi.input_terminated": True},
        )

    def test_a_chunked_body_under_the_cap_is_read_whole(self, db):
        response = self.post_chunked(b"{}" * 1000)
        assert response.status_code == 200 and response.content == b"2000"

    def test_a_chunked_body_over_the_cap_is_refused_as_it_is_read(self, db):
        response = self.post_chunked(b"a" * (2 * MB + 10))
        assert response.status_code == 413

    def test_reading_a_bounded_part_of_a_large_chunked_body_is_allowed(self, db):
        response = self.post_chunked(b"a" * (3 * MB), query="?size=65537")
        assert response.status_code == 200 and response.content == b"65537"
