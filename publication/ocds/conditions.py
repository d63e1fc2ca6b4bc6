"""Complaints about the tender's conditions, as the public reads them: on the tender, as
ProZorro publishes its tender-level complaints (``tender.complaints``, in the shape of the
``complaints`` extension). Each names its author, grounds and date; once the review body
decides, its decision and reasons, and the body itself (a party with the role
``reviewBody``). An upheld complaint's resolution is ``amendConditions``: the buyer must
amend the conditions significantly, or cancel the tender. One left undecided when the
tender was cancelled is ``moot``."""

from typing import Any

from publication.ocds.parties import reference
from publication.ocds.procedure import Handler, Procedure
from publication.ocds.standard import iso
from schemas.conditions_complaints import (
    ConditionsComplaintDismissed,
    ConditionsComplaintFiled,
    ConditionsComplaintUpheld,
)
from schemas.events import Envelope

SUBJECT = "conditions"


def filed(procedure: Procedure, envelope: Envelope) -> list[str]:
    event = envelope.event
    assert isinstance(event, ConditionsComplaintFiled)
    procedure.complaints[event.complaint_id] = {
        "id": event.complaint_id,
        "status": "pending",
        "subject": SUBJECT,
        "author": reference(procedure, event.supplier_id),
        "description": event.grounds,
        "dateSubmitted": iso(envelope.occurred_at),
    }
    return ["tenderUpdate"]


def decided(procedure: Procedure, envelope: Envelope) -> list[str]:
    event = envelope.event
    assert isinstance(event, ConditionsComplaintUpheld | ConditionsComplaintDismissed)
    procedure.review_bodies.setdefault(event.review_body_id, None)
    upheld = isinstance(event, ConditionsComplaintUpheld)
    procedure.complaints[event.complaint_id] |= {
        "status": "upheld" if upheld else "dismissed",
        "dateDecision": iso(envelope.occurred_at),
        "decision": event.reason,
        "reviewBody": reference(procedure, event.review_body_id),
    } | ({"resolutionType": "amendConditions"} if upheld else {})
    return ["tenderUpdate"]


def tender_cancelled(handler: Handler) -> Handler:
    """The tender's cancellation, after which the complaints it leaves undecided are moot."""

    def handle(procedure: Procedure, envelope: Envelope) -> list[str]:
        for complaint in tender_complaints(procedure):
            if complaint["status"] == "pending":
                complaint["status"] = "moot"
        return handler(procedure, envelope)

    return handle


def tender_complaints(procedure: Procedure) -> list[dict[str, Any]]:
    return [c for c in procedure.complaints.values() if c.get("subject") == SUBJECT]


def complaints_section(procedure: Procedure) -> dict[str, Any]:
    """``complaints`` for the tender section, once one was filed."""
    found = tender_complaints(procedure)
    return {"complaints": found} if found else {}
