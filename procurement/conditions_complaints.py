"""Complaints about a tender's conditions, before its submission deadline (Directive
89/665/EEC, Articles 1(3) and 2(1)): any registered supplier, a possible tenderer, may ask
a review body to review the documents, requirements or criteria; a review officer of
another body, never the buyer's own, upholds or dismisses it with reasons.

A complaint does not suspend the deadline: Article 2(3) suspends only the conclusion of
the contract, and interim measures are for the review body (Article 2(1)(a)). An upheld
complaint awaits its remedy, a significant amendment after the decision (which extends the
deadline, ``procurement.tender``) or the tender's cancellation; until then the tender does
not close, so its bids cannot be opened, and the buyer may amend it even after its
deadline. The aggregate is "<ocid>:complaints"; ``decide`` and ``evolve`` are pure."""

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from enum import StrEnum

from procurement.errors import NotAllowed, NotFound, WrongState
from procurement.tender import Tender, TenderStatus
from schemas.commands import Actor, Role
from schemas.conditions_complaints import (
    AnyConditionsComplaintCommand,
    ConditionsComplaintDismissed,
    ConditionsComplaintFiled,
    ConditionsComplaintUpheld,
    ConditionsRemedy,
    FileConditionsComplaint,
    UpholdConditionsComplaint,
)
from schemas.events import Event, TenderCancelled, TenderRequirementsAmended

# Enough for every supplier with a real grievance; a bound on what one tender must carry.
MAX_COMPLAINTS_PER_TENDER = 200


def complaints_id(ocid: str) -> str:
    return f"{ocid}:complaints"


class ConditionsComplaintStatus(StrEnum):
    OPEN = "open"  # before the review body
    UPHELD = "upheld"
    DISMISSED = "dismissed"


@dataclass(frozen=True)
class ConditionsComplaint:
    complaint_id: str
    supplier_id: str
    status: ConditionsComplaintStatus = ConditionsComplaintStatus.OPEN
    upheld_at_tender_version: int | None = None


@dataclass(frozen=True)
class ConditionsComplaints:
    ocid: str
    complaints: dict[str, ConditionsComplaint] = field(default_factory=dict)
    version: int = 0  # the sequence number of the last event applied


# Rules, named as the sentences they enforce.


def tender_must_exist(tender: Tender | None, ocid: str) -> Tender:
    if tender is None:
        raise NotFound(f"there is no tender {ocid}", code="unknown_tender")
    return tender


def complainant_must_be_a_registered_supplier(actor: Actor) -> None:
    if actor.role is not Role.SUPPLIER:
        msg = (
            f"only a registered supplier may complain about a tender's conditions; {actor.id} "
            f"is {actor.role}: register as a supplier first"
        )
        raise NotAllowed(msg, code="not_a_supplier")


def conditions_may_be_challenged_only_before_the_deadline(tender: Tender, now: datetime) -> None:
    """The deadline is an instant in the buyer's terms: a complaint at 23:59:59 before a
    midnight deadline is in time; one at midnight is not."""
    if tender.status is TenderStatus.CANCELLED:
        msg = f"tender {tender.ocid} was cancelled: there are no conditions left to challenge"
        raise WrongState(msg, code="tender_cancelled")
    if tender.status is not TenderStatus.ACTIVE or now >= tender.submission_deadline:
        deadline = tender.submission_deadline.isoformat()
        msg = (
            f"the conditions of {tender.ocid} could be challenged until its submission "
            f"deadline, {deadline}; complain about the award instead, during its standstill"
        )
        raise WrongState(msg, code="submission_deadline_passed")


def supplier_must_not_have_a_complaint_open(state: ConditionsComplaints, actor: Actor) -> None:
    for complaint in state.complaints.values():
        if complaint.supplier_id == actor.id and complaint.status is ConditionsComplaintStatus.OPEN:
            msg = (
                f"{actor.id} already has {complaint.complaint_id} open about the conditions "
                f"of {state.ocid}: wait for the review body's decision"
            )
            raise WrongState(msg, code="complaint_pending")
    if len(state.complaints) >= MAX_COMPLAINTS_PER_TENDER:
        msg = f"{state.ocid} has {MAX_COMPLAINTS_PER_TENDER} complaints about its conditions, the most one tender takes"
        raise WrongState(msg, code="too_many_complaints")


