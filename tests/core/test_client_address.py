"""Which address abuse limits count against, and how addresses are grouped."""

from django.test import RequestFactory

from core.client_address import address_group, client_address


def request(remote, forwarded=None):
    headers = {"REMOTE_ADDR": remote}
    if forwarded is not None:
        headers["HTTP_X_FORWARDED_FOR"] = forwarded
    return RequestFactory().get("/", **headers)


def test_without_trusted_proxies_the_header_is_ignored(settings):
    settings.TRUSTED_PROXIES = []
    assert client_address(request("203.0.113.9", "1.2.3.4")) == "203.0.113.9"


def test_behind_a_trusted_proxy_the_rightmost_untrusted_address_counts(settings):
    settings.TRUSTED_PROXIES = ["10.0.0.0/8"]
    # The client sent a forged first entry; the proxy appended the real peer.
    forwarded = "1.2.3.4, 203.0.113.9, 10.0.0.7"
    assert client_address(request("10.0.0.5", forwarded)) == "203.0.113.9"


def test_an_untrusted_peer_cannot_use_the_header(settings):
    settings.TRUSTED_PROXIES = ["10.0.0.0/8"]
    assert client_address(request("198.51.100.1", "203.0.113.9")) == "198.51.100.1"


def test_garbage_in_the_header_falls_back_to_the_proxy(settings):
    settings.TRUSTED_PROXIES = ["10.0.0.5"]
    assert client_address(request("10.0.0.5", "<script>")) == "10.0.0.5"


def test_ipv6_addresses_group_by_their_64_prefix():
    assert address_group("2001:db8:1:2::1") == "2001:db8:1:2::"
    assert address_group("2001:db8:1:2:ffff:ffff:ffff:ffff") == "2001:db8:1:2::"
    assert address_group("2001:db8:1:3::1") == "2001:db8:1:3::"


def test_ipv4_and_ipv4_mapped_addresses_stay_single():
    assert address_group("203.0.113.9") == "203.0.113.9"
    assert address_group("::ffff:203.0.113.9") == "203.0.113.9"


def test_what_is_not_an_address_has_no_group():
    assert address_group("") is None
    assert address_group("unix:/run/gunicorn.sock") is None
