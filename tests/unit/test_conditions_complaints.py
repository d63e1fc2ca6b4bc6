"""Complaints about a tender's conditions before its deadline (Directive 89/665/EEC,
Articles 1(3), 2(1) and 2(3)): who may file one, until when, who rules, and how an upheld
one holds the tender until the buyer amends it significantly or cancels it."""

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from uuid import uuid4

import pytest

from procurement import conditions_complaints as complaints
from procurement import tender
from procurement.errors import NotAllowed, NotFound, Rejected, WrongState
from publication.conditions_complaints import public_conditions_complaints
from schemas.commands import Actor, AmendTender, CancelTender, CloseTender, Role
from schemas.conditions_complaints import (
    AnyConditionsComplaintCommand,
    ConditionsComplaintDismissed,
    ConditionsComplaintFiled,
    ConditionsComplaintUpheld,
    ConditionsRemedy,
    DismissConditionsComplaint,
    FileConditionsComplaint,
    UpholdConditionsComplaint,
)
from schemas.events import Event, envelope
from tests.unit.evaluation_examples import REVIEWER
from tests.unit.examples import (
    DEADLINE,
    NOW,
    OCID,
    OFFICER,
    RULES,
    SYSTEM,
    publish_command,
    requirements,
)

SUPPLIER = Actor(id="supplier-RO-1", role=Role.SUPPLIER)
OTHER_SUPPLIER = Actor(id="supplier-RO-2", role=Role.SUPPLIER)
BUYERS_REVIEWER = Actor(id="reviewer-own", role=Role.REVIEWER, agency_id=OFFICER.agency_id)
AFTER_DEADLINE = DEADLINE + timedelta(hours=1)


@dataclass
class World:
    """One published tender and its complaints, as their event histories."""

    tender_events: list[Event] = field(default_factory=list)
    complaint_events: list[Event] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.tender_events += tender.publish(
            publish_command(), OFFICER, NOW, RULES, tender_id="t-1", ocid=OCID
        )

    @property
    def state(self) -> complaints.ConditionsComplaints | None:
        return complaints.replay(OCID, self.complaint_events)

    def do(
        self, command: AnyConditionsComplaintCommand, actor: Actor, now: datetime = NOW
    ) -> list[Event]:
        published = tender.replay(self.tender_events)
        events = complaints.decide(self.state, command, actor, now, published)
        self.complaint_events += events
        return events

    def to_tender(self, events: list[Event]) -> None:
        self.tender_events += events

    @property
    def tender(self) -> tender.Tender:
        published = tender.replay(self.tender_events)
        assert published is not None
        return published

    def close(self, now: datetime = AFTER_DEADLINE) -> list[Event]:
        complaints.tender_must_not_close_before_its_remedy(self.state, self.tender_events)
        return tender.close(self.tender, CloseTender(ocid=OCID), SYSTEM, now)


def file(world: World, who: Actor = SUPPLIER, now: datetime = NOW) -> list[Event]:
    grounds = "The grammage names one brand's paper."
    return world.do(FileConditionsComplaint(ocid=OCID, grounds=grounds), who, now)


def uphold(world: World, complaint_id: str = "conditions-complaint-1") -> list[Event]:
    command = UpholdConditionsComplaint(ocid=OCID, complaint_id=complaint_id, reason="Unlawful.")
    return world.do(command, REVIEWER)


def amended_significantly(world: World, now: datetime) -> list[Event]:
    command = AmendTender(
        ocid=OCID, reason="Any equivalent paper", requirements=requirements("900.00")
    )
    return tender.amend(
        world.tender,
        command,
        OFFICER,
        now,
        RULES,
        remedy_due=bool(complaints.awaiting_remedy(world.state, world.tender_events)),
    )


def test_any_registered_supplier_may_complain_before_the_deadline() -> None:
    """A supplier that never bid is a possible tenderer: its complaint is recorded."""
    world = World()
    [filed] = file(world)
    assert isinstance(filed, ConditionsComplaintFiled)
    assert (filed.complaint_id, filed.supplier_id) == ("conditions-complaint-1", SUPPLIER.id)


@pytest.mark.parametrize("actor", [OFFICER, REVIEWER, SYSTEM])
def test_only_a_supplier_may_complain_about_the_conditions(actor: Actor) -> None:
    """The buyer, the review body and the platform are no economic operators."""
    with pytest.raises(NotAllowed) as refused:
        file(World(), actor)
    assert refused.value.code == "not_a_supplier"


