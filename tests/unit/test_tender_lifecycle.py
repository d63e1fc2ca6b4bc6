"""A tender's life: who may publish, amend, cancel and close it, when, and what is recorded."""

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Literal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from procurement.errors import NotAllowed, Rejected, WrongState
from procurement.tender import (
    LIFECYCLE,
    Tender,
    TenderStatus,
    amend,
    cancel,
    close,
    evolve,
    publish,
    replay,
)
from schemas.commands import (
    Actor,
    AmendTender,
    CancelTender,
    CloseTender,
    PublishTender,
)
from schemas.events import (
    EVENT_TYPES,
    Event,
    TenderCancelled,
    TenderClosed,
    TenderDeadlineExtended,
    TenderDetailsAmended,
    TenderPublished,
    TenderRequirementsAmended,
    TenderUnsuccessful,
)
from schemas.values import Requirements
from tests.strategies import officers, publish_commands
from tests.unit.examples import (
    BUYER,
    DEADLINE,
    EXAMPLE_EVENTS,
    NOW,
    OCID,
    OFFICER,
    OFFICER_WITHOUT_AGENCY,
    OPERATOR,
    OTHER_OFFICER,
    RULES,
    SYSTEM,
    publish_command,
    published,
    requirements,
)

MINUTE = timedelta(minutes=1)


def amendment(**changes: object) -> AmendTender:
    return AmendTender(ocid=OCID, reason="Clarification", **changes)


def closed() -> Tender:
    return evolve(published(), TenderClosed(submission_deadline=DEADLINE))


def cancelled() -> Tender:
    return evolve(published(), TenderCancelled(reason="Budget withdrawn"))


def unsuccessful() -> Tender:
    return evolve(closed(), TenderUnsuccessful(reason="No bid"))


def tender_in(status: TenderStatus | None) -> Tender | None:
    return {
        None: None,
        TenderStatus.ACTIVE: published(),
        TenderStatus.CLOSED: closed(),
        TenderStatus.CANCELLED: cancelled(),
        TenderStatus.UNSUCCESSFUL: unsuccessful(),
    }[status]


# Publish


@settings(max_examples=50, deadline=None)
@given(
    command=publish_commands(st.just(DEADLINE)),
    officer=officers(BUYER),
)
def test_publish_by_an_officer_makes_their_agency_the_buyer(
    command: PublishTender, officer: Actor
) -> None:
    """Any officer publishing a valid tender records TenderPublished with their agency as buyer."""
    events = publish(command, officer, NOW, RULES, tender_id="t-9", ocid="ocds-9")
    assert events == [
        TenderPublished(
            tender_id="t-9",
            ocid="ocds-9",
            buyer_id=BUYER,
            title=command.title,
            description=command.description,
            procedure_type=command.procedure_type,
            requirements=command.requirements,
            submission_deadline=command.submission_deadline,
            enquiry_period_end=command.submission_deadline - RULES.enquiry_period_before_deadline,
        )
    ]


@pytest.mark.parametrize("actor", [OPERATOR, SYSTEM, OFFICER_WITHOUT_AGENCY], ids=str)
def test_only_an_officer_of_an_agency_may_publish(actor: Actor) -> None:
    """The operator, the system and an officer with no agency cannot publish a tender."""
    with pytest.raises(NotAllowed, match=actor.id):
        publish(publish_command(), actor, NOW, RULES, tender_id="t-1", ocid=OCID)


@pytest.mark.parametrize("deadline", [NOW - timedelta(days=1), NOW], ids=["before", "now"])
def test_publish_with_a_deadline_in_the_past_is_rejected(deadline: datetime) -> None:
    """A submission deadline at or before now is refused as being in the past."""
    with pytest.raises(Rejected) as refused:
        publish(publish_command(deadline), OFFICER, NOW, RULES, tender_id="t-1", ocid=OCID)
    assert refused.value.code == "deadline_in_past"


