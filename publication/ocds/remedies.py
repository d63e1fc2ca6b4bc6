"""Complaints, the review body's decisions and the award period, as the public reads them.

**Complaints** (the ``complaints`` extension, in the shape ProZorro publishes on its awards):
each request for review of an award is listed on the award it is about, with its author,
grounds and date; once the review body decides, its decision, reasons and remedy, and the
body itself, a party with the role ``reviewBody``. A complaint left undecided because the lot
was cancelled or another complaint about it was upheld is ``moot``. A complaint against the
buyer's cancellation of a lot sits on the lot's last award (the cancelled award, or the
``unsuccessful`` one); upheld, the cancellation is annulled and that award stands again.

**Award period** (core ``tender.awardPeriod``): from the first award decision to the end of
the last standstill of an award that stands; an award is final, and its contract may follow,
only once its standstill is over (Directive 89/665/EEC, Article 2a(2)).
"""

from typing import Any

from publication.ocds import awarding
from publication.ocds.parties import reference
from publication.ocds.procedure import Handler, Procedure
from publication.ocds.standard import iso
from schemas.evaluation import (
    ComplaintDismissed,
    ComplaintFiled,
    ComplaintUpheld,
    LotCancelled,
    ProcedureCancelled,
    Remedy,
)
from schemas.events import Envelope

_RESOLUTION = {
    Remedy.RE_EVALUATE: "reEvaluate",
    Remedy.CANCEL: "cancel",
    Remedy.ANNUL_CANCELLATION: "annulCancellation",
}


def complaint_filed(procedure: Procedure, envelope: Envelope) -> list[str]:
    event = envelope.event
    assert isinstance(event, ComplaintFiled)
    complaint = {
        "id": event.complaint_id,
        "status": "pending",
        "subject": str(event.subject),
        "author": reference(procedure, event.bidder_id),
        "description": event.grounds,
        "relatedLot": event.lot_id,
        "dateSubmitted": iso(envelope.occurred_at),
    }
    procedure.complaints[event.complaint_id] = complaint
    award = _latest_award(procedure, event.lot_id)  # its award, or its cancellation
    if award is None:
        return []
    award.setdefault("complaints", []).append(complaint)
    return ["awardUpdate"]


def complaint_dismissed(procedure: Procedure, envelope: Envelope) -> list[str]:
    event = envelope.event
    assert isinstance(event, ComplaintDismissed)
    _decided(procedure, envelope, event, "dismissed")
    return ["awardUpdate"]


def complaint_upheld(procedure: Procedure, envelope: Envelope) -> list[str]:
    event = envelope.event
    assert isinstance(event, ComplaintUpheld)
    complaint = _decided(procedure, envelope, event, "upheld")
    complaint["resolutionType"] = _RESOLUTION[event.remedy]
    _moot(procedure, event.lot_id)
    if event.remedy is Remedy.ANNUL_CANCELLATION:
        _resume(procedure, event.lot_id)
        return ["awardUpdate"]
    tags = awarding.complaint_upheld(procedure, envelope)
    return tags or ["awardUpdate"]


def cancelled(handler: Handler) -> Handler:
    """A cancellation, after which the complaints it leaves undecided are moot."""

    def handle(procedure: Procedure, envelope: Envelope) -> list[str]:
        event = envelope.event
        assert isinstance(event, LotCancelled | ProcedureCancelled)
        every_lot = [lot.id for lot in procedure.published.requirements.lots]
        for lot_id in [event.lot_id] if isinstance(event, LotCancelled) else every_lot:
            _moot(procedure, lot_id)
        return handler(procedure, envelope)

    return handle


def award_period(procedure: Procedure) -> dict[str, Any]:
    """``awardPeriod`` for the tender section, once an award was decided."""
    decided = [a for a in procedure.awards.values() if "awardEvidence" in a]
    if not decided:
        return {}
    standing = [
        a["awardEvidence"]["standstillEnds"]
        for a in decided
        if a["status"] in ("pending", "active")
    ]
    # No award stands: null, so that the compiled record drops an end an earlier award set.
    return {
        "awardPeriod": {
            "startDate": min(a["date"] for a in decided),
            "endDate": max(standing) if standing else None,
        }
    }


def _decided(
    procedure: Procedure,
    envelope: Envelope,
    event: ComplaintUpheld | ComplaintDismissed,
    status: str,
) -> dict[str, Any]:
    body = event.review_body_id or event.reviewer_id
    procedure.review_bodies.setdefault(body, None)
    complaint = procedure.complaints.setdefault(event.complaint_id, {"id": event.complaint_id})
    complaint |= {
        "status": status,
        "dateDecision": iso(envelope.occurred_at),
        "decision": event.reason,
        "reviewBody": reference(procedure, body),
    }
    return complaint


def _latest_award(procedure: Procedure, lot_id: str) -> dict[str, Any] | None:
    awards = [a for a in procedure.awards.values() if a["relatedLots"] == [lot_id]]
    return awards[-1] if awards else None


def _resume(procedure: Procedure, lot_id: str) -> None:
    """The lot's cancellation is annulled: an award it had is pending again; the outcome
    ``unsuccessful`` published for a lot cancelled before its award is itself cancelled."""
    procedure.cancelled_lots.discard(lot_id)
    award = _latest_award(procedure, lot_id)
    if award is None:
        return
    if award["status"] == "unsuccessful":
        award["status"] = "cancelled"
    elif "awardEvidence" in award:
        award["status"] = "pending"
        procedure.lot_awards[lot_id] = award["id"]


def _moot(procedure: Procedure, lot_id: str) -> None:
    for complaint in procedure.complaints.values():
        if complaint.get("relatedLot") == lot_id and complaint["status"] == "pending":
            complaint["status"] = "moot"