def review_officer_of_another_body_must_rule(actor: Actor, buyer_id: str) -> None:
    if actor.role is not Role.REVIEWER:
        msg = f"only a review officer rules on complaints; {actor.id} is {actor.role}"
        raise NotAllowed(msg)
    if actor.agency_id == buyer_id:
        msg = (
            f"{actor.id} works for the buyer, {buyer_id}, and may not rule on complaints against it"
        )
        raise NotAllowed(msg, code="conflict_of_interest")


def complaint_must_be_open(state: ConditionsComplaints, complaint_id: str) -> ConditionsComplaint:
    complaint = state.complaints.get(complaint_id)
    if complaint is None:
        msg = f"{state.ocid} has no complaint {complaint_id} about its conditions"
        raise NotFound(msg, code="unknown_complaint")
    if complaint.status is not ConditionsComplaintStatus.OPEN:
        msg = f"{complaint_id} is {complaint.status}: there is nothing left to rule on"
        raise WrongState(msg, code="complaint_closed")
    return complaint


def tender_must_not_close_before_its_remedy(
    state: ConditionsComplaints | None, tender_history: Sequence[Event]
) -> None:
    """An upheld complaint about the conditions holds the tender open past its deadline
    (no bid is taken meanwhile) until the buyer amends it significantly or cancels it."""
    awaited = awaiting_remedy(state, tender_history)
    if awaited:
        msg = (
            f"the review body upheld {', '.join(awaited)} about the conditions of "
            f"{state.ocid if state else ''}: the tender cannot close into an opening until "
            "the buyer amends its requirements significantly (the deadline is then extended) "
            "or cancels it"
        )
        raise WrongState(msg, code="remedy_pending")


def bids_must_not_be_opened_before_the_remedy(
    state: ConditionsComplaints | None, tender_history: Sequence[Event]
) -> None:
    """A complaint pending at the deadline lets the tender close; upheld after it, the bids
    were made under unlawful conditions, and the tender can no longer be amended: they stay
    sealed until the buyer cancels it."""
    awaited = awaiting_remedy(state, tender_history)
    if awaited:
        msg = (
            f"the review body upheld {', '.join(awaited)} about the conditions of "
            f"{state.ocid if state else ''}: its bids cannot be opened; the buyer must cancel "
            "the tender and may tender again on lawful conditions"
        )
        raise WrongState(msg, code="remedy_pending")


# Remedies


def remedy(
    complaint: ConditionsComplaint, tender_history: Sequence[Event]
) -> ConditionsRemedy | None:
    """What became of an upheld complaint; None for one not upheld. The tender's events
    are numbered from 1, as its versions are."""
    if complaint.upheld_at_tender_version is None:
        return None
    if any(isinstance(event, TenderCancelled) for event in tender_history):
        return ConditionsRemedy.CANCELLED
    since = tender_history[complaint.upheld_at_tender_version :]
    if any(isinstance(event, TenderRequirementsAmended) for event in since):
        return ConditionsRemedy.AMENDED
    return ConditionsRemedy.AWAITED


def awaiting_remedy(
    state: ConditionsComplaints | None, tender_history: Sequence[Event]
) -> list[str]:
    if state is None:
        return []
    return [
        c.complaint_id
        for c in state.complaints.values()
        if remedy(c, tender_history) is ConditionsRemedy.AWAITED
    ]


# Decisions


