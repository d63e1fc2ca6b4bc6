"""A tender's life, as pure functions: ``decide`` turns a command into events, ``evolve``
applies an event to the state. Time, ids and rules come in as arguments."""

from collections.abc import Collection
from dataclasses import dataclass, replace
from datetime import datetime
from enum import StrEnum

from procurement.enquiry_period import enquiry_period_must_end_in_time
from procurement.errors import NotAllowed, Rejected, WrongState
from procurement.procedures import procedure_must_run_as_a_tender
from procurement.rules import ProcedureRules, describe
from procurement.standstill import standstill_must_last_the_legal_minimum
from schemas.commands import Actor, AmendTender, CancelTender, CloseTender, PublishTender, Role
from schemas.events import (
    Event,
    TenderCancelled,
    TenderClosed,
    TenderDeadlineExtended,
    TenderDetailsAmended,
    TenderPublished,
    TenderRequirementsAmended,
)
from schemas.values import AwardCriteria, ProcedureType, Requirements


class TenderStatus(StrEnum):
    ACTIVE = "active"  # open for bids
    CLOSED = "closed"  # the deadline passed; bids are sealed until opening
    CANCELLED = "cancelled"
    UNSUCCESSFUL = "unsuccessful"  # closed with no bid to evaluate


# The lifecycle as data: (status before, event type) -> status after. Anything else is illegal.
LIFECYCLE: dict[tuple[TenderStatus | None, str], TenderStatus] = {
    (None, "TenderPublished"): TenderStatus.ACTIVE,
    (TenderStatus.ACTIVE, "TenderDetailsAmended"): TenderStatus.ACTIVE,
    (TenderStatus.ACTIVE, "TenderRequirementsAmended"): TenderStatus.ACTIVE,
    (TenderStatus.ACTIVE, "TenderDeadlineExtended"): TenderStatus.ACTIVE,
    # Documents, questions and answers (procurement.enquiries), while bids are taken.
    (TenderStatus.ACTIVE, "TenderDocumentPublished"): TenderStatus.ACTIVE,
    (TenderStatus.ACTIVE, "EnquiryAsked"): TenderStatus.ACTIVE,
    (TenderStatus.ACTIVE, "EnquiryAnswered"): TenderStatus.ACTIVE,
    (TenderStatus.ACTIVE, "TenderClosed"): TenderStatus.CLOSED,
    (TenderStatus.ACTIVE, "TenderCancelled"): TenderStatus.CANCELLED,
    (TenderStatus.CLOSED, "TenderCancelled"): TenderStatus.CANCELLED,
    (TenderStatus.CLOSED, "TenderUnsuccessful"): TenderStatus.UNSUCCESSFUL,
}


@dataclass(frozen=True)
class Tender:
    tender_id: str
    ocid: str
    buyer_id: str
    title: str
    description: str
    procedure_type: ProcedureType
    requirements: Requirements
    submission_deadline: datetime
    status: TenderStatus
    version: int  # the sequence number of the last event applied


# Rules, named as the sentences they enforce.


def officer_must_act_for_the_buyer(actor: Actor, buyer_id: str) -> None:
    if actor.role is not Role.OFFICER or actor.agency_id != buyer_id:
        msg = f"only a procurement officer of {buyer_id} may do this; {actor.id} is {actor.role}"
        raise NotAllowed(msg)


def deadline_must_leave_the_minimum_period(
    deadline: datetime, now: datetime, rules: ProcedureRules
) -> None:
    if deadline <= now:
        msg = f"submission deadline {deadline.isoformat()} is in the past (now {now.isoformat()})"
        raise Rejected(msg, code="deadline_in_past")
    earliest = now + rules.minimum_tender_period
    if deadline < earliest:
        msg = (
            f"submission deadline {deadline.isoformat()} leaves less than the minimum tender "
            f"period of {describe(rules.minimum_tender_period)}; the earliest allowed is {earliest.isoformat()}"
        )
        raise Rejected(msg, code="tender_period_too_short")


