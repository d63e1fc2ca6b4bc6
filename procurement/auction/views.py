"""What bidders are sent and see: the invitations, and each bidder's live view, never another
bidder's identity.
"""

from typing import Any

from procurement.auction.rules import participant_must_be_invited
from procurement.auction.scoring import Rank, most_a_bidder_may_offer, ranking
from procurement.auction.state import Auction, closes_at, scheduled
from schemas.auction import AuctionParticipant, AuctionScheduled
from schemas.values import AuctionEnd, AuctionRules


def invitations(event: AuctionScheduled) -> list[tuple[str, dict[str, Any]]]:
    """What each participant is sent, all at once: the auction's rules, the formula, and its
    own initial price and rank; never another bidder's identity, price or quality part."""
    state = scheduled(event)
    ranks = {row.bidder_id: row for row in ranking(state)}
    common = {
        "auction_id": state.auction_id,
        "ocid": state.ocid,
        "lot_id": state.lot_id,
        "currency": state.currency,
        "starts_at": state.starts_at.isoformat(),
        "ends": _end_rule(state.rules),
        "minimum_decrement": f"{state.rules.minimum_decrement:.2f}",
        "participants": len(state.participants),
        "leading_price_shown": state.show_leading_price,
    }
    return [
        (
            participant.bidder_id,
            {
                **common,
                "formula": _formula(state, participant),
                "initial_price": f"{participant.initial_price:.2f}",
                "initial_rank": ranks[participant.bidder_id].rank,
            },
        )
        for participant in state.participants
    ]


def _end_rule(rules: AuctionRules) -> dict[str, Any]:
    if rules.ends is AuctionEnd.FIXED_TIME:
        return {"rule": rules.ends.value, "duration_seconds": rules.duration_seconds}
    if rules.ends is AuctionEnd.ROUNDS:
        return {
            "rule": rules.ends.value,
            "rounds": rules.rounds,
            "round_seconds": rules.round_seconds,
        }
    return {"rule": rules.ends.value, "inactivity_seconds": rules.inactivity_seconds}


def _formula(state: Auction, participant: AuctionParticipant) -> dict[str, str]:
    return {
        "score": "price_weight * lowest price / your price + your quality part",
        "price_weight": str(state.price_weight),
        "your_quality_part": f"{participant.quality_part:.4f}",
        "rounding": "the price score half up to 0.0001 point",
        "ties": "the bidder who reached its current price first",
    }


def bidder_view(state: Auction, bidder_id: str) -> dict[str, Any]:
    """What one bidder sees live. See ``bidder_views``."""
    participant_must_be_invited(state, bidder_id)
    return _views(state, ranking(state), only=bidder_id)[bidder_id]


def bidder_views(state: Auction) -> dict[str, dict[str, Any]]:
    """What every bidder sees, ranked once: its own price, score and rank, the number of
    participants, and, when the auction's specification says so (``show_leading_price``,
    Article 35(7)), the lowest current price and the best total, anonymously. Never another
    bidder's identity."""
    return _views(state, ranking(state))


def _views(state: Auction, ranks: list[Rank], only: str | None = None) -> dict[str, dict[str, Any]]:
    shown = state.show_leading_price
    common = {
        "auction_id": state.auction_id,
        "status": state.status.value,
        "currency": state.currency,
        "closes_at": closes_at(state).isoformat(),
        "version": state.version,  # of the event the view reflects: later views supersede it
        "participants": len(ranks),
        "leading_price": f"{state.lowest:.2f}" if shown else None,
        "best_total": f"{ranks[0].total:.4f}" if shown else None,
    }
    return {
        row.bidder_id: {
            **common,
            "your_price": f"{row.price:.2f}",
            "your_price_score": f"{row.price_score:.4f}",
            "your_total": f"{row.total:.4f}",
            "your_rank": row.rank,
            "your_next_price_at_most": f"{most_a_bidder_may_offer(state, row.bidder_id):.2f}",
        }
        for row in ranks
        if only is None or row.bidder_id == only
    }