def test_publish_inside_the_minimum_tender_period_is_rejected() -> None:
    """A deadline sooner than the minimum tender period is refused, naming the period."""
    deadline = NOW + RULES.minimum_tender_period - MINUTE
    with pytest.raises(Rejected, match="30 days") as refused:
        publish(publish_command(deadline), OFFICER, NOW, RULES, tender_id="t-1", ocid=OCID)
    assert refused.value.code == "tender_period_too_short"


def test_publish_exactly_at_the_minimum_tender_period_is_accepted() -> None:
    """A deadline exactly the minimum tender period away is allowed."""
    deadline = NOW + RULES.minimum_tender_period
    [event] = publish(publish_command(deadline), OFFICER, NOW, RULES, tender_id="t", ocid=OCID)
    assert isinstance(event, TenderPublished)
    assert event.submission_deadline == deadline


def test_published_tender_is_active_at_version_one() -> None:
    """Applying TenderPublished gives an active tender with the published content."""
    tender = published()
    assert tender.status is TenderStatus.ACTIVE
    assert tender.version == 1
    assert (tender.ocid, tender.buyer_id, tender.submission_deadline) == (OCID, BUYER, DEADLINE)


# Amend


@pytest.mark.parametrize("actor", [OTHER_OFFICER, OPERATOR, SYSTEM], ids=str)
def test_only_an_officer_of_the_buyer_may_amend(actor: Actor) -> None:
    """An officer of another agency, the operator and the system cannot amend a tender."""
    with pytest.raises(NotAllowed):
        amend(published(), amendment(title="Paper and toner"), actor, NOW, RULES)


@pytest.mark.parametrize("after", [timedelta(0), MINUTE], ids=["at", "after"])
def test_amend_after_the_deadline_is_wrong_state(after: timedelta) -> None:
    """Once the submission deadline is reached, the tender can no longer be amended."""
    with pytest.raises(WrongState) as refused:
        amend(published(), amendment(title="Too late"), OFFICER, DEADLINE + after, RULES)
    assert refused.value.code == "deadline_passed"


@pytest.mark.parametrize("tender", [closed(), cancelled()], ids=["closed", "cancelled"])
def test_amend_of_an_inactive_tender_is_wrong_state(tender: Tender) -> None:
    """A closed or cancelled tender cannot be amended."""
    with pytest.raises(WrongState) as refused:
        amend(tender, amendment(title="Too late"), OFFICER, NOW, RULES)
    assert refused.value.code == "wrong_state"


def test_amending_only_the_title_changes_only_the_details() -> None:
    """A new title alone records TenderDetailsAmended, keeping the description."""
    tender = published()
    events = amend(tender, amendment(title="Paper and toner"), OFFICER, NOW, RULES)
    assert events == [
        TenderDetailsAmended(
            title="Paper and toner", description=tender.description, reason="Clarification"
        )
    ]


def test_amending_requirements_early_does_not_move_the_deadline() -> None:
    """With more than the post-amendment period left, new requirements leave the deadline."""
    new = requirements("1500.00")
    events = amend(published(), amendment(requirements=new), OFFICER, NOW, RULES)
    assert events == [TenderRequirementsAmended(requirements=new, reason="Clarification")]


def test_amending_requirements_near_the_deadline_extends_it_by_rule() -> None:
    """New requirements close to the deadline push it to now plus the post-amendment period."""
    now = DEADLINE - timedelta(days=2)
    new = requirements("1500.00")
    events = amend(published(), amendment(requirements=new), OFFICER, now, RULES)
    assert events == [
        TenderRequirementsAmended(requirements=new, reason="Clarification"),
        TenderDeadlineExtended(
            previous_deadline=DEADLINE,
            submission_deadline=now + RULES.minimum_period_after_significant_amendment,
            reason="Clarification",
            required_by_rules=True,
        ),
    ]


