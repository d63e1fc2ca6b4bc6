"""The bidders and their bids: who bid, when that becomes public, and each bid's offer.

**Bidders.** Nothing about bidders before the bids are opened; ``numberOfTenderers`` from the
opening (every bidder whose bid was opened or rejected); the tenderers themselves, in
``tender.tenderers`` and as parties with the role ``tenderer``, from the first award. A lot's
bids (``bids.details``, one entry per bid and lot, with the price and whether the committee
found it valid) once the lot is awarded or cancelled: its prices are then the award's
evidence; a bid that could not be opened is listed, without a price, from the first award.
The price is the auction's final one when the lot had an auction. Award winners also get the
role ``supplier``.

**Award evidence** (the ``awardEvidence`` extension): with each bid for a decided lot, the
time of its receipt, the committee's reason when it disqualified it, the price as opened
when an auction changed it, and, for a price flagged as abnormally low, the test's numbers
and the justification's decision, so that a flagged bid accepted after its justification
never reads as plainly ``valid``. The JSON at ``/tenders/{ocid}/award-evidence`` has the rest
(receipts, leaves, signed scores, the auction's history).
"""

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from publication.ocds.parties import reference
from publication.ocds.procedure import Bid, Procedure
from publication.ocds.standard import iso, value_of
from schemas.evaluation import (
    AbnormallyLowFlagged,
    AuctionResultRecorded,
    BidDisqualified,
    BidQualified,
    EvaluationStarted,
    JustificationAccepted,
    JustificationRejected,
)
from schemas.events import BidOpened, BidRejected, BidsOpened, Envelope
from schemas.values import Value

_BASES = {"others_average": "othersAverage", "estimated_value": "estimatedValue"}


@dataclass
class LotVerdict:
    """What the evaluation decided about one bid for one lot, beyond its status."""

    reason: str | None = None  # why the committee disqualified it, or admitted it all the same
    opened_price: Value | None = None  # before the auction changed it
    flag: AbnormallyLowFlagged | None = None
    justification: tuple[str, str] | None = None  # (accepted or rejected, the reason)


@dataclass
class EvidencedBid(Bid):
    """A bid with what the award evidence publishes of it."""

    received_at: datetime | None = None  # from its receipt
    not_opened: str | None = None  # why it could not be opened
    log_head: tuple[int, str] | None = None  # the sealed bid log's size and root, at the opening
    lots: dict[str, LotVerdict] = field(default_factory=dict)

    def verdict(self, lot_id: str) -> LotVerdict:
        return self.lots.setdefault(lot_id, LotVerdict())


def evidenced(procedure: Procedure, bid_id: str) -> EvidencedBid | None:
    bid = procedure.bids.get(bid_id)
    return bid if isinstance(bid, EvidencedBid) else None


def bidder(procedure: Procedure, envelope: Envelope) -> list[str]:
    event = envelope.event
    assert isinstance(event, BidOpened | BidRejected)
    procedure.bidders[event.bidder_id] = None
    prices = (
        {offer.lot_id: offer.price for offer in event.content.offers}
        if isinstance(event, BidOpened)
        else {}
    )
    not_opened = event.reason if isinstance(event, BidRejected) else None
    procedure.bids[event.bid_id] = EvidencedBid(event.bidder_id, prices, not_opened=not_opened)
    return []  # the bids become public information only as a whole, at BidsOpened


def evaluation_started(procedure: Procedure, envelope: Envelope) -> list[str]:
    """Each opened bid's time of receipt, as the evaluation took it from the receipt."""
    event = envelope.event
    assert isinstance(event, EvaluationStarted)
    for opened in event.bids:
        bid = evidenced(procedure, opened.bid_id)
        if bid is not None:
            bid.received_at = opened.received_at
    return []


def bid_judged(procedure: Procedure, envelope: Envelope) -> list[str]:
    event = envelope.event
    judged = BidQualified | BidDisqualified | JustificationRejected | JustificationAccepted
    assert isinstance(event, judged)
    bid = procedure.bids.get(event.bid_id)
    if bid is None:
        return []
    if isinstance(event, JustificationAccepted | JustificationRejected):
        _justified(bid, event)
        if isinstance(event, JustificationAccepted):
            return []
    valid = isinstance(event, BidQualified)
    lots = [event.lot_id] if isinstance(event, JustificationRejected) else event.lot_ids
    for lot_id in lots:
        bid.status[lot_id] = "valid" if valid else "disqualified"
        if isinstance(bid, EvidencedBid) and not isinstance(event, JustificationRejected):
            bid.verdict(lot_id).reason = event.reason
    return []  # public with the lot's award