def test_a_complaint_one_second_before_the_deadline_is_in_time_and_at_it_is_not() -> None:
    """The deadline is an instant in the buyer's terms: 23:59:59 before midnight is in time."""
    world = World()
    file(world, now=DEADLINE - timedelta(seconds=1))
    with pytest.raises(WrongState) as late:
        file(world, OTHER_SUPPLIER, now=DEADLINE)
    assert late.value.code == "submission_deadline_passed"


def test_one_open_complaint_per_supplier_per_tender() -> None:
    """A supplier cannot flood the review body: one complaint at a time, another after it
    is decided; other suppliers complain independently."""
    world = World()
    file(world)
    with pytest.raises(WrongState) as flood:
        file(world)
    assert flood.value.code == "complaint_pending"
    file(world, OTHER_SUPPLIER)
    world.do(
        DismissConditionsComplaint(ocid=OCID, complaint_id="conditions-complaint-1", reason="No."),
        REVIEWER,
    )
    [again] = file(world)
    assert isinstance(again, ConditionsComplaintFiled)
    assert again.complaint_id == "conditions-complaint-3"


def test_a_tender_takes_a_bounded_number_of_complaints() -> None:
    """Past the bound, more complaints are refused, whoever files them."""
    world = World()
    for n in range(complaints.MAX_COMPLAINTS_PER_TENDER):
        file(world, Actor(id=f"supplier-{n}", role=Role.SUPPLIER))
    with pytest.raises(WrongState) as refused:
        file(world)
    assert refused.value.code == "too_many_complaints"


def test_no_complaint_about_a_cancelled_or_unknown_tender() -> None:
    """A cancelled tender has no conditions left to challenge; an unknown one is 404."""
    world = World()
    world.to_tender(
        tender.cancel(world.tender, CancelTender(ocid=OCID, reason="No budget"), OFFICER)
    )
    with pytest.raises(WrongState) as cancelled:
        file(world)
    assert cancelled.value.code == "tender_cancelled"
    with pytest.raises(NotFound):
        complaints.decide(
            None, FileConditionsComplaint(ocid=OCID, grounds="x"), SUPPLIER, NOW, None
        )


def test_a_review_officer_of_another_body_rules_never_the_buyers_own() -> None:
    """Directive 89/665/EEC, Article 2(9): the review body is independent of the buyer."""
    world = World()
    file(world)
    command = UpholdConditionsComplaint(
        ocid=OCID, complaint_id="conditions-complaint-1", reason="x"
    )
    for actor in (OFFICER, SUPPLIER):
        with pytest.raises(NotAllowed):
            world.do(command, actor)
    with pytest.raises(NotAllowed) as own:
        world.do(command, BUYERS_REVIEWER)
    assert own.value.code == "conflict_of_interest"
    [upheld] = uphold(world)
    assert isinstance(upheld, ConditionsComplaintUpheld)
    assert (upheld.review_body_id, upheld.tender_version) == (REVIEWER.agency_id, 1)
    with pytest.raises(WrongState) as twice:
        uphold(world)
    assert twice.value.code == "complaint_closed"
    with pytest.raises(NotFound):
        uphold(world, "conditions-complaint-9")


def test_a_pending_complaint_does_not_hold_the_deadline() -> None:
    """Article 2(3) suspends only the conclusion of the contract: a complaint not yet
    decided leaves the tender to close at its deadline."""
    world = World()
    file(world)
    [closed] = world.close()
    assert closed.type == "TenderClosed"


def test_a_dismissed_complaint_holds_nothing() -> None:
    """Dismissed, the complaint leaves the tender to close at its deadline."""
    world = World()
    file(world)
    [dismissed] = world.do(
        DismissConditionsComplaint(ocid=OCID, complaint_id="conditions-complaint-1", reason="No."),
        REVIEWER,
    )
    assert isinstance(dismissed, ConditionsComplaintDismissed)
    assert world.close()


def test_an_upheld_complaint_holds_the_tender_until_a_significant_amendment() -> None:
    """Past its deadline the tender does not close while the remedy is awaited; the buyer
    may then amend it only significantly, which extends the deadline; it closes after."""
    world = World()
    file(world)
    uphold(world)
    with pytest.raises(WrongState) as held:
        world.close()
    assert held.value.code == "remedy_pending"
    cosmetic = AmendTender(ocid=OCID, reason="Typo", title="Office paper for the year 2030")
    with pytest.raises(Rejected) as refused:
        tender.amend(world.tender, cosmetic, OFFICER, AFTER_DEADLINE, RULES, remedy_due=True)
    assert refused.value.code == "remedy_must_amend_requirements"
    amendment = amended_significantly(world, AFTER_DEADLINE)
    world.to_tender(amendment)
    assert (
        world.tender.submission_deadline
        >= AFTER_DEADLINE + RULES.minimum_period_after_significant_amendment
    )
    [complaint] = world.state.complaints.values() if world.state else []
    assert complaints.remedy(complaint, world.tender_events) is ConditionsRemedy.AMENDED
    with pytest.raises(WrongState):
        world.close()  # not yet: the extended deadline is ahead
    assert world.close(world.tender.submission_deadline)


