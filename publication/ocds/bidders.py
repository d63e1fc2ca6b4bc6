"""The bidders and their bids: who bid, when that becomes public, and each bid's offer.

**Bidders.** Nothing about bidders before the bids are opened; ``numberOfTenderers`` from the
opening (every bidder whose bid was opened or rejected); the tenderers themselves, in
``tender.tenderers`` and as parties with the role ``tenderer``, from the first award. A lot's
bids (``bids.details``, one entry per bid and lot, with the price and whether the committee
found it valid) once the lot is awarded or cancelled: its prices are then the award's
evidence; a bid that could not be opened is listed, without a price, from the first award.
The price is the auction's final one when the lot had an auction. Award winners also get the
role ``supplier``.
"""

from typing import Any

from publication.ocds.parties import reference
from publication.ocds.procedure import Bid, Procedure
from publication.ocds.standard import value_of
from schemas.evaluation import (
    AuctionResultRecorded,
    BidDisqualified,
    BidQualified,
    JustificationRejected,
)
from schemas.events import BidOpened, BidRejected, Envelope


def bidder(procedure: Procedure, envelope: Envelope) -> list[str]:
    event = envelope.event
    assert isinstance(event, BidOpened | BidRejected)
    procedure.bidders[event.bidder_id] = None
    prices = (
        {offer.lot_id: offer.price for offer in event.content.offers}
        if isinstance(event, BidOpened)
        else {}
    )
    procedure.bids[event.bid_id] = Bid(event.bidder_id, prices)
    return []  # the bids become public information only as a whole, at BidsOpened


def bid_judged(procedure: Procedure, envelope: Envelope) -> list[str]:
    event = envelope.event
    assert isinstance(event, BidQualified | BidDisqualified | JustificationRejected)
    bid = procedure.bids.get(event.bid_id)
    if bid is None:
        return []
    valid = isinstance(event, BidQualified)
    lots = [event.lot_id] if isinstance(event, JustificationRejected) else event.lot_ids
    for lot_id in lots:
        bid.status[lot_id] = "valid" if valid else "disqualified"
    return []  # public with the lot's award


def auction_result(procedure: Procedure, envelope: Envelope) -> list[str]:
    event = envelope.event
    assert isinstance(event, AuctionResultRecorded)
    for final in event.final_prices:
        bid = procedure.bids.get(final.bid_id)
        if bid is not None and event.lot_id in bid.prices:
            bid.prices[event.lot_id] = final.price
    return []  # public with the lot's award


def opened(procedure: Procedure, envelope: Envelope) -> list[str]:
    procedure.number_of_tenderers = len(procedure.bidders)
    return ["tenderUpdate"]


def bid_details(procedure: Procedure) -> list[dict[str, Any]]:
    """Each bid's offer for each lot whose award is decided (or that was cancelled), and each
    bid that could not be opened; a lot still in evaluation keeps its prices to itself."""
    decided = {lot for award in procedure.awards.values() for lot in award["relatedLots"]}
    decided |= procedure.cancelled_lots
    details: list[dict[str, Any]] = []
    for bid_id, bid in procedure.bids.items():
        tenderers = [reference(procedure, bid.bidder_id)]
        if not bid.prices:
            details.append({"id": bid_id, "status": "disqualified", "tenderers": tenderers})
        for lot_id, price in bid.prices.items():
            if lot_id in decided:
                details.append(
                    {
                        "id": f"{bid_id}:{lot_id}",
                        "status": bid.status.get(lot_id, "pending"),
                        "tenderers": tenderers,
                        "value": value_of(price),
                        "relatedLots": [lot_id],
                    }
                )
    return details
