"""A tender's complaints and the review body's decisions, folded from the evaluation's
public events: what anyone may read of the remedies (``schemas.remedies``)."""

from collections.abc import Iterable

from schemas.evaluation import (
    ComplaintDismissed,
    ComplaintFiled,
    ComplaintUpheld,
    LotCancelled,
    ProcedureCancelled,
)
from schemas.events import Envelope
from schemas.remedies import (
    PublicComplaint,
    PublicComplaints,
    PublicComplaintStatus,
    ReviewDecision,
)

# The evaluation's events this fold reads; every one of them is public.
READS = (
    "ComplaintFiled",
    "ComplaintUpheld",
    "ComplaintDismissed",
    "LotCancelled",
    "ProcedureCancelled",
)
PENDING = PublicComplaintStatus.PENDING


def public_complaints(ocid: str, history: Iterable[Envelope]) -> PublicComplaints:
    found: dict[str, PublicComplaint] = {}
    for envelope in history:
        event = envelope.event
        if isinstance(event, ComplaintFiled):
            found[event.complaint_id] = PublicComplaint(
                complaint_id=event.complaint_id,
                lot_id=event.lot_id,
                complainant_id=event.bidder_id,
                subject=event.subject,
                grounds=event.grounds,
                filed_at=envelope.occurred_at,
                status=PENDING,
            )
        elif isinstance(event, ComplaintUpheld | ComplaintDismissed):
            upheld = isinstance(event, ComplaintUpheld)
            outcome = PublicComplaintStatus.UPHELD if upheld else PublicComplaintStatus.DISMISSED
            decision = ReviewDecision(
                outcome=outcome,
                reasons=event.reason,
                remedy=event.remedy if isinstance(event, ComplaintUpheld) else None,
                review_body_id=event.review_body_id or event.reviewer_id,
                reviewer_id=event.reviewer_id,
                decided_at=envelope.occurred_at,
            )
            if upheld:
                _moot(found, event.lot_id)
            complaint = found[event.complaint_id]
            found[event.complaint_id] = complaint.model_copy(
                update={"status": outcome, "decision": decision}
            )
        elif isinstance(event, LotCancelled):
            _moot(found, event.lot_id)
        elif isinstance(event, ProcedureCancelled):
            for complaint in list(found.values()):
                _moot(found, complaint.lot_id)
    return PublicComplaints(ocid=ocid, complaints=tuple(found.values()))


def _moot(found: dict[str, PublicComplaint], lot_id: str | None) -> None:
    for key, complaint in found.items():
        if complaint.lot_id == lot_id and complaint.status is PENDING:
            found[key] = complaint.model_copy(update={"status": PublicComplaintStatus.MOOT})
