"""The score, the ranking and abnormally low prices of a lot: pure functions of the state.

The score, as published with the tender (``schemas.values.Requirements``):

    price score  = price_weight * lowest price / bid price
    quality part = Σ over the criteria of weight * average of the members' scores / 100
    total        = price score + quality part

"lowest price" is the lowest among the bids in the lot's ranking: admissible, and not
removed for an abnormally low price whose justification was rejected; prices are the final
ones of the auction when there was one. Each member's latest score counts and the average is
over the members who scored. The price score and the quality part are each computed to 28
significant digits and rounded once, half up, to 0.0001 point; the total is their sum, so it
is exact to 0.0001. For priceOnly the quality part is 0. The ranking orders by total, highest
first; a tie goes by ``TIE_BREAK``, the rule the auction's live ranking applies too.

Abnormally low: a price strictly below ``abnormally_low_share`` % of the average of the other
bids in the ranking, or of the lot's estimated value, each threshold rounded half up to the
cent. The others' average is tried first and named as the basis when both apply. The check
runs once, when the lot's prices become final: at ``LotEvaluated``, or at
``AuctionResultRecorded`` on the auction's final prices.
"""

from decimal import ROUND_HALF_UP, Context, Decimal, localcontext

from procurement.evaluation.state import Evaluation, FlagStatus, LotState
from schemas.evaluation import (
    AbnormallyLowBasis,
    AbnormallyLowFlagged,
    EvaluationFacts,
    LotFacts,
    OpenedBid,
    RankedBid,
)
from schemas.values import Value

POINT = Decimal("0.0001")
CENT = Decimal("0.01")
HUNDRED = Decimal(100)
_ARITHMETIC = Context(prec=28, rounding=ROUND_HALF_UP)

# One rule for every ranking of a lot: the auction's, the evaluation's and the award's.
TIE_BREAK = (
    "equal totals go to the bid whose price was reached first: a price lowered in the "
    "lot's auction ranks by the sequence number of the accepted auction price that set it "
    "(auction_sequence, lower first); a price as opened (auction_sequence 0) was reached "
    "before any auction price, and among such prices the bid received first wins "
    "(received_at, then bid_id in ascending order)"
)


def price_score(weight: Decimal, lowest: Decimal, price: Decimal) -> Decimal:
    with localcontext(_ARITHMETIC):
        return (weight * lowest / price).quantize(POINT)


def quality_part(facts: EvaluationFacts, lot: LotState, bid_id: str) -> Decimal:
    with localcontext(_ARITHMETIC):
        part = Decimal(0)
        for criterion in facts.quality_criteria:
            given = [
                member.score
                for (bid, criterion_id, _), member in lot.scores.items()
                if bid == bid_id and criterion_id == criterion.id
            ]
            if given:
                part += criterion.weight * sum(given, Decimal(0)) / (len(given) * HUNDRED)
        return part.quantize(POINT)


def admissible_bids(state: Evaluation, lot_id: str) -> list[OpenedBid]:
    lot = state.lots[lot_id]
    return [
        state.bids[bid_id]
        for bid_id, decision in sorted(lot.decisions.items())
        if decision.admissible
    ]


def ranked_prices(state: Evaluation, lot_id: str) -> dict[str, Decimal]:
    """The prices of the bids that compete for the lot: admissible, not removed as
    abnormally low and not annulled, the auction's final prices once it is over."""
    lot = state.lots[lot_id]
    flags = lot.flags or {}
    prices: dict[str, Decimal] = {}
    for bid in admissible_bids(state, lot_id):
        flag = flags.get(bid.bid_id)
        offer = bid.offer(lot_id)
        rejected = flag is not None and flag.status is FlagStatus.REJECTED
        if offer is None or rejected or bid.bid_id in lot.annulled:
            continue
        final = (lot.final_prices or {}).get(bid.bid_id)
        prices[bid.bid_id] = offer.price.amount if final is None else final
    return prices


def ranking(state: Evaluation, lot_id: str) -> list[RankedBid]:
    """The lot's ranking by the published formula, best first; see the module's docstring."""
    prices = ranked_prices(state, lot_id)
    if not prices:
        return []
    lowest = min(prices.values())
    currency = lot_currency(state, lot_id)
    lot = state.lots[lot_id]
    sequences = lot.auction_sequences or {}
    rows = []
    for bid_id, price in prices.items():
        bid = state.bids[bid_id]
        by_price = price_score(state.facts.price_weight, lowest, price)
        by_quality = quality_part(state.facts, lot, bid_id)
        reached = sequences.get(bid_id, 0)
        rows.append(
            (by_price + by_quality, reached, bid.received_at, bid_id, price, by_price, by_quality)
        )
    rows.sort(key=lambda row: (-row[0], row[1], row[2], row[3]))
    return [
        RankedBid(
            rank=rank,
            bid_id=bid_id,
            bidder_id=state.bids[bid_id].bidder_id,
            price=Value(amount=price, currency=currency),
            price_score=by_price,
            quality_part=by_quality,
            total=total,
            received_at=received_at,
            auction_sequence=reached,
        )
        for rank, (total, reached, received_at, bid_id, price, by_price, by_quality) in enumerate(
            rows, 1
        )
    ]


def abnormally_low(state: Evaluation, lot_id: str) -> list[AbnormallyLowFlagged]:
    """The bids of the lot whose price is abnormally low; see the module's docstring."""
    prices = ranked_prices(state, lot_id)
    share = state.facts.abnormally_low_share
    estimate = lot_facts(state, lot_id).estimated_value.amount
    flagged = []
    for bid_id, price in sorted(prices.items()):
        others = [other for other_id, other in prices.items() if other_id != bid_id]
        references = [(AbnormallyLowBasis.ESTIMATED_VALUE, estimate)]
        if others:
            with localcontext(_ARITHMETIC):
                average = sum(others, Decimal(0)) / len(others)
            references.insert(0, (AbnormallyLowBasis.OTHERS_AVERAGE, average))
        for basis, reference in references:
            threshold = _threshold(share, reference)
            if price < threshold:
                flagged.append(
                    AbnormallyLowFlagged(
                        lot_id=lot_id,
                        bid_id=bid_id,
                        bidder_id=state.bids[bid_id].bidder_id,
                        price=Value(amount=price, currency=lot_currency(state, lot_id)),
                        basis=basis,
                        reference=reference.quantize(CENT, rounding=ROUND_HALF_UP),
                        share=share,
                        threshold=threshold,
                    )
                )
                break
    return flagged


def _threshold(share: Decimal, reference: Decimal) -> Decimal:
    with localcontext(_ARITHMETIC):
        return (share * reference / HUNDRED).quantize(CENT)


def lot_facts(state: Evaluation, lot_id: str) -> LotFacts:
    lot = state.facts.lot(lot_id)
    assert lot is not None, f"lot {lot_id} is in the state, so it is in the facts"
    return lot


def lot_currency(state: Evaluation, lot_id: str) -> str:
    return lot_facts(state, lot_id).estimated_value.currency
