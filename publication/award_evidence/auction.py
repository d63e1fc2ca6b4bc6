"""The lot's auction: its participants under pseudonymous labels, every accepted price,
and, once it is over, who each label was.

**Labels.** ``Bidder 1`` .. ``Bidder n`` in the order of the auction's participants as
scheduled (``AuctionScheduled.participants``); the label -> bidder map is revealed once the
auction is closed or cancelled."""

from collections.abc import Sequence

from procurement import auction as auctions
from schemas.auction import AuctionClosed, AuctionPriceAccepted, AuctionScheduled
from schemas.award_evidence import (
    AuctionEntrant,
    AuctionEvidence,
    AuctionLabel,
    AuctionPrice,
    LabelledRank,
)
from schemas.events import Event


def auction_labels(scheduled: AuctionScheduled) -> dict[str, str]:
    """Bidder id -> its pseudonymous label: ``Bidder 1``.. in the participants' order."""
    return {p.bidder_id: f"Bidder {n}" for n, p in enumerate(scheduled.participants, 1)}


def auction_evidence(events: Sequence[Event]) -> AuctionEvidence | None:
    """The lot's auction: its participants under their labels, every accepted price, and,
    once it is over, who each label was."""
    state = auctions.replay(events)
    if state is None:
        return None
    scheduled = next(e for e in events if isinstance(e, AuctionScheduled))
    labels = auction_labels(scheduled)
    closed = next((e for e in events if isinstance(e, AuctionClosed)), None)
    over = state.status in (auctions.AuctionStatus.CLOSED, auctions.AuctionStatus.CANCELLED)
    return AuctionEvidence(
        auction_id=state.auction_id,
        status=state.status.value,
        currency=state.currency,
        price_weight=state.price_weight,
        rules=state.rules,
        starts_at=state.starts_at,
        opened_at=state.opened_at,
        closed_at=state.closed_at,
        close_reason=state.close_reason,
        participants=tuple(
            AuctionEntrant(
                label=labels[p.bidder_id],
                initial_price=p.initial_price,
                quality_part=p.quality_part,
            )
            for p in scheduled.participants
        ),
        history=tuple(
            AuctionPrice(
                sequence=e.sequence,
                label=labels.get(e.bidder_id, "?"),
                price=e.price,
                at=e.at,
                round=e.round,
            )
            for e in events
            if isinstance(e, AuctionPriceAccepted)
        ),
        prices_rejected=state.rejected,
        labels=tuple(
            AuctionLabel(label=labels[p.bidder_id], bidder_id=p.bidder_id, bid_id=p.bid_id)
            for p in scheduled.participants
        )
        if over
        else None,
        final_ranking=tuple(
            LabelledRank(**rank.model_dump(), label=labels[rank.bidder_id])
            for rank in closed.ranking
        )
        if closed
        else None,
    )
