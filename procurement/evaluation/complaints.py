"""Complaints about an award during its standstill, and the review officer's ruling on them."""

from datetime import datetime

from procurement.errors import NotAllowed, NotFound, WrongState
from procurement.evaluation.rules import (
    lot_must_be,
    lot_must_exist,
    procedure_must_not_be_cancelled,
    reviewer_must_rule,
)
from procurement.evaluation.state import ComplaintStatus, Evaluation, LotStatus
from schemas.commands import Actor, Role
from schemas.evaluation import (
    ComplaintDismissed,
    ComplaintFiled,
    ComplaintUpheld,
    DismissComplaint,
    FileComplaint,
    UpholdComplaint,
)
from schemas.events import Event


def tenderers_concerned(state: Evaluation, lot_id: str) -> set[str]:
    """Who tendered for the lot: its bidders, and those whose bids were rejected at the
    opening, which may have been for it (Directive 89/665/EEC, Articles 1(3) and 2a(2))."""
    for_the_lot = {bid.bidder_id for bid in state.bids.values() if lot_id in bid.lot_ids}
    opened = {bid.bidder_id for bid in state.bids.values()}
    return for_the_lot | (set(state.facts.tenderers) - opened)


def complainant_must_be_a_tenderer_concerned(state: Evaluation, actor: Actor, lot_id: str) -> None:
    if actor.role is not Role.SUPPLIER or actor.id not in tenderers_concerned(state, lot_id):
        msg = (
            f"only a tenderer for lot {lot_id}, whose bid was evaluated or rejected at the "
            f"opening, may seek review of its award; {actor.id} did not tender for it"
        )
        raise NotAllowed(msg, code="not_a_tenderer")


def file_complaint(
    state: Evaluation, command: FileComplaint, actor: Actor, now: datetime
) -> list[Event]:
    lot = lot_must_exist(state, command.lot_id)
    complainant_must_be_a_tenderer_concerned(state, actor, lot.lot_id)
    procedure_must_not_be_cancelled(state)
    lot_must_be(lot, [LotStatus.AWARDED, LotStatus.SUSPENDED], "complain about the award")
    assert lot.award is not None, "an awarded lot has its award"
    if now >= lot.award.standstill_ends:
        msg = f"the standstill of lot {lot.lot_id} ended at {lot.award.standstill_ends.isoformat()}: complaints had to be filed before"
        raise WrongState(msg, code="standstill_over")
    for complaint in state.complaints.values():
        if (complaint.lot_id, complaint.bidder_id, complaint.status) == (
            lot.lot_id,
            actor.id,
            ComplaintStatus.OPEN,
        ):
            msg = f"{actor.id} already has {complaint.complaint_id} open about lot {lot.lot_id}"
            raise WrongState(msg, code="complaint_pending")
    return [
        ComplaintFiled(
            complaint_id=f"complaint-{len(state.complaints) + 1}",
            lot_id=lot.lot_id,
            bidder_id=actor.id,
            grounds=command.grounds,
        )
    ]


def rule_on_complaint(
    state: Evaluation, command: UpholdComplaint | DismissComplaint, actor: Actor
) -> list[Event]:
    complaint = state.complaints.get(command.complaint_id)
    if complaint is None:
        msg = f"{state.ocid} has no complaint {command.complaint_id}"
        raise NotFound(msg, code="unknown_complaint")
    reviewer_must_rule(state, actor)
    procedure_must_not_be_cancelled(state)
    if complaint.status is not ComplaintStatus.OPEN:
        msg = f"{complaint.complaint_id} is {complaint.status}: there is nothing left to rule on"
        raise WrongState(msg, code="complaint_closed")
    lot_must_be(state.lots[complaint.lot_id], [LotStatus.SUSPENDED], "rule on a complaint about it")
    names = {
        "complaint_id": complaint.complaint_id,
        "lot_id": complaint.lot_id,
        "reason": command.reason,
        "reviewer_id": actor.id,
        "review_body_id": actor.agency_id,
    }
    if isinstance(command, UpholdComplaint):
        return [ComplaintUpheld(**names, remedy=command.remedy)]
    return [ComplaintDismissed(**names)]
