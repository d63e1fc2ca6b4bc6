"""RFC 3161 time-stamps of signed bid-log heads, from a local authority, checked offline."""

from datetime import UTC, datetime

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from adapters import timestamping
from adapters.settings import Settings
from bidding import timestamps, tree_heads
from schemas.tree_heads import SignedTreeHead
from tests.tsa import RunningAuthority, local_tsa, make_authority

__all__ = ["local_tsa"]  # the fixture

ROOT = bytes(range(32))
MOMENT = datetime(2026, 12, 27, 10, 0, tzinfo=UTC)


def _head() -> SignedTreeHead:
    key = Ed25519PrivateKey.from_private_bytes(b"\x2a" * 32)
    return tree_heads.sign_head("ocds-000000-2026-000001", 2, ROOT, MOMENT, key)


async def _stamped(tsa: RunningAuthority) -> SignedTreeHead:
    head = _head()
    token = await timestamping.time_stamp(tsa.url, tree_heads.signed_json(head))
    return tree_heads.with_time_stamp(head, token, tsa.url)


async def test_a_head_stamped_by_the_authority_checks_and_gives_its_time(
    local_tsa: RunningAuthority,
) -> None:
    """The client's token is the authority's time-stamp of the head's signed JSON."""
    stamped = await _stamped(local_tsa)
    assert len(local_tsa.requests) == 1
    moment = timestamps.check_time_stamp(stamped, local_tsa.authority.certificate)
    assert abs((moment - datetime.now(UTC)).total_seconds()) < 60


async def test_a_token_moved_to_another_head_is_refused(local_tsa: RunningAuthority) -> None:
    """A token of one head does not stamp another: the imprint differs."""
    stamped = await _stamped(local_tsa)
    other = tree_heads.sign_head(
        "ocds-000000-2026-000001",
        3,
        ROOT,
        MOMENT,
        Ed25519PrivateKey.from_private_bytes(b"\x2a" * 32),
    )
    moved = tree_heads.with_time_stamp(other, stamped.timestamp_token or b"", local_tsa.url)
    with pytest.raises(timestamps.TimeStampInvalid, match="another document"):
        timestamps.check_time_stamp(moved, local_tsa.authority.certificate)


async def test_a_token_checked_against_another_authority_is_refused(
    local_tsa: RunningAuthority,
) -> None:
    """The token must be signed by the certificate the verifier trusts, not any authority."""
    stamped = await _stamped(local_tsa)
    with pytest.raises(timestamps.TimeStampInvalid, match="not signed by the authority"):
        timestamps.check_time_stamp(stamped, make_authority("Another").certificate)


def test_a_head_without_a_token_has_only_the_platforms_time() -> None:
    """Checking the time-stamp of an unstamped head says that its time is the platform's."""
    with pytest.raises(timestamps.TimeStampInvalid, match="platform's alone"):
        timestamps.check_time_stamp(_head(), make_authority().certificate)


async def test_an_unreachable_authority_is_named() -> None:
    """A time-stamping authority that does not answer fails with its address."""
    with pytest.raises(timestamping.TimeStampingFailed, match=r"127\.0\.0\.1:9"):
        await timestamping.time_stamp("http://127.0.0.1:9/tsa", b"document", wait_seconds=2)


def test_the_authority_is_a_setting() -> None:
    """PROCUREMENT_TSA_URL names the authority; unset, there is none; a bad URL is refused."""
    assert Settings.from_env({}).tsa_url is None
    chosen = Settings.from_env({"PROCUREMENT_TSA_URL": "https://tsa.example.eu/tsr"})
    assert chosen.tsa_url == "https://tsa.example.eu/tsr"
    with pytest.raises(ValueError, match="PROCUREMENT_TSA_URL"):
        Settings.from_env({"PROCUREMENT_TSA_URL": "tsa.example.eu"})
