"""The opening key is split so that any threshold of the committee, and no fewer, rebuild it."""

import contextlib
import itertools
import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bidding.shamir import PRIME, SHARE_BYTES, Share, combine, split

KEY_BYTES = 32

keys = st.binary(min_size=KEY_BYTES, max_size=KEY_BYTES)


@st.composite
def committees(draw: st.DrawFn) -> tuple[int, int, list[int]]:
    """A threshold, a share count of at most 10, and the order in which shares come back."""
    count = draw(st.integers(min_value=1, max_value=10))
    threshold = draw(st.integers(min_value=1, max_value=count))
    return threshold, count, draw(st.permutations(range(count)))


@given(keys, committees())
@settings(max_examples=150, deadline=None)
def test_any_threshold_shares_rebuild_the_secret(
    secret: bytes, committee: tuple[int, int, list[int]]
) -> None:
    """Any threshold of the shares, or more, in any order, give back the secret exactly."""
    threshold, count, order = committee
    shares = split(secret, threshold, count)
    assert [share.x for share in shares] == list(range(1, count + 1))
    handed_in = [shares[i] for i in order]
    assert combine(handed_in[:threshold], KEY_BYTES) == secret
    assert combine(handed_in, KEY_BYTES) == secret


@given(keys, committees())
@settings(max_examples=150, deadline=None)
def test_fewer_than_threshold_shares_do_not_rebuild_the_secret(
    secret: bytes, committee: tuple[int, int, list[int]]
) -> None:
    """One share short of the threshold, combine refuses, or gives something else."""
    threshold, count, order = committee
    shares = split(secret, threshold, count)
    too_few = [shares[i] for i in order[: threshold - 1]]
    rebuilt = None
    with contextlib.suppress(ValueError):
        rebuilt = combine(too_few, KEY_BYTES)
    assert rebuilt != secret


def test_every_subset_of_three_of_five_rebuilds_the_secret() -> None:
    """Each of the ten ways three of five members can meet opens the bids."""
    secret = bytes(range(KEY_BYTES))
    shares = split(secret, 3, 5)
    for chosen in itertools.combinations(shares, 3):
        assert combine(chosen, KEY_BYTES) == secret


def test_a_secret_with_leading_zero_bytes_keeps_its_length() -> None:
    """Leading zeros survive the trip through the field, as the length says."""
    secret = bytes(31) + b"\x07"
    assert combine(split(secret, 2, 3)[1:], KEY_BYTES) == secret


def test_a_share_from_another_split_is_refused() -> None:
    """Mixing in a share of another split gives no secret of the expected length."""
    secret = bytes(range(KEY_BYTES))
    ours, theirs = split(secret, 2, 3), split(secret, 2, 3)
    with pytest.raises(ValueError, match="do not rebuild a 32-byte secret"):
        combine([ours[0], theirs[1]], KEY_BYTES)


def test_combine_refuses_no_shares_and_repeated_shares() -> None:
    """An empty hand or the same x twice cannot be interpolated."""
    shares = split(b"\x01" * KEY_BYTES, 2, 3)
    with pytest.raises(ValueError, match="no shares"):
        combine([], KEY_BYTES)
    with pytest.raises(ValueError, match="repeat an x value"):
        combine([shares[0], shares[0]], KEY_BYTES)
    with pytest.raises(ValueError, match="repeat an x value"):
        combine([shares[0], Share(x=shares[0].x, y=shares[1].y)], KEY_BYTES)


@given(st.integers(min_value=1, max_value=255), st.integers(min_value=0, max_value=PRIME - 1))
def test_a_share_round_trips_through_bytes(x: int, y: int) -> None:
    """Encoding is one byte of x and 66 of y, and decoding gives the same share."""
    encoded = Share(x=x, y=y).to_bytes()
    assert len(encoded) == SHARE_BYTES == 67
    assert encoded[0] == x
    assert Share.from_bytes(encoded) == Share(x=x, y=y)


def test_decoding_refuses_malformed_shares() -> None:
    """A wrong length, x = 0 (the secret's own point) or y outside the field is refused."""
    good = split(b"\xff" * KEY_BYTES, 2, 2)[0].to_bytes()
    with pytest.raises(ValueError, match="a share is 67 bytes, not 66"):
        Share.from_bytes(good[:-1])
    with pytest.raises(ValueError, match="a share is 67 bytes, not 68"):
        Share.from_bytes(good + b"\x00")
    with pytest.raises(ValueError, match="x is 0"):
        Share.from_bytes(b"\x00" + good[1:])
    with pytest.raises(ValueError, match="below the field's prime"):
        Share.from_bytes(b"\x01" + PRIME.to_bytes(66, "big"))
    with pytest.raises(ValueError, match="below the field's prime"):
        Share.from_bytes(b"\x01" + b"\xff" * 66)


@pytest.mark.parametrize(
    ("secret", "threshold", "count", "message"),
    [
        (b"k" * 32, 0, 3, "1 <= threshold <= count <= 255"),
        (b"k" * 32, 4, 3, "got threshold 4 and count 3"),
        (b"k" * 32, 2, 256, "count <= 255"),
        (b"", 2, 3, "the secret must be 1..64 bytes, not 0"),
        (b"k" * 65, 2, 3, "the secret must be 1..64 bytes, not 65"),
    ],
)
def test_split_refuses_impossible_arguments(
    secret: bytes, threshold: int, count: int, message: str
) -> None:
    """Thresholds, counts and secret lengths outside the rules are refused, naming the rule."""
    with pytest.raises(ValueError, match=re.escape(message)):
        split(secret, threshold, count)


def test_the_largest_secret_and_committee_work() -> None:
    """A 64-byte secret of all ones, split 255 ways, still fits the field and comes back."""
    secret = b"\xff" * 64
    shares = split(secret, 5, 255)
    assert combine(shares[-5:], 64) == secret
