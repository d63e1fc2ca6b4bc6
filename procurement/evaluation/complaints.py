"""Complaints to the review body and its rulings (Directive 89/665/EEC as amended by
2007/66/EC): any tenderer concerned may seek review of a lot's award during its standstill
(the lot is suspended meanwhile, Article 2(3)), or of the buyer's cancellation of the lot
within 10 days of it; the review body, never the buyer, rules."""

from datetime import datetime

from procurement.errors import NotAllowed, NotFound, Rejected, WrongState
from procurement.evaluation.rules import (
    lot_must_be,
    lot_must_exist,
    procedure_must_not_be_cancelled,
    reviewer_must_rule,
)
from procurement.evaluation.state import ComplaintStatus, Evaluation, LotState, LotStatus
from procurement.standstill import LEGAL_STANDSTILL_DAYS, standstill_ends
from schemas.commands import Actor, Role
from schemas.evaluation import (
    ComplaintDismissed,
    ComplaintFiled,
    ComplaintSubject,
    ComplaintUpheld,
    DismissComplaint,
    FileComplaint,
    Remedy,
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
    """A tenderer asks the review body to review the lot's award, during its standstill, or
    the buyer's cancellation of the lot, within the time limit for review after it."""
    lot = lot_must_exist(state, command.lot_id)
    complainant_must_be_a_tenderer_concerned(state, actor, lot.lot_id)
    procedure_must_not_be_cancelled(state)
    if command.subject is ComplaintSubject.CANCELLATION:
        cancellation_must_be_open_to_review(state, lot, now)
    else:
        award_must_be_in_its_standstill(lot, now)
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
            subject=command.subject,
        )
    ]


def award_must_be_in_its_standstill(lot: LotState, now: datetime) -> None:
    lot_must_be(lot, [LotStatus.AWARDED, LotStatus.SUSPENDED], "complain about the award")
    assert lot.award is not None, "an awarded lot has its award"
    if now >= lot.award.standstill_ends:
        msg = f"the standstill of lot {lot.lot_id} ended at {lot.award.standstill_ends.isoformat()}: complaints had to be filed before"
        raise WrongState(msg, code="standstill_over")


def cancellation_must_be_open_to_review(state: Evaluation, lot: LotState, now: datetime) -> None:
    """Directive 89/665/EEC, Articles 2(1)(b) and 2c: the buyer's decision to cancel may be
    reviewed, within 10 calendar days of the day after it was sent."""
    if lot.status is not LotStatus.CANCELLED or lot.cancelled_at is None:
        msg = f"lot {lot.lot_id} has no cancellation by the buyer to review: it is {lot.status}"
        raise WrongState(msg, code="not_cancelled")
    closes = standstill_ends(lot.cancelled_at, LEGAL_STANDSTILL_DAYS, state.facts.time_zone)
    if now >= closes:
        msg = f"the cancellation of lot {lot.lot_id} could be challenged until {closes.isoformat()}"
        raise WrongState(msg, code="review_period_over")


def rule_on_complaint(
    state: Evaluation, command: UpholdComplaint | DismissComplaint, actor: Actor
) -> list[Event]:
    """The review body upholds or dismisses a complaint, with its reasons; an upheld
    complaint about an award re-evaluates or cancels the lot, one about a cancellation
    annuls it."""
    complaint = state.complaints.get(command.complaint_id)
    if complaint is None:
        msg = f"{state.ocid} has no complaint {command.complaint_id}"
        raise NotFound(msg, code="unknown_complaint")
    reviewer_must_rule(state, actor)
    procedure_must_not_be_cancelled(state)
    if complaint.status is not ComplaintStatus.OPEN:
        msg = f"{complaint.complaint_id} is {complaint.status}: there is nothing left to rule on"
        raise WrongState(msg, code="complaint_closed")
    against_cancellation = complaint.subject is ComplaintSubject.CANCELLATION
    status = LotStatus.CANCELLED if against_cancellation else LotStatus.SUSPENDED
    lot_must_be(state.lots[complaint.lot_id], [status], "rule on a complaint about it")
    names = {
        "complaint_id": complaint.complaint_id,
        "lot_id": complaint.lot_id,
        "reason": command.reason,
        "reviewer_id": actor.id,
        "review_body_id": actor.agency_id,
        "subject": complaint.subject,
    }
    if isinstance(command, UpholdComplaint):
        remedy_must_fit_the_complaint(command.remedy, complaint.subject)
        return [ComplaintUpheld(**names, remedy=command.remedy)]
    return [ComplaintDismissed(**names)]


def remedy_must_fit_the_complaint(remedy: Remedy, subject: ComplaintSubject) -> None:
    annuls = remedy is Remedy.ANNUL_CANCELLATION
    if annuls != (subject is ComplaintSubject.CANCELLATION):
        fits = (
            "annul_cancellation"
            if subject is ComplaintSubject.CANCELLATION
            else "re_evaluate or cancel"
        )
        msg = f"a complaint about the {subject} is remedied by {fits}, not {remedy}"
        raise Rejected(msg, code="remedy_does_not_fit")
