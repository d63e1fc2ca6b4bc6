"""Remedies for everyone with an interest (Directive 89/665/EEC, Article 1(3)): who may
seek review of an award, and what each ruling does."""

from uuid import uuid4

import pytest

from procurement.errors import NotAllowed, Rejected, WrongState
from procurement.evaluation import ComplaintStatus, LotStatus, contract_may_be_signed, notices
from publication.complaints import public_complaints
from schemas.evaluation import (
    AwardDecided,
    CancelLot,
    ComplaintFiled,
    ComplaintSubject,
    DismissComplaint,
    EvaluationFacts,
    FileComplaint,
    Remedy,
    UpholdComplaint,
)
from schemas.events import envelope
from schemas.remedies import PublicComplaintStatus
from schemas.values import StandstillGround
from tests.unit.evaluation_examples import (
    BUYER,
    BUYERS_OFFICER,
    DAY,
    HOUR,
    LOT,
    LOT_2,
    NOW,
    OCID,
    REVIEWER,
    Procedure,
    awarded,
    bid,
    facts,
    started,
    supplier,
)

CANCELLATION = ComplaintSubject.CANCELLATION


def with_tenderers(tender: EvaluationFacts, *tenderers: str) -> EvaluationFacts:
    return tender.model_copy(update={"tenderers": tenderers})


def complain(procedure: Procedure, who: str, lot_id: str = LOT) -> list[object]:
    command = FileComplaint(ocid=OCID, lot_id=lot_id, grounds="The award is unlawful.")
    return list(procedure.do(command, supplier(who)))


def test_a_tenderer_whose_bid_was_rejected_at_the_opening_may_complain() -> None:
    """Its bid never reached the evaluation, but it tendered: it may seek review."""
    tender = with_tenderers(facts(), "supplier-a", "supplier-b", "supplier-x")
    procedure = awarded(tender, bid("a", "900.00"), bid("b", "950.00"))
    [filed] = complain(procedure, "supplier-x")
    assert isinstance(filed, ComplaintFiled)
    assert filed.bidder_id == "supplier-x"


@pytest.mark.parametrize("who", ["supplier-nobody", "supplier-c"])
def test_who_did_not_tender_for_the_lot_may_not_complain(who: str) -> None:
    """A supplier that never tendered, or tendered only for another lot, has no interest in
    this lot's contract."""
    two_lots = facts(lots={LOT: "1000.00", LOT_2: "1000.00"})
    procedure = awarded(
        with_tenderers(two_lots, "supplier-a", "supplier-b", "supplier-c"),
        bid("a", "900.00"),
        bid("b", "950.00"),
        bid("c", {LOT_2: "900.00"}),
    )
    with pytest.raises(NotAllowed) as refused:
        complain(procedure, who)
    assert refused.value.code == "not_a_tenderer"


def test_a_tenderer_rejected_at_the_opening_defeats_the_sole_tenderer_ground() -> None:
    """Article 2b(b) needs the awarded tenderer to be the only one concerned: one whose bid
    could not be opened is still concerned, so the full standstill applies."""
    sole = with_tenderers(facts(standstill_days=0), "supplier-a", "supplier-x").model_copy(
        update={"standstill_ground": StandstillGround.SOLE_TENDERER}
    )
    procedure = awarded(sole, bid("a", "900.00"))
    [award] = [e for e in procedure.events if isinstance(e, AwardDecided)]
    assert award.standstill_ground is None
    assert not contract_may_be_signed(procedure.evaluation, LOT, NOW)


# Complaints against the buyer's cancellation of a lot

CANCEL = CancelLot(ocid=OCID, lot_id=LOT, reason="The budget was cut.")


def against_cancellation(procedure: Procedure, who: str = "supplier-b") -> None:
    command = FileComplaint(
        ocid=OCID, lot_id=LOT, grounds="The budget was not cut.", subject=CANCELLATION
    )
    procedure.do(command, supplier(who))


def test_an_annulled_cancellation_resumes_the_lot_with_its_award() -> None:
    """Article 2(1)(b): the review body may set aside the buyer's decision to cancel; the
    lot comes back where it was, awarded, and goes on to its contract."""
    procedure = awarded(facts(), bid("a", "900.00"), bid("b", "950.00"))
    procedure.do(CANCEL, BUYERS_OFFICER)
    procedure.wait(DAY)
    against_cancellation(procedure)
    assert procedure.evaluation.lots[LOT].status is LotStatus.CANCELLED
    upheld = UpholdComplaint(
        ocid=OCID, complaint_id="complaint-1", remedy=Remedy.ANNUL_CANCELLATION, reason="Unfounded."
    )
    procedure.do(upheld, REVIEWER)
    lot = procedure.evaluation.lots[LOT]
    assert (lot.status, lot.cancelled_from) == (LotStatus.AWARDED, None)
    assert lot.award is not None
    assert lot.award.bid_id == "a"
    assert contract_may_be_signed(procedure.evaluation, LOT, NOW + 11 * DAY)


