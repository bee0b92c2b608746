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


def address_group(address: str) -> str | None:
    """The address a limit counts against: an IPv6 client owns a whole /64 (its
    provider hands out prefixes, not addresses), so the /64's first address stands for
    all of it; IPv4 (also IPv4-mapped IPv6) stays as it is. None if not an address."""
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return None
    if ip.version == 6 and ip.ipv4_mapped is not None:
        return str(ip.ipv4_mapped)
    if ip.version == 6:
        return str(ipaddress.ip_network(f"{ip}/64", strict=False).network_address)
    return str(ip)


def client_address_group(request) -> str | None:
    """``address_group`` of ``client_address``: one bucket per client for abuse limits."""
    return address_group(client_address(request))