def test_a_requested_deadline_too_close_after_significant_change_is_overridden() -> None:
    """An officer's later deadline that still falls inside the post-amendment period is
    replaced by the earliest one the rules allow."""
    now = DEADLINE - timedelta(days=2)
    asked = DEADLINE + timedelta(days=1)
    change = amendment(requirements=requirements("1500.00"), submission_deadline=asked)
    *_, extension = amend(published(), change, OFFICER, now, RULES)
    assert extension == TenderDeadlineExtended(
        previous_deadline=DEADLINE,
        submission_deadline=now + RULES.minimum_period_after_significant_amendment,
        reason="Clarification",
        required_by_rules=True,
    )


def test_extending_the_deadline_is_recorded_as_voluntary() -> None:
    """An officer may extend the deadline; the extension is not required by the rules."""
    later = DEADLINE + timedelta(days=5)
    events = amend(published(), amendment(submission_deadline=later), OFFICER, NOW, RULES)
    assert events == [
        TenderDeadlineExtended(
            previous_deadline=DEADLINE,
            submission_deadline=later,
            reason="Clarification",
            required_by_rules=False,
        )
    ]


def test_shortening_the_deadline_is_rejected() -> None:
    """A submission deadline can only move later."""
    earlier = DEADLINE - timedelta(days=1)
    with pytest.raises(Rejected) as refused:
        amend(published(), amendment(submission_deadline=earlier), OFFICER, NOW, RULES)
    assert refused.value.code == "deadline_shortened"


@pytest.mark.parametrize(
    "change",
    [
        {"title": "Office paper for 2030"},
        {"description": "A4 paper delivered monthly to the town hall."},
        {"requirements": requirements()},
        {"submission_deadline": DEADLINE},
        {"title": "Office paper for 2030", "requirements": requirements()},
    ],
    ids=["title", "description", "requirements", "deadline", "title and requirements"],
)
def test_an_amendment_that_changes_nothing_is_rejected(change: dict[str, object]) -> None:
    """Restating what the tender already says records nothing and is refused."""
    with pytest.raises(Rejected) as refused:
        amend(published(), amendment(**change), OFFICER, NOW, RULES)
    assert refused.value.code == "no_change"


# Cancel


@pytest.mark.parametrize("tender", [published(), closed()], ids=["active", "closed"])
def test_an_active_or_closed_tender_can_be_cancelled(tender: Tender) -> None:
    """The buyer's officer can cancel a tender that is active or closed."""
    events = cancel(tender, CancelTender(ocid=OCID, reason="Budget withdrawn"), OFFICER)
    assert events == [TenderCancelled(reason="Budget withdrawn")]
    assert evolve(tender, events[0]).status is TenderStatus.CANCELLED


def test_a_tender_cannot_be_cancelled_twice() -> None:
    """Cancelling a cancelled tender is the wrong state."""
    with pytest.raises(WrongState):
        cancel(cancelled(), CancelTender(ocid=OCID, reason="Again"), OFFICER)


@pytest.mark.parametrize("actor", [OTHER_OFFICER, OPERATOR, SYSTEM], ids=str)
def test_only_an_officer_of_the_buyer_may_cancel(actor: Actor) -> None:
    """Nobody but the buyer's officers can cancel its tender."""
    with pytest.raises(NotAllowed):
        cancel(published(), CancelTender(ocid=OCID, reason="Not mine"), actor)


# Close


@pytest.mark.parametrize("actor", [OFFICER, OTHER_OFFICER, OPERATOR], ids=str)
def test_only_the_system_closes_a_tender(actor: Actor) -> None:
    """People cannot close a tender; it closes when its deadline passes."""
    with pytest.raises(NotAllowed):
        close(published(), CloseTender(ocid=OCID), actor, DEADLINE)


def test_a_tender_does_not_close_before_its_deadline() -> None:
    """Closing before the submission deadline is the wrong state: the deadline is ahead."""
    with pytest.raises(WrongState) as refused:
        close(published(), CloseTender(ocid=OCID), SYSTEM, DEADLINE - MINUTE)
    assert refused.value.code == "deadline_ahead"


