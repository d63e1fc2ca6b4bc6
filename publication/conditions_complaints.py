"""The public record of complaints about a tender's conditions, folded from the events of
"<ocid>:complaints" and what the tender did after an upheld one (its remedy)."""

from collections.abc import Iterable, Sequence

from procurement import conditions_complaints
from schemas.conditions_complaints import (
    ConditionsComplaintDismissed,
    ConditionsComplaintFiled,
    ConditionsComplaintUpheld,
)
from schemas.events import Envelope, Event, TenderCancelled
from schemas.remedies import (
    PublicComplaint,
    PublicComplaintStatus,
    ReviewDecision,
    TenderComplaintSubject,
)


def public_conditions_complaints(
    ocid: str, history: Iterable[Envelope], tender_history: Sequence[Event]
) -> list[PublicComplaint]:
    envelopes = list(history)
    state = conditions_complaints.replay(ocid, (e.event for e in envelopes))
    cancelled = any(isinstance(event, TenderCancelled) for event in tender_history)
    found: dict[str, PublicComplaint] = {}
    for envelope in envelopes:
        event = envelope.event
        if isinstance(event, ConditionsComplaintFiled):
            found[event.complaint_id] = PublicComplaint(
                complaint_id=event.complaint_id,
                lot_id=None,
                complainant_id=event.supplier_id,
                subject=TenderComplaintSubject.CONDITIONS,
                grounds=event.grounds,
                filed_at=envelope.occurred_at,
                # left undecided when the tender was cancelled: nothing left to review
                status=PublicComplaintStatus.MOOT if cancelled else PublicComplaintStatus.PENDING,
            )
        elif isinstance(event, ConditionsComplaintUpheld | ConditionsComplaintDismissed):
            upheld = isinstance(event, ConditionsComplaintUpheld)
            outcome = PublicComplaintStatus.UPHELD if upheld else PublicComplaintStatus.DISMISSED
            assert state is not None
            decided = found[event.complaint_id].model_copy(
                update={
                    "status": outcome,
                    "decision": ReviewDecision(
                        outcome=outcome,
                        reasons=event.reason,
                        review_body_id=event.review_body_id,
                        reviewer_id=event.reviewer_id,
                        decided_at=envelope.occurred_at,
                    ),
                    "conditions_remedy": conditions_complaints.remedy(
                        state.complaints[event.complaint_id], tender_history
                    ),
                }
            )
            found[event.complaint_id] = decided
    return list(found.values())
