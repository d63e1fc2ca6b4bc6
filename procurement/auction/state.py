"""The state of one lot's auction, its lifecycle, and when it opens and closes.

**Time.** The auction's clock starts at the opening (``AuctionOpened.opened_at``, which is
``starts_at`` when the timer is punctual, so a late timer never shortens the auction). It
closes at opened_at + duration_seconds (fixed_time), opened_at + rounds * round_seconds
(rounds; a price's round is 1 + whole round_seconds since the opening), or inactivity_seconds
after the opening or the last accepted price, whichever is later (inactivity). A price at or
after ``closes_at`` is late even if the timer has not closed the auction yet, and
``AuctionClosed.closed_at`` is ``closes_at``, not the moment the timer noticed.
"""

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from enum import StrEnum

from procurement.auction.vector import PersistentVector
from schemas.auction import AuctionParticipant, AuctionScheduled
from schemas.values import AuctionEnd, AuctionRules


def auction_id(ocid: str, lot_id: str) -> str:
    return f"{ocid}:auction:{lot_id}"


class AuctionStatus(StrEnum):
    SCHEDULED = "scheduled"  # invitations sent; not open yet
    OPEN = "open"  # prices are accepted until closes_at
    CLOSED = "closed"  # final: the ranking is fixed
    CANCELLED = "cancelled"  # final: no result


_ALL = tuple(AuctionStatus)

# The lifecycle as data: (status before, event type) -> status after. Anything else is illegal.
# A rejected price changes nothing, whenever it arrives.
LIFECYCLE: dict[tuple[AuctionStatus | None, str], AuctionStatus] = {
    (None, "AuctionScheduled"): AuctionStatus.SCHEDULED,
    (AuctionStatus.SCHEDULED, "AuctionOpened"): AuctionStatus.OPEN,
    (AuctionStatus.OPEN, "AuctionPriceAccepted"): AuctionStatus.OPEN,
    (AuctionStatus.OPEN, "AuctionClosed"): AuctionStatus.CLOSED,
    (AuctionStatus.SCHEDULED, "AuctionCancelled"): AuctionStatus.CANCELLED,
    (AuctionStatus.OPEN, "AuctionCancelled"): AuctionStatus.CANCELLED,
    **{(status, "AuctionPriceRejected"): status for status in _ALL},
}


@dataclass(frozen=True, slots=True)
class Standing:
    price: Decimal  # the bidder's current price
    sequence: int  # of the accepted price that set it; 0 for the initial price


@dataclass(frozen=True)
class Auction:
    auction_id: str
    ocid: str
    lot_id: str
    buyer_id: str
    currency: str
    starts_at: datetime
    rules: AuctionRules
    price_weight: Decimal
    show_leading_price: bool
    participants: tuple[AuctionParticipant, ...]  # as scheduled; fixed
    index: Mapping[str, int]  # bidder id -> position in participants and standings; fixed
    standings: PersistentVector[Standing]  # by position
    lowest: Decimal  # the lowest current price
    status: AuctionStatus
    version: int  # the sequence number of the last event applied
    opened_at: datetime | None = None
    last_accepted_at: datetime | None = None
    accepted: int = 0  # prices accepted so far: the sequence of the last one
    rejected: int = 0
    closed_at: datetime | None = None
    close_reason: AuctionEnd | None = None
    cancelled_at: datetime | None = None

    def standing(self, bidder_id: str) -> Standing:
        return self.standings[self.index[bidder_id]]


def scheduled(event: AuctionScheduled) -> Auction:
    participants = event.participants
    return Auction(
        auction_id=auction_id(event.ocid, event.lot_id),
        ocid=event.ocid,
        lot_id=event.lot_id,
        buyer_id=event.buyer_id,
        currency=event.currency,
        starts_at=event.starts_at,
        rules=event.rules,
        price_weight=event.price_weight,
        show_leading_price=event.show_leading_price,
        participants=participants,
        index={p.bidder_id: i for i, p in enumerate(participants)},
        standings=PersistentVector.of(Standing(p.initial_price, 0) for p in participants),
        lowest=min(p.initial_price for p in participants),
        status=AuctionStatus.SCHEDULED,
        version=1,
    )


def closes_at(state: Auction) -> datetime:
    """When the auction closes by its rule, as things stand; before the opening, as planned."""
    origin = state.opened_at or state.starts_at
    rules = state.rules
    if rules.ends is AuctionEnd.FIXED_TIME:
        return origin + timedelta(seconds=rules.duration_seconds)
    if rules.ends is AuctionEnd.ROUNDS:
        return origin + timedelta(seconds=rules.rounds * rules.round_seconds)
    return (state.last_accepted_at or origin) + timedelta(seconds=rules.inactivity_seconds)


def round_at(state: Auction, at: datetime) -> int:
    """The round a price sent at ``at`` belongs to: 1 unless the auction runs in rounds."""
    if state.rules.ends is not AuctionEnd.ROUNDS or state.opened_at is None:
        return 1
    return (at - state.opened_at) // timedelta(seconds=state.rules.round_seconds) + 1


def next_due(state: Auction) -> datetime | None:
    """When the timer next has something to do: open at starts_at, then close at closes_at."""
    if state.status is AuctionStatus.SCHEDULED:
        return state.starts_at
    if state.status is AuctionStatus.OPEN:
        return closes_at(state)
    return None