def _justified(bid: Bid, event: JustificationAccepted | JustificationRejected) -> None:
    if isinstance(bid, EvidencedBid):
        decision = "accepted" if isinstance(event, JustificationAccepted) else "rejected"
        bid.verdict(event.lot_id).justification = (decision, event.reason)


def abnormally_low_flagged(procedure: Procedure, envelope: Envelope) -> list[str]:
    event = envelope.event
    assert isinstance(event, AbnormallyLowFlagged)
    bid = evidenced(procedure, event.bid_id)
    if bid is not None:
        verdict = bid.verdict(event.lot_id)
        verdict.flag, verdict.justification = event, None
    return []  # public with the lot's award


def lot_checked_afresh(procedure: Procedure, lot_id: str) -> None:
    """The lot's final prices are checked again: earlier flags no longer stand."""
    for bid in procedure.bids.values():
        if isinstance(bid, EvidencedBid) and lot_id in bid.lots:
            bid.lots[lot_id].flag = None
            bid.lots[lot_id].justification = None


def auction_result(procedure: Procedure, envelope: Envelope) -> list[str]:
    event = envelope.event
    assert isinstance(event, AuctionResultRecorded)
    lot_checked_afresh(procedure, event.lot_id)
    for final in event.final_prices:
        bid = procedure.bids.get(final.bid_id)
        if bid is not None and event.lot_id in bid.prices:
            if isinstance(bid, EvidencedBid) and bid.verdict(event.lot_id).opened_price is None:
                bid.verdict(event.lot_id).opened_price = bid.prices[event.lot_id]
            bid.prices[event.lot_id] = final.price
    return []  # public with the lot's award


def opened(procedure: Procedure, envelope: Envelope) -> list[str]:
    event = envelope.event
    assert isinstance(event, BidsOpened)
    procedure.number_of_tenderers = len(procedure.bidders)
    for bid in procedure.bids.values():
        if isinstance(bid, EvidencedBid):
            bid.log_head = (event.tree_size, event.root)
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
            unopened = {"id": bid_id, "status": "disqualified", "tenderers": tenderers}
            details.append(unopened | _unopened_evidence(bid))
        for lot_id, price in bid.prices.items():
            if lot_id in decided:
                detail = {
                    "id": f"{bid_id}:{lot_id}",
                    "status": bid.status.get(lot_id, "pending"),
                    "tenderers": tenderers,
                    "value": value_of(price),
                    "relatedLots": [lot_id],
                }
                details.append(detail | _evidence(bid, lot_id))
    return details


def _unopened_evidence(bid: Bid) -> dict[str, Any]:
    if not isinstance(bid, EvidencedBid) or bid.not_opened is None:
        return {}
    return {"statusDetails": f"the bid was rejected at the opening: {bid.not_opened}"}


def _evidence(bid: Bid, lot_id: str) -> dict[str, Any]:
    """The awardEvidence extension's fields of one bid for one lot."""
    if not isinstance(bid, EvidencedBid):
        return {}
    fields: dict[str, Any] = {}
    if bid.received_at is not None:
        fields["receivedAt"] = iso(bid.received_at)
    verdict = bid.lots.get(lot_id, LotVerdict())
    if verdict.reason:
        fields["statusDetails"] = verdict.reason
    if verdict.opened_price is not None:
        fields["openedValue"] = value_of(verdict.opened_price)
    if verdict.flag is not None:
        fields["abnormallyLowPrice"] = _abnormally_low(verdict)
    return fields


def _abnormally_low(verdict: LotVerdict) -> dict[str, Any]:
    flag = verdict.flag
    assert flag is not None
    currency = flag.price.currency
    found: dict[str, Any] = {
        "basis": _BASES[flag.basis.value],
        "reference": {"amount": flag.reference, "currency": currency},
        "sharePercent": flag.share,
        "threshold": {"amount": flag.threshold, "currency": currency},
    }
    decision, reason = verdict.justification or ("awaited", None)
    found["justification"] = {"decision": decision} | ({"reason": reason} if reason else {})
    return found
