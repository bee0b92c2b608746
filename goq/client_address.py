"""The address a request really came from, for abuse limits and logs.

``X-Forwarded-For`` is believed only when the direct peer is one of
``settings.TRUSTED_PROXIES``; then the right-most address not itself a trusted proxy
is the client. Without trusted proxies the header is ignored, so nobody can pick
the address a limit is counted against.
"""

import ipaddress

from django.conf import settings


def _networks():
    return [ipaddress.ip_network(item, strict=False) for item in settings.TRUSTED_PROXIES]


def _is_trusted(address: str, networks) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in network for network in networks)


def client_address(request) -> str:
    peer = request.META.get("REMOTE_ADDR", "")
    networks = _networks()
    if not networks or not _is_trusted(peer, networks):
        return peer
    forwarded = [
        part.strip() for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")
    ]
    for candidate in reversed([part for part in forwarded if part]):
        if not _is_trusted(candidate, networks):
            try:
                return str(ipaddress.ip_address(candidate))
            except ValueError:
                return peer  # a forged or broken header: fall back to the proxy
    return peer
