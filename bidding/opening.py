"""What every opening needs: each bid's outcome, the bids that count, and whether the log
still matches its sealed root (the opening itself: ``bidding.committee_opening``).

Pure: the caller loads the log and records the events this returns.
"""

from collections.abc import Sequence
from dataclasses import dataclass

from bidding import merkle, receipts
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
    for entry in sorted(log, key=lambda e: e.position):
        latest[entry.receipt.bidder_id] = entry
    return [entry for entry in latest.values() if isinstance(entry, BidSubmitted)]


def log_matches_root(log: Sequence[BidSubmitted | BidWithdrawn], root: bytes) -> bool:
    ordered = sorted(log, key=lambda e: e.position)
    return merkle.root([receipts.leaf_hash(e.receipt) for e in ordered]) == root
