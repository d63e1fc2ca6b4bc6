"""The electronic reverse auction of one lot on the wire (Directive 2014/24/EU, Article 35).

One aggregate per lot, id ``<ocid>:auction:<lot_id>``. ``AuctionScheduled`` carries every fact
the rules need (the rules, the formula's parameters, the participants and their initial
prices), so the auction replays from its own events alone. Every price a bidder submits is
recorded: accepted or rejected with its reason. The rules are in ``procurement.auction``.
"""

from decimal import Decimal
from enum import StrEnum
from typing import Annotated, Literal

from pydantic import AwareDatetime, Field, model_validator

from schemas.base import AuctionEvent, Message, concrete_events
from schemas.bounds import MaxJsonBytes
from schemas.commands import Command
from schemas.values import AuctionEnd, AuctionRules, Currency, Identifier, Percent, Text

# A price in the auction's currency, to the cent.
Money = Annotated[Decimal, Field(gt=0, max_digits=18, decimal_places=2, allow_inf_nan=False)]
# Points of the published score, 0..100, exact to 0.0001 (see procurement.auction).
Points = Annotated[
    Decimal, Field(ge=0, le=100, max_digits=7, decimal_places=4, allow_inf_nan=False)
]
# A price as a bidder claimed it, valid or not: a rejection records what was sent.
ClaimedPrice = Annotated[Decimal, Field(allow_inf_nan=True), MaxJsonBytes(64, "a claimed price")]
MAX_PARTICIPANTS = 1000


class AuctionParticipant(Message):
    """An admissible tenderer invited to the auction, with what the evaluation gave it."""

    bidder_id: Identifier
    bid_id: Identifier  # the opened bid whose price the auction starts from
    initial_price: Money  # the opened bid's price for the lot
    quality_part: Points = Decimal(0)  # fixed during the auction; 0 for priceOnly


class RejectionReason(StrEnum):
    LATE = "late"  # at or after the auction's closing time
    NOT_OPEN = "not_open"  # before the opening, or the auction was cancelled
    NOT_DECREASING = "not_decreasing"  # not the minimum decrement below one's last price
    NOT_A_PARTICIPANT = "not_a_participant"  # the sender was not invited
    INVALID_PRICE = "invalid_price"  # not a positive amount in cents


class AuctionRank(Message):
    """One line of the auction's ranking: the published formula applied to one price."""

    rank: int = Field(ge=1, le=MAX_PARTICIPANTS)
    bidder_id: Identifier
    bid_id: Identifier
    price: Money  # the bidder's current (at the close: final) price
    price_score: Points
    quality_part: Points
    total: Points
    # The sequence number of the accepted price that set ``price``; 0 for the initial price.
    # Equal totals go to the lower one: the price reached first.
    auction_sequence: int = Field(default=0, ge=0, le=1_000_000_000)


class AuctionScheduled(AuctionEvent):
    """The auction is set up and every participant is invited at once (Article 35(4))."""

    public = True
    type: Literal["AuctionScheduled"] = "AuctionScheduled"
    ocid: Identifier
    lot_id: Identifier
    buyer_id: Identifier  # whose officers may cancel it
    currency: Currency
    starts_at: AwareDatetime
    rules: AuctionRules
    price_weight: Percent  # score = price_weight * lowest price / price + quality_part
    participants: Annotated[
        tuple[AuctionParticipant, ...], Field(min_length=2, max_length=MAX_PARTICIPANTS)
    ]
    # Article 35(7): other prices may be shown if the specifications say so. When True each
    # bidder sees the lowest current price and the best total, never whose they are.
    show_leading_price: bool = True

    @model_validator(mode="after")
    def _participants_are_unique(self) -> "AuctionScheduled":
        for kind in ("bidder_id", "bid_id"):
            ids = [getattr(p, kind) for p in self.participants]
            if len(ids) != len(set(ids)):
                repeated = sorted({i for i in ids if ids.count(i) > 1})
                raise ValueError(f"each participant once, repeated {kind}: {repeated}")
        return self

    @model_validator(mode="after")
    def _quality_parts_fit_the_formula(self) -> "AuctionScheduled":
        room = Decimal(100) - self.price_weight
        for p in self.participants:
            if p.quality_part > room:
                msg = (
                    f"the quality part of {p.bidder_id}, {p.quality_part}, is more than the "
                    f"{room} points the formula leaves beside a price weight of {self.price_weight}"
                )
                raise ValueError(msg)
        return self


class AuctionOpened(AuctionEvent):
    public = True
    type: Literal["AuctionOpened"] = "AuctionOpened"
    opened_at: AwareDatetime  # the auction's clock starts here


class AuctionPriceAccepted(AuctionEvent):
    public = False
    type: Literal["AuctionPriceAccepted"] = "AuctionPriceAccepted"
    bidder_id: Identifier
    price: Money
    at: AwareDatetime
    round: int = Field(ge=1)  # from the time since opening; 1 unless the auction has rounds
    sequence: int = Field(ge=1)  # this is the auction's n-th accepted price


class AuctionPriceRejected(AuctionEvent):
    """A submitted price the rules refused, kept as evidence of what was sent and why."""

    public = False
    type: Literal["AuctionPriceRejected"] = "AuctionPriceRejected"
    bidder_id: Identifier  # as the sender claimed it: not always a participant
    price: ClaimedPrice
    at: AwareDatetime
    reason_code: RejectionReason
    reason: Text


class AuctionClosed(AuctionEvent):
    public = True
    type: Literal["AuctionClosed"] = "AuctionClosed"
    closed_at: AwareDatetime  # when the closing rule was met, not when the timer noticed
    reason: AuctionEnd
    ranking: Annotated[tuple[AuctionRank, ...], Field(min_length=2, max_length=MAX_PARTICIPANTS)]


class AuctionCancelled(AuctionEvent):
    """Cancelled by the buyer: final, with no result."""

    public = True
    type: Literal["AuctionCancelled"] = "AuctionCancelled"
    officer_id: Identifier
    reason: Text
    cancelled_at: AwareDatetime


AUCTION_EVENTS = concrete_events(AuctionEvent)


# Commands


class AuctionCommand(Command):
    ocid: Identifier
    lot_id: Identifier


class ScheduleAuction(AuctionCommand):
    """The buyer sets the start; every admissible tenderer of the lot is invited at once."""

    starts_at: AwareDatetime


class SubmitAuctionPrice(AuctionCommand):
    """A bidder's new price. Recorded even when refused, so what was sent is evidence."""

    price: Annotated[Decimal, Field(allow_inf_nan=False, max_digits=30)]


class OpenAuction(AuctionCommand):
    """The platform's timer opens the auction at its start."""


class CloseAuction(AuctionCommand):
    """The platform's timer closes the auction once its closing rule is met."""


class CancelAuction(AuctionCommand):
    reason: Text


AnyAuctionCommand = (
    ScheduleAuction | SubmitAuctionPrice | OpenAuction | CloseAuction | CancelAuction
)
