"""What one bidder may add to a tender's bid log: the next version of its bid, or the
withdrawal of its bid, within limits that keep any one bidder from filling the store.

Everything a bidder sends is kept until the opening, which reads it all; without limits a
supplier could send a hundred versions of the largest ciphertext, or number a version a
million, to one tender.
"""

from collections.abc import Sequence
from dataclasses import dataclass

from procurement.errors import Rejected, WrongState
from schemas.bids import MAX_SEALED_BYTES

# The event of a bid with the largest ciphertext: that ciphertext in base64, and the rest.
LARGEST_ENTRY = MAX_SEALED_BYTES * 4 // 3 + 16 * 1024


@dataclass(frozen=True)
class BidLimits:
    versions: int = 10  # the highest version of one bidder's bid in one tender
    stored_bytes: int = 4 * LARGEST_ENTRY  # what one bidder's entries in one tender may take


@dataclass(frozen=True)
class Entry:
    """One of a bidder's entries already in the log."""

    version: int
    kind: str  # "bid" or "withdrawal"
    digest: bytes | None  # SHA-256 of a bid's ciphertext
    stored_bytes: int  # what its event takes in the store


@dataclass(frozen=True)
class Sent:
    """A bid (with its ciphertext's digest) or a withdrawal (without) sent to the log."""

    ocid: str
    bidder_id: str
    version: int
    digest: bytes | None

    @property
    def is_bid(self) -> bool:
        return self.digest is not None


class TooMuchStored(Rejected):
    status = 413
    code = "bid_storage_full"


def sent_before(mine: Sequence[Entry], sent: Sent) -> Entry | None:
    """The entry this very bid made when it was first sent, so that it gets its first
    receipt again; a version used for anything else is refused."""
    for entry in mine:
        if entry.version != sent.version:
            continue
        if sent.is_bid and entry.kind == "bid" and entry.digest == sent.digest:
            return entry
        msg = f"version {sent.version} of {sent.bidder_id}'s bid is already in the log with other contents; send a higher version to replace it"
        raise WrongState(msg, code="version_used")
    return None


def version_must_be_the_next(mine: Sequence[Entry], sent: Sent) -> None:
    latest = max((entry.version for entry in mine), default=0)
    if sent.version < latest:
        msg = f"version {sent.version} is older than {sent.bidder_id}'s latest, {latest}"
        raise WrongState(msg, code="stale_version")
    if sent.version != latest + 1:
        msg = f"the next version of {sent.bidder_id}'s bid in {sent.ocid} is {latest + 1}, not {sent.version}"
        raise WrongState(msg, code="version_not_next")


def withdrawal_must_follow_a_bid(mine: Sequence[Entry], sent: Sent) -> None:
    latest = max(mine, key=lambda entry: entry.version, default=None)
    if not sent.is_bid and (latest is None or latest.kind != "bid"):
        msg = f"{sent.bidder_id} has no bid in {sent.ocid} to withdraw"
        raise WrongState(msg, code="nothing_to_withdraw")


def check_order(mine: Sequence[Entry], sent: Sent) -> Entry | None:
    """The entry to answer with again when ``sent`` is already in the log; None when it may
    follow the bidder's entries; refused, with the reason, otherwise."""
    if (first := sent_before(mine, sent)) is not None:
        return first
    version_must_be_the_next(mine, sent)
    withdrawal_must_follow_a_bid(mine, sent)
    return None


def bid_must_stay_within_the_limits(
    mine: Sequence[Entry], sent: Sent, stored_bytes: int, limits: BidLimits
) -> None:
    """``stored_bytes`` is what the new entry would take. A bidder at a limit may still
    withdraw its bid: a small entry, and one at most, since only a bid can be withdrawn."""
    if not sent.is_bid:
        return
    if sent.version > limits.versions:
        msg = f"{sent.bidder_id} has sent the {limits.versions} versions of its bid that a bidder may send to {sent.ocid}; it may still withdraw it"
        raise WrongState(msg, code="too_many_versions")
    stored = sum(entry.stored_bytes for entry in mine)
    if stored + stored_bytes > limits.stored_bytes:
        msg = f"{sent.bidder_id}'s entries in {sent.ocid} take {stored} bytes; this bid's {stored_bytes} more would pass the {limits.stored_bytes} one bidder may store in one tender"
        raise TooMuchStored(msg)
