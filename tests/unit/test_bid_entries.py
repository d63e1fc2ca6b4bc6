"""What one bidder may add to a tender's bid log: the next version, a withdrawal after a
bid, and nothing past the limits on versions and stored bytes."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.bid_intake import limits_from_env
from bidding.entries import (
    LARGEST_ENTRY,
    BidLimits,
    Entry,
    Sent,
    TooMuchStored,
    bid_must_stay_within_the_limits,
    check_order,
)
from procurement.errors import WrongState
from schemas.bids import MAX_SEALED_BYTES
from tests.unit.examples import OCID

BIDDER = "supplier-RO-CUI-14399840"
LIMITS = BidLimits(versions=10, stored_bytes=4 * LARGEST_ENTRY)


def digest(n: int) -> bytes:
    return n.to_bytes(32, "big")


def bids(count: int, stored_bytes: int = 1000) -> list[Entry]:
    """A bidder's versions 1 to ``count``, each a bid."""
    return [Entry(v, "bid", digest(v), stored_bytes) for v in range(1, count + 1)]


def bid(version: int, n: int | None = None) -> Sent:
    return Sent(OCID, BIDDER, version, digest(version if n is None else n))


def withdrawal(version: int) -> Sent:
    return Sent(OCID, BIDDER, version, None)


def refused(error: pytest.ExceptionInfo[Exception], status: int, code: str) -> None:
    assert isinstance(error.value, WrongState | TooMuchStored)
    assert (error.value.status, error.value.code) == (status, code)


def test_a_first_bid_is_version_one() -> None:
    """The first bid is version 1, and may join the log."""
    assert check_order([], bid(1)) is None


@given(st.integers(min_value=0, max_value=20), st.integers(min_value=1, max_value=10**6))
def test_only_the_next_version_may_follow(sent: int, version: int) -> None:
    """After versions 1 to n, only version n + 1 may join; an older one is stale, a higher
    one skips versions, and either is refused."""
    mine = bids(sent)
    if version <= sent:
        version_sent = bid(version, n=version + 100)  # other contents than the first time
        with pytest.raises(WrongState):
            check_order(mine, version_sent)
    elif version == sent + 1:
        assert check_order(mine, bid(version)) is None
    else:
        with pytest.raises(WrongState) as error:
            check_order(mine, bid(version))
        refused(error, 409, "version_not_next")
        assert f"is {sent + 1}, not {version}" in str(error.value)


def test_a_version_numbered_a_million_is_refused() -> None:
    """Version 1,000,000 as a first bid is refused: the next version is 1."""
    with pytest.raises(WrongState) as error:
        check_order([], bid(1_000_000))
    refused(error, 409, "version_not_next")


def test_the_same_bid_again_is_answered_with_its_first_entry() -> None:
    """A bid sent again, same version and ciphertext, is the entry it made the first time."""
    mine = bids(3)
    assert check_order(mine, bid(2)) == mine[1]


def test_a_used_version_with_other_contents_is_refused() -> None:
    """A version already in the log, with another ciphertext, is refused as used."""
    with pytest.raises(WrongState) as error:
        check_order(bids(3), bid(2, n=99))
    refused(error, 409, "version_used")


def test_an_older_version_is_stale() -> None:
    """A version below the latest that was never sent is refused as stale."""
    mine = [Entry(1, "bid", digest(1), 1000), Entry(3, "bid", digest(3), 1000)]
    with pytest.raises(WrongState) as error:
        check_order(mine, bid(2))
    refused(error, 409, "stale_version")


def test_a_withdrawal_needs_a_bid_to_withdraw() -> None:
    """A withdrawal with no bid, or after a withdrawal, has nothing to withdraw."""
    with pytest.raises(WrongState) as error:
        check_order([], withdrawal(1))
    refused(error, 409, "nothing_to_withdraw")
    withdrawn = [*bids(1), Entry(2, "withdrawal", None, 300)]
    with pytest.raises(WrongState) as error:
        check_order(withdrawn, withdrawal(3))
    refused(error, 409, "nothing_to_withdraw")
    assert check_order(bids(1), withdrawal(2)) is None


def test_a_bidder_sends_at_most_the_limit_of_versions() -> None:
    """Version 10 may join; version 11 is refused as one too many."""
    bid_must_stay_within_the_limits(bids(9), bid(10), 1000, LIMITS)
    with pytest.raises(WrongState) as error:
        bid_must_stay_within_the_limits(bids(10), bid(11), 1000, LIMITS)
    refused(error, 409, "too_many_versions")


def test_a_bidder_at_a_limit_may_still_withdraw() -> None:
    """Past the versions and the bytes a bidder may store, its withdrawal is still taken."""
    full = bids(10, stored_bytes=LIMITS.stored_bytes // 10)
    bid_must_stay_within_the_limits(full, withdrawal(11), 500, LIMITS)


def test_a_bidder_stores_at_most_the_limit_of_bytes() -> None:
    """A bid that brings the bidder's stored bytes exactly to the limit joins; one byte
    more is refused as too large (413)."""
    mine = bids(3, stored_bytes=LARGEST_ENTRY)
    bid_must_stay_within_the_limits(mine, bid(4), LARGEST_ENTRY, LIMITS)
    with pytest.raises(TooMuchStored) as error:
        bid_must_stay_within_the_limits(mine, bid(4), LARGEST_ENTRY + 1, LIMITS)
    refused(error, 413, "bid_storage_full")


def test_four_of_the_largest_bids_fit_in_the_default_limit() -> None:
    """The default limit holds four bids of the largest ciphertext, in base64 with their
    events, and not five."""
    defaults = BidLimits()
    assert defaults.stored_bytes == 4 * LARGEST_ENTRY
    assert LARGEST_ENTRY > MAX_SEALED_BYTES * 4 // 3  # room for the rest of the event
    bid_must_stay_within_the_limits(bids(3, LARGEST_ENTRY), bid(4), LARGEST_ENTRY, defaults)
    with pytest.raises(TooMuchStored):
        bid_must_stay_within_the_limits(bids(4, LARGEST_ENTRY), bid(5), 1, defaults)


def test_the_limits_are_read_from_the_environment() -> None:
    """PROCUREMENT_MAX_BID_VERSIONS and PROCUREMENT_MAX_BID_BYTES set the limits; unset, the
    defaults hold."""
    env = {"PROCUREMENT_MAX_BID_VERSIONS": "3", "PROCUREMENT_MAX_BID_BYTES": "2000000"}
    assert limits_from_env(env) == BidLimits(versions=3, stored_bytes=2_000_000)
    assert limits_from_env({}) == BidLimits()


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("PROCUREMENT_MAX_BID_VERSIONS", "0"),
        ("PROCUREMENT_MAX_BID_VERSIONS", "ten"),
        ("PROCUREMENT_MAX_BID_BYTES", "-5"),
        ("PROCUREMENT_MAX_BID_BYTES", str(LARGEST_ENTRY - 1)),  # not even one largest bid
    ],
)
def test_a_limit_that_makes_no_sense_stops_the_start(name: str, value: str) -> None:
    """A limit that is no positive number, or bytes too few for one bid of the largest size,
    is refused with its name."""
    with pytest.raises(ValueError, match=name):
        limits_from_env({name: value})
