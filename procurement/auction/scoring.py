"""The live ranking of an auction.

**The score**, as published with the tender (``schemas.values.Requirements``)::

    price score = price_weight * lowest current price / the bidder's current price
    total       = price score + the bidder's quality part (fixed by the evaluation; 0 for priceOnly)

The price score is computed to 28 significant digits and rounded once, half up, to 0.0001
point (as in ``procurement.evaluation.scoring``); the quality part is already exact to
0.0001, so the total is exact to 0.0001 and ties are decided on the rounded totals. Highest
total first; a tie goes to the bidder who reached its current price first, that is earlier in
the auction's sequence of accepted prices; initial prices count as reached before any auction
price, and among them the bid received first wins: the participants are scheduled in the
order their bids were received. This is the evaluation's rule too
(``procurement.evaluation.scoring.TIE_BREAK``), so the award follows the auction's ranking.
"""

from dataclasses import dataclass
from decimal import ROUND_FLOOR, ROUND_HALF_UP, Context, Decimal, localcontext

from procurement.auction.state import Auction
from schemas.auction import AuctionRank

POINT = Decimal("0.0001")
CENT = Decimal("0.01")
HUNDRED = Decimal(100)
ARITHMETIC = Context(prec=28, rounding=ROUND_HALF_UP)


@dataclass(frozen=True, slots=True)
class Rank:
    """One line of the live ranking; ``as_message`` is the line as ``AuctionClosed`` records it."""

    rank: int
    bidder_id: str
    bid_id: str
    price: Decimal
    price_score: Decimal
    quality_part: Decimal
    total: Decimal
    auction_sequence: int  # of the accepted price that set ``price``; 0: the initial price

    def as_message(self) -> AuctionRank:
        return AuctionRank(
            rank=self.rank,
            bidder_id=self.bidder_id,
            bid_id=self.bid_id,
            price=self.price,
            price_score=self.price_score,
            quality_part=self.quality_part,
            total=self.total,
            auction_sequence=self.auction_sequence,
        )


def ranking(state: Auction) -> list[Rank]:
    """Every participant's current standing by the published formula, best first."""
    rows = []
    with localcontext(ARITHMETIC):
        for position, (participant, standing) in enumerate(
            zip(state.participants, state.standings, strict=True)
        ):
            by_price = (state.price_weight * state.lowest / standing.price).quantize(POINT)
            total = by_price + participant.quality_part
            rows.append((total, standing.sequence, position, standing, participant, by_price))
    rows.sort(key=lambda row: (-row[0], row[1], row[2]))
    return [
        Rank(
            rank,
            participant.bidder_id,
            participant.bid_id,
            standing.price,
            by_price,
            participant.quality_part,
            total,
            standing.sequence,
        )
        for rank, (total, _, _, standing, participant, by_price) in enumerate(rows, 1)
    ]


def most_a_bidder_may_offer(state: Auction, bidder_id: str) -> Decimal:
    """The highest next price the decrement allows the bidder, in cents (may be 0.00)."""
    last = state.standing(bidder_id).price
    with localcontext(ARITHMETIC):
        limit = last * (HUNDRED - state.rules.minimum_decrement) / HUNDRED
        return limit.quantize(CENT, rounding=ROUND_FLOOR)
