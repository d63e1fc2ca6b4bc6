"""The awards of a release: decided, overturned by a complaint, or not made at all.

**Awards.** ``pending`` while the standstill runs (complaints may still overturn it),
``active`` once its contract is drawn (the standstill is over), ``cancelled`` when a complaint
is upheld or its lot or the procedure is cancelled. The id is the platform's award id
(``contracts.contract.award_id``), which contracts name as their ``awardID``. An auction's
final price is the awarded value and the bid's value. A lot cancelled before its award is
also published as an award with status ``unsuccessful`` (the awardStatus code for an award
that could not be made).

**Annulled awards and unsuccessful lots.** An award the buyer annuls (the winner refuses
to sign, fails to prove, or is excluded) is ``cancelled`` with the grounds in its
description; the lot's next award has a new id (``<lot>:<bid>:2``...), so that an award id
names one award over the procedure's life. A lot left with no bid that can win, or a tender
that closed with none, is published as an ``unsuccessful`` award per lot, with the reason.

**Award evidence** (the ``awardEvidence`` extension): each award made says where its full
evidence is (``evidencePath``, under the platform's API), the sealed bid log's size and root,
when its standstill ends, and its ranking with every bid's points and time of receipt; the
bids' own evidence is in ``bids.details`` (``publication.ocds.bidders``).
"""

from datetime import datetime
from typing import Any

from procurement import tender as tenders
from procurement.evaluation import annulment_grounds, award_id
from publication.ocds import bidders
from publication.ocds.parties import reference
from publication.ocds.procedure import Procedure, lot_by_id
from publication.ocds.standard import iso, value_of
from publication.ocds.tendering import item_of
from schemas.evaluation import (
    AwardAnnulled,
    AwardDecided,
    ComplaintUpheld,
    LotCancelled,
    LotUnsuccessful,
    ProcedureCancelled,
    Remedy,
)
from schemas.events import Envelope, TenderUnsuccessful
from schemas.values import Lot


def awarded(procedure: Procedure, envelope: Envelope) -> list[str]:
    event = envelope.event
    assert isinstance(event, AwardDecided)
    lot = lot_by_id(procedure, event.lot_id)
    decided = award_id(event.lot_id, event.bid_id, event.award_number)
    procedure.awards[decided] = {
        **_award_of(lot, decided, "pending", event.decided_at),
        "value": value_of(event.value),
        "suppliers": [reference(procedure, event.bidder_id)],
        "awardEvidence": _evidence(procedure, event),
    }
    procedure.lot_awards[event.lot_id] = decided
    procedure.bidders.setdefault(event.bidder_id, None)
    procedure.tenderers_public = True
    return ["award"]


def evidence_path(ocid: str) -> str:
    return f"/tenders/{ocid}/award-evidence"


def _evidence(procedure: Procedure, event: AwardDecided) -> dict[str, Any]:
    """Where the award's evidence is, the sealed log it rests on, and its ranking."""
    for row in event.ranking:  # the ranked bids' receipt times, public with the award
        bid = bidders.evidenced(procedure, row.bid_id)
        if bid is not None:
            bid.received_at = row.received_at
    evidence: dict[str, Any] = {
        "evidencePath": evidence_path(procedure.ocid),
        "standstillEnds": iso(event.standstill_ends),
        "ranking": [
            {
                "id": f"{row.bid_id}:{event.lot_id}",  # the bid's entry in bids.details
                "rank": row.rank,
                "priceScore": row.price_score,
                "qualityPart": row.quality_part,
                "total": row.total,
                "receivedAt": iso(row.received_at),
                "auctionSequence": row.auction_sequence,
            }
            for row in event.ranking
        ],
    }
    winner = bidders.evidenced(procedure, event.bid_id)
    if winner is not None and winner.log_head is not None:
        tree_size, root = winner.log_head
        evidence["bidLog"] = {"treeSize": tree_size, "root": root}
    return evidence


