"""The front door's pure parts: which paths are live streams, who may follow one more, and
which security headers an answer gets."""

import base64
import hashlib

import pytest

from entrypoints.http.guard import LIVE_STREAMS, LiveStreams, client_address
from entrypoints.http.security_headers import security_headers
from entrypoints.portal.html import STYLE


@pytest.mark.parametrize(
    ("path", "live"),
    [
        ("/ocds/releases/live", True),
        ("/tenders/ocds-x-2026-1/auctions/lot-1/live", True),
        ("/ocds/releases", False),
        ("/tenders/ocds-x-2026-1/auctions/lot-1", False),
        ("/tenders/a/b/auctions/lot-1/live", False),
    ],
)
def test_both_live_streams_are_counted(path: str, live: bool) -> None:
    """The release feed and every auction's live view are held to the caps on followers."""
    assert bool(LIVE_STREAMS.match(path)) is live


def test_an_address_over_its_share_gets_429_and_a_full_house_503() -> None:
    """Past its own cap an address is told to slow down; past the total, everyone waits."""
    streams = LiveStreams(per_address=2, total=3)
    streams.following.update({"10.0.0.1": 2, "10.0.0.2": 0})
    refused = streams.refusal("10.0.0.1")
    assert refused is not None
    assert refused.status_code == 429
    assert streams.refusal("10.0.0.2") is None
    streams.following["10.0.0.2"] = 1
    full = streams.refusal("10.0.0.3")
    assert full is not None
    assert full.status_code == 503
    assert full.headers["Retry-After"]


def test_the_portal_style_is_allowed_by_its_hash_and_nothing_else_inline() -> None:
    """The one inline style the pages carry is allowed by its SHA-256, scripts only as files."""
    headers = dict(security_headers("/", over_tls=False))
    policy = headers[b"content-security-policy"].decode()
    digest = base64.b64encode(hashlib.sha256(STYLE.encode()).digest()).decode()
    assert f"style-src 'sha256-{digest}'" in policy
    assert "script-src 'self'" in policy
    assert "unsafe-inline" not in policy


def test_hsts_only_over_tls() -> None:
    """Strict-Transport-Security is sent only when the request is known to have used TLS."""
    assert b"strict-transport-security" not in dict(security_headers("/", over_tls=False))
    assert b"strict-transport-security" in dict(security_headers("/tenders", over_tls=True))


def test_an_ipv6_network_counts_as_one_address() -> None:
    """Every address of one IPv6 /64 shares one allowance; IPv4 addresses count singly."""
    first = client_address({"client": ("2001:db8:1:2::1", 1)})
    assert first == client_address({"client": ("2001:db8:1:2:ffff::9", 2)}) == "2001:db8:1:2::/64"
    assert client_address({"client": ("2001:db8:1:3::1", 1)}) != first
    assert client_address({"client": ("10.0.0.1", 1)}) == "10.0.0.1"