@pytest.mark.parametrize("after", [timedelta(0), timedelta(days=3)], ids=["at", "after"])
def test_a_tender_closes_at_or_after_its_deadline(after: timedelta) -> None:
    """At or after the deadline the system closes the tender, recording the deadline."""
    events = close(published(), CloseTender(ocid=OCID), SYSTEM, DEADLINE + after)
    assert events == [TenderClosed(submission_deadline=DEADLINE)]
    assert evolve(published(), events[0]).status is TenderStatus.CLOSED


@pytest.mark.parametrize("tender", [closed(), cancelled()], ids=["closed", "cancelled"])
def test_an_inactive_tender_cannot_close(tender: Tender) -> None:
    """A tender that is already closed, or cancelled, does not close again."""
    with pytest.raises(WrongState):
        close(tender, CloseTender(ocid=OCID), SYSTEM, DEADLINE)


# Evolve


ILLEGAL = [
    (status, event_type)
    for status in (None, *TenderStatus)
    for event_type in sorted(EVENT_TYPES)
    if (status, event_type) not in LIFECYCLE
]


@pytest.mark.parametrize(("status", "event_type"), ILLEGAL, ids=str)
def test_evolve_refuses_every_transition_outside_the_lifecycle(
    status: TenderStatus | None, event_type: str
) -> None:
    """Any event the lifecycle table does not allow from a status is a corrupt history."""
    with pytest.raises(ValueError, match="cannot happen to a tender that is"):
        evolve(tender_in(status), EXAMPLE_EVENTS[event_type])


@pytest.mark.parametrize(("transition", "after"), LIFECYCLE.items(), ids=str)
def test_evolve_follows_every_transition_of_the_lifecycle(
    transition: tuple[TenderStatus | None, str], after: TenderStatus
) -> None:
    """Every transition in the table is applied, giving the status the table names."""
    status, event_type = transition
    before = tender_in(status)
    tender = evolve(before, EXAMPLE_EVENTS[event_type])
    assert tender.status is after
    assert tender.version == (before.version + 1 if before else 1)


def test_every_status_is_reachable() -> None:
    """Each status of a tender is the result of some transition in the table."""
    assert set(LIFECYCLE.values()) == set(TenderStatus)


def test_amendment_events_change_what_they_name() -> None:
    """Details, requirements and deadline events each change only their own part."""
    tender = published()
    details = evolve(tender, EXAMPLE_EVENTS["TenderDetailsAmended"])
    assert (details.title, details.description) == ("Paper for 2030", "A4 paper.")
    assert details.requirements == tender.requirements
    amended = evolve(tender, EXAMPLE_EVENTS["TenderRequirementsAmended"])
    assert amended.requirements == requirements("1500.00")
    assert amended.title == tender.title
    extended = evolve(tender, EXAMPLE_EVENTS["TenderDeadlineExtended"])
    assert extended.submission_deadline == DEADLINE + timedelta(days=7)


# Properties over random histories


@dataclass(frozen=True)
class Step:
    """One attempt to act on the tender: first the clock moves on, then someone acts."""

    kind: Literal["amend", "cancel", "close"]
    actor: Actor
    wait: timedelta = timedelta(0)
    # Instead of waiting, wake up this long before the tender's deadline (if that is later),
    # as the deadline service does; this is what makes closing and late amendments likely.
    before_deadline: timedelta | None = None
    title: str | None = None
    requirements: Requirements | None = None
    deadline_shift: timedelta | None = None  # from the tender's deadline at the time


@dataclass
class History:
    events: list[Event] = field(default_factory=list)
    transitions: list[tuple[TenderStatus | None, str, TenderStatus]] = field(default_factory=list)
    deadlines: list[datetime] = field(default_factory=list)
    tender: Tender | None = None

    def apply(self, events: list[Event]) -> None:
        for event in events:
            before = self.tender.status if self.tender else None
            self.tender = evolve(self.tender, event)
            self.events.append(event)
            self.transitions.append((before, type(event).__name__, self.tender.status))
            self.deadlines.append(self.tender.submission_deadline)