def test_without_a_remedy_due_a_tender_past_its_deadline_cannot_be_amended() -> None:
    """The hold is for the remedy only: an ordinary tender past its deadline is closed to
    amendments, as before."""
    world = World()
    command = AmendTender(ocid=OCID, reason="More", requirements=requirements("900.00"))
    with pytest.raises(WrongState) as refused:
        tender.amend(world.tender, command, OFFICER, AFTER_DEADLINE, RULES)
    assert refused.value.code == "deadline_passed"


def test_an_amendment_before_the_decision_is_no_remedy() -> None:
    """Only what the buyer does after the review body's decision remedies it."""
    world = World()
    file(world)
    world.to_tender(amended_significantly(world, NOW))
    uphold(world)
    assert complaints.awaiting_remedy(world.state, world.tender_events) == [
        "conditions-complaint-1"
    ]


def test_cancelling_the_tender_remedies_an_upheld_complaint_and_moots_open_ones() -> None:
    """The buyer's other legal move: cancel; nothing is left to rule on after it."""
    world = World()
    file(world)
    file(world, OTHER_SUPPLIER)
    uphold(world)
    world.to_tender(tender.cancel(world.tender, CancelTender(ocid=OCID, reason="Redo"), OFFICER))
    assert complaints.awaiting_remedy(world.state, world.tender_events) == []
    with pytest.raises(WrongState) as moot:
        uphold(world, "conditions-complaint-2")
    assert moot.value.code == "tender_cancelled"


def test_the_buyer_hears_of_the_complaint_and_both_parties_of_the_decision() -> None:
    """Filed: the buyer is told; decided: the buyer is told what it must do, and the
    complainant the outcome."""
    world = World()
    [filed] = file(world)
    [(told, message)] = complaints.notices(filed, world.state, OFFICER.agency_id or "")
    assert told == OFFICER.agency_id
    assert "conditions-complaint-1" in message
    before = world.state
    [upheld] = uphold(world)
    told_whom = dict(complaints.notices(upheld, before, OFFICER.agency_id or ""))
    assert set(told_whom) == {OFFICER.agency_id, SUPPLIER.id}
    assert "cancel the tender" in told_whom[OFFICER.agency_id or ""]


def test_the_public_record_shows_the_complaint_its_decision_and_its_remedy() -> None:
    """The public reads each complaint about the conditions with the tender as its subject,
    the review body's decision, and whether the remedy is awaited or done."""
    world = World()
    file(world)
    uphold(world)
    history = [
        envelope(
            event,
            event_id=uuid4(),
            aggregate_id=complaints.complaints_id(OCID),
            sequence=n,
            actor="x",
            occurred_at=NOW,
        )
        for n, event in enumerate(world.complaint_events, start=1)
    ]
    [awaited] = public_conditions_complaints(OCID, history, world.tender_events)
    assert (awaited.subject, awaited.lot_id, awaited.status) == ("conditions", None, "upheld")
    assert awaited.conditions_remedy is ConditionsRemedy.AWAITED
    assert awaited.decision is not None
    assert awaited.decision.review_body_id == REVIEWER.agency_id
    world.to_tender(tender.cancel(world.tender, CancelTender(ocid=OCID, reason="Redo"), OFFICER))
    [done] = public_conditions_complaints(OCID, history, world.tender_events)
    assert done.conditions_remedy is ConditionsRemedy.CANCELLED


def test_upheld_after_the_close_the_bids_stay_sealed_until_the_tender_is_cancelled() -> None:
    """A complaint pending at the deadline lets the tender close; upheld after it, the
    closed tender cannot be amended, so the bids are not opened until the buyer cancels."""
    world = World()
    file(world)
    world.to_tender(world.close())
    uphold(world)
    with pytest.raises(WrongState) as sealed:
        complaints.bids_must_not_be_opened_before_the_remedy(world.state, world.tender_events)
    assert sealed.value.code == "remedy_pending"
    command = AmendTender(ocid=OCID, reason="Fix", requirements=requirements("900.00"))
    with pytest.raises(WrongState):
        tender.amend(world.tender, command, OFFICER, AFTER_DEADLINE, RULES, remedy_due=True)
    world.to_tender(tender.cancel(world.tender, CancelTender(ocid=OCID, reason="Redo"), OFFICER))
    complaints.bids_must_not_be_opened_before_the_remedy(world.state, world.tender_events)