def _award_of(lot: Lot, award_id: str, status: str, when: datetime) -> dict[str, Any]:
    return {
        "id": award_id,
        "title": lot.title,
        "description": f"Lot {lot.id}",
        "status": status,
        "date": iso(when),
        "items": [item_of(item, lot.id) for item in lot.items],
        "relatedLots": [lot.id],
    }


def complaint_upheld(procedure: Procedure, envelope: Envelope) -> list[str]:
    event = envelope.event
    assert isinstance(event, ComplaintUpheld)
    if event.remedy is Remedy.CANCEL:
        procedure.cancelled_lots.add(event.lot_id)
    else:  # re-evaluated: its prices are checked again when it is ranked again
        bidders.lot_checked_afresh(procedure, event.lot_id)
    return ["awardCancellation"] if _cancel_award(procedure, event.lot_id) else []


def lot_cancelled(procedure: Procedure, envelope: Envelope) -> list[str]:
    event = envelope.event
    assert isinstance(event, LotCancelled)
    procedure.cancelled_lots.add(event.lot_id)
    if _cancel_award(procedure, event.lot_id):
        return ["awardCancellation"]
    _unsuccessful(procedure, event.lot_id, f"Lot {event.lot_id}: {event.reason}", envelope)
    return ["award"]


def _unsuccessful(procedure: Procedure, lot_id: str, why: str, envelope: Envelope) -> None:
    """The lot is published as an award that could not be made, saying why."""
    unsuccessful_id = f"{lot_id}:unsuccessful"
    lot = lot_by_id(procedure, lot_id)
    unsuccessful = _award_of(lot, unsuccessful_id, "unsuccessful", envelope.occurred_at)
    procedure.awards[unsuccessful_id] = {**unsuccessful, "description": why}


def award_annulled(procedure: Procedure, envelope: Envelope) -> list[str]:
    event = envelope.event
    assert isinstance(event, AwardAnnulled)
    annulled = procedure.awards.get(award_id(event.lot_id, event.bid_id, event.award_number))
    if annulled is None:
        return []
    if procedure.lot_awards.get(event.lot_id) == annulled["id"]:
        del procedure.lot_awards[event.lot_id]
    grounds = f"Annulled: {annulment_grounds(event.reason_code)}. {event.reason}"
    annulled.update(status="cancelled", description=f"Lot {event.lot_id}. {grounds}")
    return ["awardCancellation"]


def lot_unsuccessful(procedure: Procedure, envelope: Envelope) -> list[str]:
    event = envelope.event
    assert isinstance(event, LotUnsuccessful)
    procedure.unsuccessful_lots.add(event.lot_id)
    _unsuccessful(procedure, event.lot_id, event.reason, envelope)
    return ["award"]


def tender_unsuccessful(procedure: Procedure, envelope: Envelope) -> list[str]:
    """The tender closed with no bid to evaluate: every lot is unsuccessful, and so is it."""
    event = envelope.event
    assert isinstance(event, TenderUnsuccessful)
    procedure.tender = tenders.evolve(procedure.published, event)
    for lot in procedure.published.requirements.lots:
        procedure.unsuccessful_lots.add(lot.id)
        _unsuccessful(procedure, lot.id, f"Lot {lot.id}: {event.reason}", envelope)
    return ["tenderUpdate", "award"]


def procedure_cancelled(procedure: Procedure, envelope: Envelope) -> list[str]:
    assert isinstance(envelope.event, ProcedureCancelled)
    procedure.cancelled = True
    cancelled = [_cancel_award(procedure, lot_id) for lot_id in list(procedure.lot_awards)]
    return ["tenderCancellation", *(["awardCancellation"] if cancelled else [])]


def _cancel_award(procedure: Procedure, lot_id: str) -> bool:
    cancelled = procedure.lot_awards.pop(lot_id, None)
    if cancelled is not None:
        procedure.awards[cancelled]["status"] = "cancelled"
    return cancelled is not None