@st.composite
def steps(draw: st.DrawFn) -> Step:
    kind = draw(st.sampled_from(["amend"] * 5 + ["close"] * 2 + ["cancel"]))
    wait = timedelta(hours=draw(st.integers(0, 15 * 24)))
    before = draw(st.sampled_from([None, timedelta(0), MINUTE, timedelta(days=2), timedelta(12)]))
    if kind == "close":
        return Step("close", draw(st.sampled_from([SYSTEM, SYSTEM, OFFICER])), wait, before)
    actor = draw(st.sampled_from([OFFICER, OFFICER, OFFICER, OTHER_OFFICER, SYSTEM]))
    if kind == "cancel":
        return Step("cancel", actor, wait, before)
    shift = draw(st.none() | st.timedeltas(min_value=-timedelta(days=5), max_value=timedelta(30)))
    title = draw(st.sampled_from([None, "Office paper for 2030", "Paper and toner"]))
    new = draw(st.sampled_from([None, requirements(), requirements("1500.00", currency="EUR")]))
    if (title, new, shift) == (None, None, None):
        title = "Paper, toner and pens"
    return Step("amend", actor, wait, before, title, new, shift)


def decide(tender: Tender, step: Step, now: datetime) -> list[Event]:
    if step.kind == "close":
        return close(tender, CloseTender(ocid=tender.ocid), step.actor, now)
    if step.kind == "cancel":
        return cancel(tender, CancelTender(ocid=tender.ocid, reason="Withdrawn"), step.actor)
    deadline = None
    if step.deadline_shift is not None:
        deadline = tender.submission_deadline + step.deadline_shift
    change = AmendTender(
        ocid=tender.ocid,
        reason="Clarification",
        title=step.title,
        requirements=step.requirements,
        submission_deadline=deadline,
    )
    return amend(tender, change, step.actor, now, RULES)


def live(command: PublishTender, attempts: list[Step]) -> History:
    """Publish at NOW, then try each step in turn; refused commands record nothing."""
    history = History()
    now = NOW
    history.apply(publish(command, OFFICER, now, RULES, tender_id="t-1", ocid=OCID))
    for step in attempts:
        assert history.tender is not None
        if step.before_deadline is None:
            now += step.wait
        else:
            now = max(now, history.tender.submission_deadline - step.before_deadline)
        try:
            history.apply(decide(history.tender, step, now))
        except Rejected:
            continue
    return history


histories = st.builds(
    live,
    publish_commands(
        st.timedeltas(min_value=timedelta(days=30), max_value=timedelta(days=60)).map(
            lambda period: NOW + period
        )
    ),
    st.lists(steps(), min_size=1, max_size=15),
)


@settings(max_examples=100, deadline=None)
@given(history=histories)
def test_replay_equals_state(history: History) -> None:
    """Replaying every recorded event from nothing rebuilds exactly the tender that was lived."""
    assert replay(history.events) == history.tender


@settings(max_examples=100, deadline=None)
@given(history=histories)
def test_no_illegal_transition_is_reachable(history: History) -> None:
    """Whatever is attempted, every transition taken is one the lifecycle table allows."""
    for before, event_type, after in history.transitions:
        assert LIFECYCLE.get((before, event_type)) is after
        assert after in set(LIFECYCLE.values())


@settings(max_examples=100, deadline=None)
@given(history=histories)
def test_version_counts_the_events_applied(history: History) -> None:
    """A tender's version is the number of events that made it."""
    assert history.tender is not None
    assert history.tender.version == len(history.events)


@settings(max_examples=100, deadline=None)
@given(history=histories)
def test_the_submission_deadline_never_moves_earlier(history: History) -> None:
    """Amendments only ever extend the submission deadline."""
    assert history.deadlines == sorted(history.deadlines)