def decide(
    state: ConditionsComplaints | None,
    command: AnyConditionsComplaintCommand,
    actor: Actor,
    now: datetime,
    tender: Tender | None,
) -> list[Event]:
    published = tender_must_exist(tender, command.ocid)
    state = state or ConditionsComplaints(command.ocid)
    if isinstance(command, FileConditionsComplaint):
        complainant_must_be_a_registered_supplier(actor)
        conditions_may_be_challenged_only_before_the_deadline(published, now)
        supplier_must_not_have_a_complaint_open(state, actor)
        number = len(state.complaints) + 1
        return [
            ConditionsComplaintFiled(
                complaint_id=f"conditions-complaint-{number}",
                supplier_id=actor.id,
                grounds=command.grounds,
            )
        ]
    complaint = complaint_must_be_open(state, command.complaint_id)
    review_officer_of_another_body_must_rule(actor, published.buyer_id)
    if published.status is TenderStatus.CANCELLED:
        msg = f"tender {published.ocid} was cancelled: {complaint.complaint_id} is moot"
        raise WrongState(msg, code="tender_cancelled")
    assert actor.agency_id is not None, "a review officer belongs to a body"
    ruling = {
        "complaint_id": complaint.complaint_id,
        "reason": command.reason,
        "reviewer_id": actor.id,
        "review_body_id": actor.agency_id,
    }
    if isinstance(command, UpholdConditionsComplaint):
        return [ConditionsComplaintUpheld(**ruling, tender_version=published.version)]
    return [ConditionsComplaintDismissed(**ruling)]


# Evolution


def evolve(state: ConditionsComplaints | None, event: Event, ocid: str) -> ConditionsComplaints:
    state = state or ConditionsComplaints(ocid)
    complaints = dict(state.complaints)
    if isinstance(event, ConditionsComplaintFiled):
        complaints[event.complaint_id] = ConditionsComplaint(event.complaint_id, event.supplier_id)
    elif isinstance(event, ConditionsComplaintUpheld):
        complaints[event.complaint_id] = replace(
            complaints[event.complaint_id],
            status=ConditionsComplaintStatus.UPHELD,
            upheld_at_tender_version=event.tender_version,
        )
    elif isinstance(event, ConditionsComplaintDismissed):
        complaints[event.complaint_id] = replace(
            complaints[event.complaint_id], status=ConditionsComplaintStatus.DISMISSED
        )
    else:
        raise ValueError(f"{type(event).__name__} is not about a tender's conditions")
    return replace(state, complaints=complaints, version=state.version + 1)


def replay(ocid: str, events: Iterable[Event]) -> ConditionsComplaints | None:
    state: ConditionsComplaints | None = None
    for event in events:
        state = evolve(state, event, ocid)
    return state


# Notices


def notices(
    event: Event, state: ConditionsComplaints | None, buyer_id: str
) -> list[tuple[str, str]]:
    """What each party is told, as (party id, message), given the complaints before the
    event: the buyer of a complaint and of the decision, the complainant of the decision."""
    if isinstance(event, ConditionsComplaintFiled):
        return [
            (
                buyer_id,
                f"{event.supplier_id} asked the review body to review the conditions of "
                f"{state.ocid if state else 'your tender'} ({event.complaint_id}): "
                f"{event.grounds} The submission deadline stands unless you change it.",
            )
        ]
    if not isinstance(event, ConditionsComplaintUpheld | ConditionsComplaintDismissed):
        return []
    complaint = state.complaints.get(event.complaint_id) if state else None
    if state is None or complaint is None:
        return []
    if isinstance(event, ConditionsComplaintUpheld):
        to_buyer = (
            f"The review body {event.review_body_id} upheld {event.complaint_id} about the "
            f"conditions of {state.ocid}: {event.reason} Amend the requirements significantly "
            "(the submission deadline is then extended) or cancel the tender: until then it "
            "does not close and its bids cannot be opened."
        )
        to_complainant = (
            f"The review body {event.review_body_id} upheld your complaint {event.complaint_id} "
            f"about the conditions of {state.ocid}: {event.reason} The buyer must amend them "
            "or cancel the tender."
        )
    else:
        to_buyer = (
            f"The review body {event.review_body_id} dismissed {event.complaint_id} about the "
            f"conditions of {state.ocid}: {event.reason}"
        )
        to_complainant = (
            f"The review body {event.review_body_id} dismissed your complaint "
            f"{event.complaint_id} about the conditions of {state.ocid}: {event.reason}"
        )
    return [(buyer_id, to_buyer), (complaint.supplier_id, to_complainant)]