def rated_award_must_publish_its_criteria(requirements: Requirements) -> None:
    if (
        requirements.award_criteria is AwardCriteria.RATED_CRITERIA
        and not requirements.quality_criteria
    ):
        msg = "a ratedCriteria award must publish its quality criteria and their weights"
        raise Rejected(msg, code="criteria_missing")


def tender_must_accept_changes(tender: Tender, now: datetime, *, remedy_due: bool = False) -> None:
    """After its deadline a tender is amended only to remedy conditions the review body
    found unlawful (``procurement.conditions_complaints``): it is held open until then."""
    if tender.status is not TenderStatus.ACTIVE:
        msg = f"tender {tender.ocid} is {tender.status}; it can no longer be amended"
        raise WrongState(msg)
    if now >= tender.submission_deadline and not remedy_due:
        deadline = tender.submission_deadline.isoformat()
        msg = f"tender {tender.ocid} passed its submission deadline at {deadline}; it can no longer be amended"
        raise WrongState(msg, code="deadline_passed")


# Decisions


def publish(
    command: PublishTender,
    actor: Actor,
    now: datetime,
    rules: ProcedureRules,
    *,
    tender_id: str,
    ocid: str,
) -> list[Event]:
    if actor.role is not Role.OFFICER or actor.agency_id is None:
        raise NotAllowed(
            f"only a procurement officer may publish a tender; {actor.id} is {actor.role}"
        )
    procedure_must_run_as_a_tender(command.procedure_type)
    deadline_must_leave_the_minimum_period(command.submission_deadline, now, rules)
    rated_award_must_publish_its_criteria(command.requirements)
    standstill_must_last_the_legal_minimum(command.requirements, rules)
    enquiry_period_end = enquiry_period_must_end_in_time(
        command.submission_deadline, command.enquiry_period_end, now, rules
    )
    return [
        TenderPublished(
            tender_id=tender_id,
            ocid=ocid,
            buyer_id=actor.agency_id,
            title=command.title,
            description=command.description,
            procedure_type=command.procedure_type,
            requirements=command.requirements,
            submission_deadline=command.submission_deadline,
            enquiry_period_end=enquiry_period_end,
        )
    ]


def amend(
    tender: Tender,
    command: AmendTender,
    actor: Actor,
    now: datetime,
    rules: ProcedureRules,
    *,
    remedy_due: bool = False,
) -> list[Event]:
    officer_must_act_for_the_buyer(actor, tender.buyer_id)
    tender_must_accept_changes(tender, now, remedy_due=remedy_due)
    events: list[Event] = []
    title = command.title or tender.title
    description = command.description or tender.description
    if (title, description) != (tender.title, tender.description):
        events.append(
            TenderDetailsAmended(title=title, description=description, reason=command.reason)
        )
    significant = command.requirements not in (None, tender.requirements)
    if command.requirements is not None and significant:
        rated_award_must_publish_its_criteria(command.requirements)
        standstill_must_last_the_legal_minimum(command.requirements, rules)
        events.append(
            TenderRequirementsAmended(requirements=command.requirements, reason=command.reason)
        )
    elif now >= tender.submission_deadline:  # held open only for its remedy
        msg = (
            f"tender {tender.ocid} passed its deadline and is held open only to remedy its "
            "conditions: amend its requirements significantly, or cancel it"
        )
        raise Rejected(msg, code="remedy_must_amend_requirements")
    events += _deadline_after_amendment(tender, command, now, rules, significant=significant)
    if not events:
        raise Rejected(f"the amendment to {tender.ocid} changes nothing", code="no_change")
    return events


