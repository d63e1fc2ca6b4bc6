"""The public record of remedies: each complaint about a tender's awards and the review
body's decision on it (Directive 89/665/EEC), as ``GET /tenders/{ocid}/complaints`` serves it."""

from datetime import datetime
from enum import StrEnum
from typing import Annotated

from pydantic import Field

from schemas.base import Message
from schemas.conditions_complaints import ConditionsRemedy
from schemas.evaluation import MAX_BIDS, ComplaintSubject, Remedy
from schemas.values import Identifier, Text


class PublicComplaintStatus(StrEnum):
    PENDING = "pending"  # the award is suspended until the review body decides
    UPHELD = "upheld"
    DISMISSED = "dismissed"
    MOOT = "moot"  # the lot was cancelled, or another complaint about it upheld, first


class ReviewDecision(Message):
    outcome: PublicComplaintStatus  # upheld or dismissed
    reasons: Text
    remedy: Remedy | None = None  # what an upheld complaint does to the award
    review_body_id: Identifier  # the reviewer's body (the reviewer, for older decisions)
    reviewer_id: Identifier
    decided_at: datetime


class TenderComplaintSubject(StrEnum):
    CONDITIONS = "conditions"  # the tender's documents, requirements or criteria


class PublicComplaint(Message):
    complaint_id: Identifier
    lot_id: Identifier | None  # None: about the whole tender
    complainant_id: Identifier
    # the award, the buyer's cancellation of the lot, or the tender's conditions
    subject: ComplaintSubject | TenderComplaintSubject
    grounds: Text
    filed_at: datetime
    status: PublicComplaintStatus
    decision: ReviewDecision | None = None
    conditions_remedy: ConditionsRemedy | None = None  # once one about the conditions is upheld


class PublicComplaints(Message):
    ocid: Identifier
    complaints: Annotated[tuple[PublicComplaint, ...], Field(max_length=MAX_BIDS)]
