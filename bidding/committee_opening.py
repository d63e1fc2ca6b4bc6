"""The opening of bids sealed to a committee: each bid's content key rebuilt from the shares
members handed in, checked against the bidder's commitment, and the bid decrypted; a bid that
does not rebuild or decrypt is rejected alone, with its reason, and the others open. Pure:
the caller holds the shares in memory, loads the log and records what this returns.
"""

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from itertools import combinations, islice

from bidding import committee_sealing, receipts, shamir
from bidding.opening import Opened
from bidding.sealing import Unsealable
from schemas.bids import Receipt, SealedBid
from schemas.committee import CommitteeMaterial, HandedShare

# Shares that all match the bidder's digests yet do not rebuild its key are the bidder's
# own doing; with more than k members at the opening, other k-subsets are tried, this many.
MAX_SUBSETS = 64


class WrongShare(ValueError):
    """A member handed in a share that is not the one the bidder sealed to it."""

    def __init__(self, bid_id: str, reason: str) -> None:
        super().__init__(f"{bid_id}: {reason}")
        self.bid_id = bid_id


@dataclass(frozen=True)
class CurrentBid:
    """A bidder's latest entry, as recorded at receipt, with the leaf the log holds for it."""

    receipt: Receipt
    bid: SealedBid
    recorded_leaf: bytes


def check_handed_shares(
    officer_id: str,
    handed: Sequence[HandedShare],
    current: Mapping[str, SealedBid],
) -> dict[str, shamir.Share]:
    """The member's shares by bid id, each checked against the digest the bidder recorded
    for that member; a share for another member's x, an unknown bid or a wrong share
    refuses the whole hand-in (``WrongShare``). Problems reported leave the bid out."""
    accepted: dict[str, shamir.Share] = {}
    for item in handed:
        bid = current.get(item.bid_id)
        if bid is None:
            raise WrongShare(item.bid_id, "no current bid has this id")
        if item.bid_id in accepted:
            raise WrongShare(item.bid_id, "the bid's share is handed in twice")
        recorded = next((s for s in bid.key_shares if s.officer_id == officer_id), None)
        if recorded is None or recorded.x != item.x:
            raise WrongShare(item.bid_id, f"{officer_id} holds no share {item.x} of this bid")
        if item.share is None:
            continue
        if hashlib.sha256(item.share).hexdigest() != recorded.share_sha256:
            raise WrongShare(item.bid_id, "the share is not the one the bidder sealed")
        accepted[item.bid_id] = shamir.Share.from_bytes(item.share)
    return accepted


def rebuild(shares: Sequence[shamir.Share], threshold: int, commitment: str) -> bytes:
    """K from any ``threshold`` of ``shares`` that match the bidder's commitment."""
    if len(shares) < threshold:
        raise Unsealable(
            "bad_key_shares",
            f"{len(shares)} members' shares of this bid decrypted; {threshold} are needed",
        )
    last: Unsealable | None = None
    for subset in islice(combinations(shares, threshold), MAX_SUBSETS):
        try:
            return committee_sealing.rebuild_content_key(subset, commitment)
        except Unsealable as error:
            last = error
    assert last is not None
    raise last


def open_bid(
    current: CurrentBid,
    material: CommitteeMaterial,
    shares: Sequence[shamir.Share],
    bidder_key: bytes,
) -> Opened:
    receipt, bid = current.receipt, current.bid

    def rejected(code: str, reason: str) -> Opened:
        return Opened(receipt.bid_id, receipt.bidder_id, receipt.version, None, code, reason)

    digest = hashlib.sha256(bid.ciphertext).hexdigest()
    if digest != receipt.ciphertext_sha256 or receipts.leaf_hash(receipt) != current.recorded_leaf:
        return rejected(
            "tampered",
            "the stored ciphertext or receipt differs from the commitment in the sealed bid log",
        )
    if not committee_sealing.bid_signature_valid(bid, bidder_key):
        return rejected("invalid_signature", "the bidder's signature does not match this bid")
    if (mismatch := committee_sealing.shares_match_material(bid, material)) is not None:
        return rejected("bad_key_shares", mismatch)
    try:
        content_key = rebuild(shares, material.threshold, bid.key_commitment)
        content = committee_sealing.decrypt_bid(
            bid.ocid, bid.lots, bid.bidder_id, bid.version, bid.ciphertext, content_key
        )
    except Unsealable as error:
        return rejected(error.code, error.reason)
    return Opened(receipt.bid_id, receipt.bidder_id, receipt.version, content)


def open_bids(
    current: Sequence[CurrentBid],
    material: CommitteeMaterial,
    shares: Mapping[str, Sequence[shamir.Share]],
    bidder_keys: Mapping[str, bytes],
) -> list[Opened]:
    """Every current bid opened or rejected; ``shares`` are the accepted shares per bid id."""
    return [
        open_bid(
            entry,
            material,
            shares.get(entry.receipt.bid_id, ()),
            bidder_keys.get(entry.receipt.bidder_id, b""),
        )
        for entry in current
    ]