def _deadline_after_amendment(
    tender: Tender, command: AmendTender, now: datetime, rules: ProcedureRules, *, significant: bool
) -> list[Event]:
    asked = command.submission_deadline or tender.submission_deadline
    if asked < tender.submission_deadline:
        msg = (
            f"a submission deadline can only be extended: {asked.isoformat()} is before "
            f"the current {tender.submission_deadline.isoformat()}"
        )
        raise Rejected(msg, code="deadline_shortened")
    required = now + rules.minimum_period_after_significant_amendment
    forced = significant and asked < required
    deadline = required if forced else asked
    if deadline == tender.submission_deadline:
        return []
    return [
        TenderDeadlineExtended(
            previous_deadline=tender.submission_deadline,
            submission_deadline=deadline,
            reason=command.reason,
            required_by_rules=forced,
        )
    ]


def cancel(
    tender: Tender, command: CancelTender, actor: Actor, contracted: Collection[str] = ()
) -> list[Event]:
    """Cancel the tender; ``contracted`` are its lots whose contract is concluded, which
    the procedure's cancellation can no longer undo (only the contract's termination)."""
    officer_must_act_for_the_buyer(actor, tender.buyer_id)
    if (tender.status, "TenderCancelled") not in LIFECYCLE:
        msg = f"tender {tender.ocid} is {tender.status}; it cannot be cancelled"
        raise WrongState(msg, code=f"procedure_{tender.status}")
    if contracted:
        msg = (
            f"the contracts of lots {sorted(contracted)} of {tender.ocid} are concluded: the "
            "procedure can no longer be cancelled; terminate a contract instead, and cancel "
            "the lots still open one by one"
        )
        raise WrongState(msg, code="contract_concluded")
    return [TenderCancelled(reason=command.reason)]


def cancel_with_the_procedure(tender: Tender, reason: str) -> list[Event]:
    """The procedure was cancelled in its evaluation: the tender is cancelled with it."""
    if (tender.status, "TenderCancelled") not in LIFECYCLE:
        return []
    return [TenderCancelled(reason=reason)]


def close(tender: Tender, command: CloseTender, actor: Actor, now: datetime) -> list[Event]:
    if actor.role is not Role.SYSTEM:
        raise NotAllowed("tenders close by themselves when their submission deadline passes")
    if tender.status is not TenderStatus.ACTIVE:
        raise WrongState(f"tender {tender.ocid} is {tender.status}; it cannot close")
    if now < tender.submission_deadline:
        deadline = tender.submission_deadline.isoformat()
        raise WrongState(f"tender {tender.ocid} is open until {deadline}", code="deadline_ahead")
    return [TenderClosed(submission_deadline=tender.submission_deadline)]


# Evolution


def evolve(tender: Tender | None, event: Event) -> Tender:
    """Apply one event; an event that the lifecycle does not allow is a corrupt history."""
    status = tender.status if tender else None
    after = LIFECYCLE.get((status, getattr(event, "type", "")))
    if after is None:
        msg = (
            f"{type(event).__name__} cannot happen to a tender that is {status or 'not published'}"
        )
        raise ValueError(msg)
    if isinstance(event, TenderPublished):
        return Tender(
            tender_id=event.tender_id,
            ocid=event.ocid,
            buyer_id=event.buyer_id,
            title=event.title,
            description=event.description,
            procedure_type=event.procedure_type,
            requirements=event.requirements,
            submission_deadline=event.submission_deadline,
            status=after,
            version=1,
        )
    assert tender is not None
    tender = replace(tender, status=after, version=tender.version + 1)
    if isinstance(event, TenderDetailsAmended):
        return replace(tender, title=event.title, description=event.description)
    if isinstance(event, TenderRequirementsAmended):
        return replace(tender, requirements=event.requirements)
    if isinstance(event, TenderDeadlineExtended):
        return replace(tender, submission_deadline=event.submission_deadline)
    return tender


def replay(events: list[Event]) -> Tender | None:
    tender: Tender | None = None
    for event in events:
        tender = evolve(tender, event)
    return tender
