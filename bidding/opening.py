"""What every opening needs: each bid's outcome, the bids that count, and whether the log
still matches its sealed root (the opening itself: ``bidding.committee_opening``).

Pure: the caller loads the log and records the events this returns.
"""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace

from bidding import merkle, receipts
from bidding.reconfirmation import Awaited
from schemas.bids import BidContent, Receipt
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


def not_reconfirmed(receipt: Receipt, awaited: Awaited) -> Opened:
    """A bid sent before a significant amendment, neither reconfirmed nor replaced by the
    deadline: it is not opened, so its contents stay sealed."""
    reason = (
        f"the tender's requirements were amended (digest {awaited.requirements_sha256}) after"
        " this bid was sent, and its bidder neither reconfirmed it nor sent a new version"
        " before the deadline"
    )
    return Opened(
        receipt.bid_id, receipt.bidder_id, receipt.version, None, "not_reconfirmed", reason
    )


def bid_must_fit_the_tender(opened: Opened, currencies: Mapping[str, str]) -> Opened:
    """An opened bid the evaluation can take: it offers only for lots the tender has at the
    opening (``currencies``: each lot's currency), priced in the lot's currency. Otherwise
    it is rejected on its own, with the reason, and the other bids go on."""
    if opened.content is None:
        return opened
    for offer in opened.content.offers:
        currency = currencies.get(offer.lot_id)
        if currency is None:
            reason = (
                f"the bid offers for lot {offer.lot_id}, which the tender no longer has"
                f" (its lots: {sorted(currencies)})"
            )
            return replace(opened, content=None, reason_code="unknown_lot", reason=reason)
        if offer.price.currency != currency:
            reason = (
                f"the bid prices lot {offer.lot_id} in {offer.price.currency}; the lot is"
                f" priced in {currency}, so the bids could not be compared"
            )
            return replace(opened, content=None, reason_code="wrong_currency", reason=reason)
    return opened
