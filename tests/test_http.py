"""Transport failures are named from their causes, never from their text."""

import socket
import ssl

import pytest
import requests
from urllib3.exceptions import MaxRetryError, NewConnectionError, ReadTimeoutError

from malls.http import TransportReason, transport_reason, validated_base_url


def wrapped(cause):
    """An exception as requests raises it: urllib3's MaxRetryError around the cause."""
    retry = MaxRetryError(None, "/api?token=secret", reason=cause)
    return requests.ConnectionError(retry)


@pytest.mark.parametrize(
    ("exc", "reason"),
    [
        (wrapped(NewConnectionError(None, "refused")), TransportReason.CONNECTION),
        (wrapped(ConnectionRefusedError()), TransportReason.REFUSED),
        (wrapped(socket.gaierror(-2, "Name or service not known")), TransportReason.DNS),
        (requests.exceptions.SSLError(wrapped(ssl.SSLError())), TransportReason.TLS),
        (
            requests.ReadTimeout(ReadTimeoutError(None, "/", "read timed out")),
            TransportReason.TIMEOUT,
        ),
        (requests.ConnectionError("connection reset"), TransportReason.CONNECTION),
    ],
)
def test_transport_reason(exc, reason):
    assert transport_reason(exc) is reason


def test_base_url_loses_its_trailing_slash():
    assert validated_base_url("https://www.makeshop.jp/") == "https://www.makeshop.jp"