def test_a_cancellation_in_evaluation_annulled_goes_back_to_evaluation() -> None:
    """Cancelled before its award, the lot resumes its evaluation and can be awarded."""
    procedure = started(facts(), bid("a", "900.00"), bid("b", "950.00"))
    procedure.do(CANCEL, BUYERS_OFFICER)
    against_cancellation(procedure)
    procedure.do(
        UpholdComplaint(
            ocid=OCID, complaint_id="complaint-1", remedy=Remedy.ANNUL_CANCELLATION, reason="No."
        ),
        REVIEWER,
    )
    assert procedure.evaluation.lots[LOT].status is LotStatus.EVALUATION


def test_a_dismissed_complaint_leaves_the_lot_cancelled() -> None:
    """Dismissed, the cancellation stands; the lot does not move."""
    procedure = awarded(facts(), bid("a", "900.00"), bid("b", "950.00"))
    procedure.do(CANCEL, BUYERS_OFFICER)
    against_cancellation(procedure)
    dismissal = DismissComplaint(ocid=OCID, complaint_id="complaint-1", reason="Lawful.")
    procedure.do(dismissal, REVIEWER)
    assert procedure.evaluation.lots[LOT].status is LotStatus.CANCELLED
    assert procedure.evaluation.complaints["complaint-1"].status is ComplaintStatus.DISMISSED


@pytest.mark.parametrize(
    ("setup", "code"),
    [
        ("not cancelled", "not_cancelled"),
        ("ten days later", "review_period_over"),
    ],
)
def test_a_cancellation_is_open_to_review_for_ten_days_only(setup: str, code: str) -> None:
    """A lot that is not cancelled has no cancellation to review; after the end of the 10th
    day from the cancellation, it is final (Article 2c)."""
    procedure = awarded(facts(), bid("a", "900.00"), bid("b", "950.00"))
    if setup == "ten days later":
        procedure.do(CANCEL, BUYERS_OFFICER)
        procedure.wait(10 * DAY + 11 * HOUR)  # the end of the 10th day in Bucharest
    with pytest.raises(WrongState) as refused:
        against_cancellation(procedure)
    assert refused.value.code == code


@pytest.mark.parametrize(
    ("subject", "remedy"),
    [(CANCELLATION, Remedy.RE_EVALUATE), (None, Remedy.ANNUL_CANCELLATION)],
)
def test_the_remedy_must_fit_what_was_complained_about(
    subject: ComplaintSubject | None, remedy: Remedy
) -> None:
    """A cancellation is annulled, an award re-evaluated or cancelled: never the other way."""
    procedure = awarded(facts(), bid("a", "900.00"), bid("b", "950.00"))
    if subject is CANCELLATION:
        procedure.do(CANCEL, BUYERS_OFFICER)
        against_cancellation(procedure)
    else:
        complain(procedure, "supplier-b")
    upheld = UpholdComplaint(ocid=OCID, complaint_id="complaint-1", remedy=remedy, reason="Yes.")
    with pytest.raises(Rejected) as refused:
        procedure.do(upheld, REVIEWER)
    assert refused.value.code == "remedy_does_not_fit"


def test_the_review_bodys_decision_is_sent_to_the_complainant_the_buyer_and_the_winner() -> None:
    """Each is told the outcome and the reasons."""
    procedure = awarded(facts(), bid("a", "900.00"), bid("b", "950.00"))
    complain(procedure, "supplier-b")
    before = procedure.evaluation
    [dismissed] = procedure.do(
        DismissComplaint(ocid=OCID, complaint_id="complaint-1", reason="The price is normal."),
        REVIEWER,
    )
    told = dict(notices(dismissed, before))
    assert set(told) == {"supplier-b", BUYER, "supplier-a"}
    assert all("dismissed it" in m and "The price is normal." in m for m in told.values())


def test_the_public_record_of_complaints_follows_the_review_bodys_decisions() -> None:
    """Filed, dismissed and upheld: the public record says each, with its reasons, remedy
    and the reviewer's body."""
    procedure = awarded(facts(), bid("a", "900.00"), bid("b", "950.00"), bid("c", "990.00"))
    complain(procedure, "supplier-b")
    complain(procedure, "supplier-c")
    procedure.do(DismissComplaint(ocid=OCID, complaint_id="complaint-1", reason="No."), REVIEWER)
    upheld = UpholdComplaint(
        ocid=OCID, complaint_id="complaint-2", remedy=Remedy.CANCEL, reason="Unlawful terms."
    )
    procedure.do(upheld, REVIEWER)
    history = [
        envelope(
            event,
            event_id=uuid4(),
            aggregate_id=f"{OCID}:evaluation",
            sequence=n,
            actor="someone",
            occurred_at=NOW + n * HOUR,
        )
        for n, event in enumerate(procedure.events, 1)
    ]
    record = public_complaints(OCID, history)
    first, second = record.complaints
    assert (first.complainant_id, first.status) == ("supplier-b", PublicComplaintStatus.DISMISSED)
    assert second.decision is not None
    assert (second.decision.remedy, second.decision.reasons) == (Remedy.CANCEL, "Unlawful terms.")
    assert second.decision.review_body_id == REVIEWER.agency_id
