"""Opening the bids, once the key is rebuilt: each current bid is checked against what was
recorded when it arrived, then decrypted, or rejected with the reason.

Pure: the caller loads the log and records the events this returns.
"""

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey

from bidding import keys, merkle, receipts, sealing
from schemas.bids import BidContent
from schemas.events import BidOpened, BidRejected, BidSubmitted, BidWithdrawn


@dataclass(frozen=True)
class Opened:
    bid_id: str
    bidder_id: str
    version: int
    content: BidContent | None
    reason_code: str | None = None
    reason: str | None = None

    def event(self) -> BidOpened | BidRejected:
        if self.content is not None:
            return BidOpened(
                bid_id=self.bid_id,
                bidder_id=self.bidder_id,
                version=self.version,
                content=self.content,
            )
        assert self.reason_code is not None
        assert self.reason is not None
        return BidRejected(
            bid_id=self.bid_id,
            bidder_id=self.bidder_id,
            version=self.version,
            reason_code=self.reason_code,
            reason=self.reason,
        )


def current_bids(log: Sequence[BidSubmitted | BidWithdrawn]) -> list[BidSubmitted]:
    """Each bidder's latest entry, if it is a bid: replacements and withdrawals count."""
    latest: dict[str, BidSubmitted | BidWithdrawn] = {}
    for entry in sorted(log, key=lambda e: e.receipt.log_index):
        latest[entry.receipt.bidder_id] = entry
    return [entry for entry in latest.values() if isinstance(entry, BidSubmitted)]


def log_matches_root(log: Sequence[BidSubmitted | BidWithdrawn], root: bytes) -> bool:
    ordered = sorted(log, key=lambda e: e.receipt.log_index)
    return merkle.root([receipts.leaf_hash(e.receipt) for e in ordered]) == root


def open_bid(
    entry: BidSubmitted, opening_key: X25519PrivateKey, recorded_leaf: bytes, bidder_key: bytes
) -> Opened:
    receipt = entry.receipt

    def rejected(code: str, reason: str) -> Opened:
        return Opened(receipt.bid_id, receipt.bidder_id, receipt.version, None, code, reason)

    digest = hashlib.sha256(entry.ciphertext).hexdigest()
    if digest != receipt.ciphertext_sha256 or receipts.leaf_hash(receipt) != recorded_leaf:
        return rejected(
            "tampered",
            "the stored ciphertext or receipt differs from the commitment in the sealed bid log",
        )
    fields = sealing.bid_signature_fields(
        receipt.ocid, receipt.lots, receipt.bidder_id, receipt.version, entry.ciphertext
    )
    if not keys.verify(bidder_key, entry.signature, keys.BID_SIGNATURE, fields):
        return rejected("invalid_signature", "the bidder's signature does not match this bid")
    try:
        content = sealing.open_bid(
            receipt.ocid,
            receipt.lots,
            receipt.bidder_id,
            receipt.version,
            entry.ciphertext,
            opening_key,
        )
    except sealing.Unsealable as error:
        return rejected(error.code, error.reason)
    return Opened(receipt.bid_id, receipt.bidder_id, receipt.version, content)


def open_bids(
    current: Sequence[BidSubmitted],
    opening_key: X25519PrivateKey,
    recorded_leaves: Mapping[int, bytes],
    bidder_keys: Mapping[str, bytes],
) -> list[Opened]:
    return [
        open_bid(
            entry,
            opening_key,
            recorded_leaves[entry.receipt.log_index],
            bidder_keys.get(entry.receipt.bidder_id, b""),
        )
        for entry in current
    ]


def open_bids_with_raw_key(
    current: Sequence[BidSubmitted],
    opening_key: bytes,
    recorded_leaves: Mapping[int, bytes],
    bidder_keys: Mapping[str, bytes],
) -> list[Opened]:
    """``open_bids`` for a worker process, which receives the key as its 32 raw bytes."""
    key = X25519PrivateKey.from_private_bytes(opening_key)
    return open_bids(current, key, recorded_leaves, bidder_keys)
