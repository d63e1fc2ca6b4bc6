"""Evaluation, award, standstill and complaints: worked examples, every step out of order, and
properties over random histories."""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any, TypeVar

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import TypeAdapter

from bidding.keys import raw_public, verify
from procurement.errors import NotAllowed, NotFound, Rejected, WrongState
from procurement.evaluation import (
    LOT_LIFECYCLE,
    QUALITY_SCORE,
    ComplaintStatus,
    Evaluation,
    FlagStatus,
    LotStatus,
    contract_may_be_signed,
    decide,
    evaluation_id,
    evolve,
    facts_from_tender,
    notices,
    opened_bid,
    ranking,
    replay,
    score_fields,
)
from schemas.commands import Actor
from schemas.evaluation import (
    EVALUATION_EVENTS,
    AbnormallyLowBasis,
    AbnormallyLowFlagged,
    AcceptJustification,
    AnswerClarification,
    AnyEvaluationCommand,
    AnyEvaluationEvent,
    AuctionResultRecorded,
    AwardDecided,
    BidQualified,
    CancelLot,
    CancelProcedure,
    ClarificationRequested,
    ComplaintFiled,
    CompleteLotEvaluation,
    DecideAward,
    DismissComplaint,
    DisqualifyBid,
    EvaluationFacts,
    EvaluationStarted,
    FileComplaint,
    FinalPrice,
    LossReason,
    LotEvaluated,
    LotReadyForAuction,
    OpenedBid,
    ProcedureCancelled,
    QualifyBid,
    QualityScored,
    RecordAuctionResult,
    RecordContractConcluded,
    RejectJustification,
    Remedy,
    RequestClarification,
    RequestJustification,
    StartEvaluation,
    SubmitJustification,
    UpholdComplaint,
)
from schemas.events import BidOpened, Event
from schemas.values import Value
from tests.unit.evaluation_examples import (
    ANA,
    BUYERS_OFFICER,
    BUYERS_REVIEWER,
    DAN,
    DAY,
    HOUR,
    LOT,
    LOT_2,
    MEMBER_KEYS,
    MEMBERS,
    NOW,
    OCID,
    OPERATOR,
    REVIEWER,
    STRANGER,
    SYSTEM,
    Procedure,
    awarded,
    bid,
    bidder,
    evaluated,
    facts,
    qualify_all,
    signed_score,
    started,
    supplier,
)
from tests.unit.examples import EXAMPLE_EVENTS, published

EVENT: TypeAdapter[AnyEvaluationEvent] = TypeAdapter(AnyEvaluationEvent)


def ranked(procedure: Procedure, lot_id: str = LOT) -> list[tuple[str, str]]:
    """The lot's ranking as (bid id, total) pairs."""
    return [(row.bid_id, str(row.total)) for row in ranking(procedure.evaluation, lot_id)]


def only(events: list[Event], kind: type[Event]) -> Any:
    [event] = [e for e in events if isinstance(e, kind)]
    return event


# Worked examples


def test_price_only_the_lowest_price_wins_with_scores_by_the_formula() -> None:
    """Three bids on price only: 100 x lowest / price each, rounded half up to 0.0001."""
    procedure = evaluated(facts(), bid("a", "900.00"), bid("b", "850.00"), bid("c", "950.00"))
    # 85000/900 = 94.4444..., 85000/950 = 89.47368...
    assert ranked(procedure) == [("b", "100.0000"), ("a", "94.4444"), ("c", "89.4737")]
    [award] = procedure.do(DecideAward(ocid=OCID, lot_id=LOT, expected_winner="b"), BUYERS_OFFICER)
    assert isinstance(award, AwardDecided)
    assert (award.bid_id, award.bidder_id) == ("b", "supplier-b")
    assert award.value == Value(amount=Decimal("850.00"), currency="RON")
    assert [row.rank for row in award.ranking] == [1, 2, 3]
    assert {u.bid_id: u.reason_code for u in award.unsuccessful} == {
        "a": LossReason.LOWER_SCORE,
        "c": LossReason.LOWER_SCORE,
    }
    assert procedure.evaluation.lots[LOT].status is LotStatus.AWARDED


def test_rated_criteria_average_the_members_latest_scores_and_weigh_them() -> None:
    """Price 60 points, technical merit 30 and delivery 10: each criterion counts the average
    of the members who scored it, each member's latest score."""
    procedure = started(facts(rated=True), bid("a", "1000.00"), bid("b", "800.00"))
    qualify_all(procedure, "a", "b")
    scores = [
        ("officer-ana", "a", "tech", "40"),  # replaced below
        ("officer-ana", "a", "tech", "90"),
        ("officer-dan", "a", "tech", "100"),
        ("officer-ana", "a", "delivery", "100"),
        ("officer-dan", "a", "delivery", "100"),
        ("officer-ana", "b", "tech", "50"),
        ("officer-dan", "b", "tech", "70"),
        ("officer-ana", "b", "delivery", "50"),  # dan does not score b's delivery
    ]
    revisions: dict[tuple[str, str, str], int] = {}
    for member, bid_id, criterion, score in scores:
        revision = revisions[member, bid_id, criterion] = (
            revisions.get((member, bid_id, criterion), 0) + 1
        )
        actor = ANA if member == "officer-ana" else DAN
        procedure.do(signed_score(member, LOT, bid_id, criterion, score, revision), actor)
    procedure.do(CompleteLotEvaluation(ocid=OCID, lot_id=LOT), ANA)
    rows = {row.bid_id: row for row in ranking(procedure.evaluation, LOT)}
    # a: price 60 x 800/1000 = 48; quality 30 x 95/100 + 10 x 100/100 = 38.5; total 86.5
    assert (rows["a"].price_score, rows["a"].quality_part, rows["a"].total) == (
        Decimal("48.0000"),
        Decimal("38.5000"),
        Decimal("86.5000"),
    )
    # b: price 60; quality 30 x 60/100 + 10 x 50/100 = 23; total 83
    assert (rows["b"].price_score, rows["b"].quality_part, rows["b"].total) == (
        Decimal("60.0000"),
        Decimal("23.0000"),
        Decimal("83.0000"),
    )
    [award] = procedure.do(DecideAward(ocid=OCID, lot_id=LOT), BUYERS_OFFICER)
    assert isinstance(award, AwardDecided)
    assert award.bid_id == "a"


def test_a_members_score_is_signed_over_its_canonical_fields() -> None:
    """The signature in QualityScored verifies with the member's key and the score's fields,
    and 87.5 signs the same bytes as 87.50."""
    procedure = started(facts(rated=True), bid("a", "1000.00"))
    qualify_all(procedure, "a")
    [scored] = procedure.do(signed_score("officer-dan", LOT, "a", "tech", "87.5"), DAN)
    fields = score_fields(OCID, LOT, "a", "tech", "officer-dan", Decimal("87.50"), 1)
    public = raw_public(MEMBER_KEYS["officer-dan"])
    assert isinstance(scored, QualityScored)
    assert verify(public, scored.signature, QUALITY_SCORE, fields)
    assert not verify(public, scored.signature, QUALITY_SCORE, {**fields, "score": "88.00"})


def test_a_tie_goes_to_the_bid_received_first() -> None:
    """Equal totals: the bid received first wins, whatever its id; the other is told why."""
    procedure = evaluated(
        facts(), bid("z-first", "900.00", minutes=1), bid("a-later", "900.00", minutes=5)
    )
    assert ranked(procedure) == [("z-first", "100.0000"), ("a-later", "100.0000")]
    [award] = procedure.do(DecideAward(ocid=OCID, lot_id=LOT), BUYERS_OFFICER)
    assert isinstance(award, AwardDecided)
    assert award.bid_id == "z-first"
    [loser] = award.unsuccessful
    assert loser.reason_code is LossReason.TIE_RECEIVED_LATER


def test_same_time_ties_go_to_the_lower_bid_id() -> None:
    """Received at the same instant and tied: the bid id decides, so the ranking is total."""
    procedure = evaluated(facts(), bid("b", "900.00"), bid("a", "900.00"))
    assert [row[0] for row in ranked(procedure)] == ["a", "b"]


def test_a_price_far_below_the_others_average_is_flagged() -> None:
    """700 is below 80 % of the others' average, 1000: flagged with that basis and 800.00."""
    procedure = started(facts(), bid("a", "1000.00"), bid("b", "1000.00"), bid("c", "700.00"))
    qualify_all(procedure, "a", "b", "c")
    events = procedure.do(CompleteLotEvaluation(ocid=OCID, lot_id=LOT), BUYERS_OFFICER)
    assert isinstance(events[0], LotEvaluated)
    flag = only(events, AbnormallyLowFlagged)
    assert (flag.bid_id, flag.basis, flag.reference, flag.threshold) == (
        "c",
        AbnormallyLowBasis.OTHERS_AVERAGE,
        Decimal("1000.00"),
        Decimal("800.00"),
    )


def test_a_price_below_the_share_of_the_estimate_is_flagged() -> None:
    """A lone bid of 790 against an estimate of 1000 at 80 % is flagged on the estimate."""
    procedure = evaluated(facts(), bid("a", "790.00"))
    flag = only(procedure.events, AbnormallyLowFlagged)
    assert (flag.basis, flag.reference, flag.threshold) == (
        AbnormallyLowBasis.ESTIMATED_VALUE,
        Decimal("1000.00"),
        Decimal("800.00"),
    )


def test_a_price_exactly_at_the_threshold_is_not_abnormally_low() -> None:
    """Only a price strictly below the threshold is flagged."""
    procedure = evaluated(facts(), bid("a", "800.00"), bid("b", "1000.00"))
    assert not [e for e in procedure.events if isinstance(e, AbnormallyLowFlagged)]


def abnormally_low_case() -> Procedure:
    """c at 700 ranks first but is flagged; a and b at 1000 follow, a received first."""
    return evaluated(
        facts(),
        bid("a", "1000.00", minutes=1),
        bid("b", "1000.00", minutes=2),
        bid("c", "700.00", minutes=3),
    )


def test_a_flagged_bid_cannot_win_until_its_justification_is_accepted() -> None:
    """Award is refused while c's justification is outstanding; accepted, c wins."""
    procedure = abnormally_low_case()
    with pytest.raises(WrongState) as refused:
        procedure.do(DecideAward(ocid=OCID, lot_id=LOT), BUYERS_OFFICER)
    assert refused.value.code == "abnormally_low_unresolved"
    procedure.do(
        RequestJustification(
            ocid=OCID, lot_id=LOT, bid_id="c", question="How?", respond_by=NOW + 5 * DAY
        ),
        BUYERS_OFFICER,
    )
    with pytest.raises(WrongState, match="requested"):
        procedure.do(DecideAward(ocid=OCID, lot_id=LOT), BUYERS_OFFICER)
    procedure.do(
        SubmitJustification(ocid=OCID, lot_id=LOT, bid_id="c", justification="Own stock."),
        bidder("c"),
    )
    procedure.do(
        AcceptJustification(ocid=OCID, lot_id=LOT, bid_id="c", reason="Invoices shown."),
        BUYERS_OFFICER,
    )
    [award] = procedure.do(DecideAward(ocid=OCID, lot_id=LOT), BUYERS_OFFICER)
    assert isinstance(award, AwardDecided)
    assert award.bid_id == "c"


def test_a_rejected_justification_removes_the_bid_from_the_ranking() -> None:
    """Rejected, c leaves the lot's ranking, a wins, and c is told why."""
    procedure = abnormally_low_case()
    procedure.do(
        RequestJustification(
            ocid=OCID, lot_id=LOT, bid_id="c", question="How?", respond_by=NOW + DAY
        ),
        BUYERS_OFFICER,
    )
    procedure.do(
        SubmitJustification(ocid=OCID, lot_id=LOT, bid_id="c", justification="Trust us."),
        bidder("c"),
    )
    procedure.do(
        RejectJustification(ocid=OCID, lot_id=LOT, bid_id="c", reason="No evidence."),
        BUYERS_OFFICER,
    )
    assert ranked(procedure) == [("a", "100.0000"), ("b", "100.0000")]
    [award] = procedure.do(DecideAward(ocid=OCID, lot_id=LOT), BUYERS_OFFICER)
    assert isinstance(award, AwardDecided)
    assert award.bid_id == "a"
    reasons = {u.bid_id: u for u in award.unsuccessful}
    assert reasons["c"].reason_code is LossReason.ABNORMALLY_LOW
    assert "No evidence." in reasons["c"].reason


def test_a_justification_not_sent_in_time_may_be_rejected_but_not_accepted() -> None:
    """After the time to respond, the bidder can no longer justify and the officer may reject."""
    procedure = abnormally_low_case()
    procedure.do(
        RequestJustification(
            ocid=OCID, lot_id=LOT, bid_id="c", question="How?", respond_by=NOW + DAY
        ),
        BUYERS_OFFICER,
    )
    with pytest.raises(WrongState, match="none to decide on"):
        procedure.do(
            RejectJustification(ocid=OCID, lot_id=LOT, bid_id="c", reason="x"), BUYERS_OFFICER
        )
    procedure.wait(2 * DAY)
    late = SubmitJustification(ocid=OCID, lot_id=LOT, bid_id="c", justification="Sorry.")
    with pytest.raises(WrongState) as refused:
        procedure.do(late, bidder("c"))
    assert refused.value.code == "too_late"
    with pytest.raises(WrongState):
        procedure.do(
            AcceptJustification(ocid=OCID, lot_id=LOT, bid_id="c", reason="x"), BUYERS_OFFICER
        )
    procedure.do(
        RejectJustification(ocid=OCID, lot_id=LOT, bid_id="c", reason="No answer."), BUYERS_OFFICER
    )
    flags = procedure.evaluation.lots[LOT].flags or {}
    assert flags["c"].status is FlagStatus.REJECTED
    assert ranked(procedure) == [("a", "100.0000"), ("b", "100.0000")]


def test_the_award_notices_tell_every_bidder_the_outcome_and_the_reasons() -> None:
    """The winner learns the standstill; each other bidder its reason and the complaint deadline."""
    procedure = started(facts(), bid("a", "900.00"), bid("b", "850.00"), bid("c", "950.00"))
    qualify_all(procedure, "a", "b")
    procedure.do(DisqualifyBid(ocid=OCID, bid_id="c", reason="No ISO 9001 certificate."), DAN)
    procedure.do(CompleteLotEvaluation(ocid=OCID, lot_id=LOT), SYSTEM)
    [award] = procedure.do(DecideAward(ocid=OCID, lot_id=LOT), BUYERS_OFFICER)
    told = dict(notices(award))
    assert set(told) == {"supplier-a", "supplier-b", "supplier-c"}
    assert "won lot lot-1" in told["supplier-b"]
    assert "2030-05-14T21:00:00+00:00" in told["supplier-b"]  # 15 May, 00:00 in Bucharest
    assert "ranked 2 of 2" in told["supplier-a"]
    assert "No ISO 9001 certificate." in told["supplier-c"]
    assert all("complain until 2030-05-14" in told[b] for b in ("supplier-a", "supplier-c"))


@pytest.mark.parametrize(
    ("days", "ends"),
    [
        (0, NOW),
        (10, datetime(2030, 5, 14, 21, 0, tzinfo=UTC)),  # the end of 14 May in Bucharest
        (30, datetime(2030, 6, 3, 21, 0, tzinfo=UTC)),
    ],
)
def test_the_standstill_ends_at_the_end_of_its_last_day(days: int, ends: datetime) -> None:
    """The standstill ends when the ``standstill_days``-th calendar day after the decision's
    day ends in the buyer's time zone; the contract may be signed from then."""
    procedure = awarded(facts(standstill_days=days), bid("a", "900.00"))
    award = only(procedure.events, AwardDecided)
    assert (award.decided_at, award.standstill_ends) == (NOW, ends)
    assert contract_may_be_signed(procedure.evaluation, LOT, ends)
    if days:
        assert not contract_may_be_signed(procedure.evaluation, LOT, ends - HOUR)


def test_an_upheld_complaint_sends_the_lot_back_to_evaluation_for_a_new_award() -> None:
    """Award to b; a complains; upheld for re-evaluation: the award is cleared, decisions kept,
    the committee rejects b, and a new award goes to a."""
    procedure = awarded(facts(), bid("a", "900.00"), bid("b", "850.00"))
    procedure.wait(DAY)
    [filed] = procedure.do(
        FileComplaint(ocid=OCID, lot_id=LOT, grounds="b lacks experience."), bidder("a")
    )
    assert isinstance(filed, ComplaintFiled)
    assert filed.complaint_id == "complaint-1"
    assert procedure.evaluation.lots[LOT].status is LotStatus.SUSPENDED
    assert not contract_may_be_signed(procedure.evaluation, LOT, NOW + 30 * DAY)
    procedure.do(
        UpholdComplaint(
            ocid=OCID, complaint_id="complaint-1", remedy=Remedy.RE_EVALUATE, reason="Right."
        ),
        REVIEWER,
    )
    lot = procedure.evaluation.lots[LOT]
    assert (lot.status, lot.award, set(lot.decisions)) == (LotStatus.EVALUATION, None, {"a", "b"})
    procedure.do(DisqualifyBid(ocid=OCID, bid_id="b", reason="Experience not proven."), ANA)
    procedure.do(CompleteLotEvaluation(ocid=OCID, lot_id=LOT), BUYERS_OFFICER)
    [award] = procedure.do(DecideAward(ocid=OCID, lot_id=LOT), BUYERS_OFFICER)
    assert isinstance(award, AwardDecided)
    assert (award.bid_id, award.standstill_ends) == ("a", NOW + 11 * DAY + 11 * HOUR)
    assert procedure.evaluation.complaints["complaint-1"].status is ComplaintStatus.UPHELD


def test_a_complaint_upheld_with_cancellation_cancels_the_lot() -> None:
    """The remedy ``cancel`` ends the lot; no contract, nothing more."""
    procedure = awarded(facts(), bid("a", "900.00"), bid("b", "850.00"))
    procedure.do(FileComplaint(ocid=OCID, lot_id=LOT, grounds="Specs favoured b."), bidder("a"))
    procedure.do(
        UpholdComplaint(ocid=OCID, complaint_id="complaint-1", remedy=Remedy.CANCEL, reason="Yes."),
        REVIEWER,
    )
    assert procedure.evaluation.lots[LOT].status is LotStatus.CANCELLED
    assert not contract_may_be_signed(procedure.evaluation, LOT, NOW + 60 * DAY)


def test_a_dismissed_complaint_resumes_a_standstill_that_may_have_ended_meanwhile() -> None:
    """Suspended past its end, the standstill is over as soon as the complaint is dismissed."""
    procedure = awarded(facts(), bid("a", "900.00"), bid("b", "850.00"))
    procedure.wait(9 * DAY)
    procedure.do(FileComplaint(ocid=OCID, lot_id=LOT, grounds="Unfair."), bidder("a"))
    procedure.wait(5 * DAY)
    assert not contract_may_be_signed(procedure.evaluation, LOT, procedure.now)
    procedure.do(
        DismissComplaint(ocid=OCID, complaint_id="complaint-1", reason="Unfounded."), REVIEWER
    )
    assert procedure.evaluation.lots[LOT].status is LotStatus.AWARDED
    assert contract_may_be_signed(procedure.evaluation, LOT, procedure.now)


def test_a_lot_stays_suspended_until_every_complaint_is_ruled_on() -> None:
    """Two bidders complain; dismissing one leaves the lot suspended until the other."""
    procedure = awarded(facts(), bid("a", "900.00"), bid("b", "850.00"), bid("c", "950.00"))
    procedure.do(FileComplaint(ocid=OCID, lot_id=LOT, grounds="One."), bidder("a"))
    procedure.do(FileComplaint(ocid=OCID, lot_id=LOT, grounds="Two."), bidder("c"))
    procedure.do(DismissComplaint(ocid=OCID, complaint_id="complaint-1", reason="No."), REVIEWER)
    assert procedure.evaluation.lots[LOT].status is LotStatus.SUSPENDED
    procedure.do(DismissComplaint(ocid=OCID, complaint_id="complaint-2", reason="No."), REVIEWER)
    assert procedure.evaluation.lots[LOT].status is LotStatus.AWARDED


def test_a_clarification_holds_the_bid_until_it_is_answered() -> None:
    """The member asks; the bid cannot be qualified until the bidder answers, once."""
    procedure = started(facts(), bid("a", "900.00"))
    [asked] = procedure.do(
        RequestClarification(
            ocid=OCID, bid_id="a", question="Which paper?", respond_by=NOW + 3 * DAY
        ),
        ANA,
    )
    assert isinstance(asked, ClarificationRequested)
    assert (asked.request_id, asked.lot_ids) == ("clarification-1", (LOT,))
    [(told, message)] = notices(asked)
    assert told == "supplier-a"
    assert "Which paper?" in message
    with pytest.raises(WrongState) as refused:
        procedure.do(QualifyBid(ocid=OCID, bid_id="a"), DAN)
    assert refused.value.code == "clarification_open"
    procedure.do(
        AnswerClarification(ocid=OCID, request_id="clarification-1", answer="80 g/m2."), bidder("a")
    )
    procedure.do(QualifyBid(ocid=OCID, bid_id="a"), DAN)
    assert procedure.evaluation.lots[LOT].decisions["a"].admissible


def test_an_auction_lot_is_ranked_on_the_final_prices_and_rechecked() -> None:
    """With an auction: qualification and scores fix the quality part, the auction the
    prices; the ranking and the abnormally-low check use the final prices."""
    procedure = started(facts(rated=True, auction=True), bid("a", "1000.00"), bid("b", "950.00"))
    qualify_all(procedure, "a", "b")
    for bid_id, tech in (("a", "100"), ("b", "50")):
        procedure.do(signed_score("officer-ana", LOT, bid_id, "tech", tech), ANA)
        procedure.do(signed_score("officer-ana", LOT, bid_id, "delivery", "100"), ANA)
    [ready] = procedure.do(CompleteLotEvaluation(ocid=OCID, lot_id=LOT), SYSTEM)
    assert isinstance(ready, LotReadyForAuction)
    assert {(b.bid_id, b.initial_price.amount, b.quality_part) for b in ready.bidders} == {
        ("a", Decimal("1000.00"), Decimal("40.0000")),
        ("b", Decimal("950.00"), Decimal("25.0000")),
    }
    with pytest.raises(WrongState) as refused:
        procedure.do(DecideAward(ocid=OCID, lot_id=LOT), BUYERS_OFFICER)
    assert refused.value.code == "auction_pending"
    final = (
        FinalPrice(bid_id="a", price=Value(amount=Decimal("900.00"), currency="RON")),
        FinalPrice(bid_id="b", price=Value(amount=Decimal("600.00"), currency="RON")),
    )
    events = procedure.do(RecordAuctionResult(ocid=OCID, lot_id=LOT, final_prices=final), SYSTEM)
    assert isinstance(events[0], AuctionResultRecorded)
    flag = only(events, AbnormallyLowFlagged)  # 600 < 80 % of 900 = 720
    assert (flag.bid_id, flag.price.amount, flag.threshold) == (
        "b",
        Decimal("600.00"),
        Decimal("720.00"),
    )
    rows = ranking(procedure.evaluation, LOT)
    # b: 60 + 25 = 85; a: 60 x 600/900 = 40 + 40 = 80
    assert [(r.bid_id, r.price.amount, r.total) for r in rows] == [
        ("b", Decimal("600.00"), Decimal("85.0000")),
        ("a", Decimal("900.00"), Decimal("80.0000")),
    ]


def test_an_auction_needs_two_bids_to_compete() -> None:
    """With one admissible bid the lot is ranked at once, without an auction."""
    procedure = evaluated(facts(auction=True), bid("a", "900.00"))
    assert not [e for e in procedure.events if isinstance(e, LotReadyForAuction)]
    assert procedure.evaluation.lots[LOT].status is LotStatus.RANKED


def test_lots_are_evaluated_and_awarded_on_their_own() -> None:
    """A bid for two lots is qualified for both; each lot is ranked and awarded by itself."""
    tender = facts(lots={LOT: "1000.00", LOT_2: "500.00"})
    procedure = started(
        tender, bid("a", {LOT: "900.00", LOT_2: "450.00"}), bid("b", {LOT_2: "420.00"})
    )
    qualify_all(procedure, "a", "b")
    procedure.do(CompleteLotEvaluation(ocid=OCID, lot_id=LOT_2), BUYERS_OFFICER)
    [award] = procedure.do(DecideAward(ocid=OCID, lot_id=LOT_2), BUYERS_OFFICER)
    assert isinstance(award, AwardDecided)
    assert award.bid_id == "b"
    assert procedure.evaluation.lots[LOT].status is LotStatus.EVALUATION


def test_cancelling_a_lot_is_final_for_that_lot_only() -> None:
    """A cancelled lot accepts nothing more; the other lot carries on."""
    tender = facts(lots={LOT: "1000.00", LOT_2: "500.00"})
    procedure = started(tender, bid("a", {LOT: "900.00", LOT_2: "450.00"}))
    procedure.do(CancelLot(ocid=OCID, lot_id=LOT, reason="Budget cut."), BUYERS_OFFICER)
    for command in (
        CompleteLotEvaluation(ocid=OCID, lot_id=LOT),
        CancelLot(ocid=OCID, lot_id=LOT, reason="Again."),
    ):
        with pytest.raises(WrongState) as refused:
            procedure.do(command, BUYERS_OFFICER)
        assert refused.value.code == "lot_cancelled"
    [qualified] = procedure.do(QualifyBid(ocid=OCID, bid_id="a"), ANA)
    assert isinstance(qualified, BidQualified)
    assert qualified.lot_ids == (LOT_2,)


def test_cancelling_the_procedure_is_final() -> None:
    """After ProcedureCancelled every command is refused, and no event applies any more."""
    procedure = awarded(facts(), bid("a", "900.00"), bid("b", "850.00"))
    [cancelled] = procedure.do(CancelProcedure(ocid=OCID, reason="Needs changed."), BUYERS_OFFICER)
    assert all(lot.status is LotStatus.CANCELLED for lot in procedure.evaluation.lots.values())
    attempts: list[tuple[AnyEvaluationCommand, Actor]] = [
        (FileComplaint(ocid=OCID, lot_id=LOT, grounds="Too late?"), bidder("a")),
        (CancelProcedure(ocid=OCID, reason="Twice."), BUYERS_OFFICER),
        (QualifyBid(ocid=OCID, bid_id="a"), ANA),
        (DecideAward(ocid=OCID, lot_id=LOT), BUYERS_OFFICER),
    ]
    for command, actor in attempts:
        with pytest.raises(WrongState) as refused:
            procedure.do(command, actor)
        assert refused.value.code == "procedure_cancelled"
    assert not contract_may_be_signed(procedure.evaluation, LOT, NOW + 60 * DAY)
    with pytest.raises(ValueError, match="cancelled procedure"):
        evolve(procedure.evaluation, cancelled)


def test_start_from_a_published_tender_and_an_opened_bid() -> None:
    """facts_from_tender and opened_bid carry what the evaluation needs from elsewhere."""
    tender = facts_from_tender(published(), MEMBERS)
    example = EXAMPLE_EVENTS["BidOpened"]
    assert isinstance(example, BidOpened)
    opened = opened_bid(example, NOW - DAY)
    command = StartEvaluation(ocid=tender.ocid, facts=tender, bids=(opened,))
    state = replay(decide(None, command, SYSTEM, NOW))
    assert state is not None
    assert evaluation_id(state.ocid) == f"{tender.ocid}:evaluation"
    assert state.facts.lots[0].estimated_value == Value(amount=Decimal("1000.00"), currency="RON")
    assert state.bids["bid-1"].offers[0].price.amount == Decimal("870.00")
    assert state.bids["bid-1"].is_sme


# Every step out of order: refused with the right error, and nothing recorded


def clarification_asked() -> Procedure:
    procedure = started(facts(), bid("a", "900.00"), bid("b", "850.00"))
    procedure.do(
        RequestClarification(ocid=OCID, bid_id="a", question="Which paper?", respond_by=NOW + DAY),
        ANA,
    )
    return procedure


def clarification_answered() -> Procedure:
    procedure = clarification_asked()
    procedure.do(
        AnswerClarification(ocid=OCID, request_id="clarification-1", answer="A4."), bidder("a")
    )
    return procedure


def qualified_rated() -> Procedure:
    procedure = started(facts(rated=True), bid("a", "900.00"), bid("b", "850.00"))
    qualify_all(procedure, "a", "b")
    return procedure


def scored_once() -> Procedure:
    procedure = qualified_rated()
    procedure.do(signed_score("officer-ana", LOT, "a", "tech", "70", revision=3), ANA)
    return procedure


def all_disqualified() -> Procedure:
    procedure = started(facts(), bid("a", "900.00"))
    procedure.do(DisqualifyBid(ocid=OCID, bid_id="a", reason="Late documents."), ANA)
    return procedure


def ready_for_auction() -> Procedure:
    procedure = started(facts(auction=True), bid("a", "900.00"), bid("b", "850.00"))
    qualify_all(procedure, "a", "b")
    procedure.do(CompleteLotEvaluation(ocid=OCID, lot_id=LOT), SYSTEM)
    return procedure


def justification_requested() -> Procedure:
    procedure = abnormally_low_case()
    procedure.do(
        RequestJustification(
            ocid=OCID, lot_id=LOT, bid_id="c", question="How?", respond_by=NOW + DAY
        ),
        BUYERS_OFFICER,
    )
    return procedure


def lone_bid_rejected() -> Procedure:
    procedure = evaluated(facts(), bid("a", "500.00"))
    procedure.do(
        RequestJustification(
            ocid=OCID, lot_id=LOT, bid_id="a", question="How?", respond_by=NOW + DAY
        ),
        BUYERS_OFFICER,
    )
    procedure.wait(2 * DAY)
    procedure.do(
        RejectJustification(ocid=OCID, lot_id=LOT, bid_id="a", reason="Silent."), BUYERS_OFFICER
    )
    return procedure


def two_bids_awarded() -> Procedure:
    return awarded(facts(), bid("a", "900.00"), bid("b", "850.00"))


def complained() -> Procedure:
    procedure = two_bids_awarded()
    procedure.do(FileComplaint(ocid=OCID, lot_id=LOT, grounds="Unfair."), bidder("a"))
    return procedure


def complaint_dismissed() -> Procedure:
    procedure = complained()
    procedure.do(DismissComplaint(ocid=OCID, complaint_id="complaint-1", reason="No."), REVIEWER)
    return procedure


def complained_then_cancelled() -> Procedure:
    procedure = complained()
    procedure.do(CancelLot(ocid=OCID, lot_id=LOT, reason="Budget cut."), BUYERS_OFFICER)
    return procedure


def standstill_over() -> Procedure:
    procedure = two_bids_awarded()
    procedure.wait(10 * DAY + 11 * HOUR)  # to the end of the 10th day in Bucharest
    return procedure


def fresh() -> Procedure:
    return started(facts(), bid("a", "900.00"), bid("b", "850.00"))


def ranked_two() -> Procedure:
    return evaluated(facts(), bid("a", "900.00"), bid("b", "850.00"))


def nothing() -> Procedure:
    return Procedure()


def price(amount: str) -> Value:
    return Value(amount=Decimal(amount), currency="RON")


@dataclass(frozen=True)
class Case:
    setup: Callable[[], Procedure]
    command: AnyEvaluationCommand
    actor: Actor
    error: type[Rejected]
    code: str
    signature_valid: bool = True


LATER = NOW + DAY
AWARD = DecideAward(ocid=OCID, lot_id=LOT)
COMPLETE = CompleteLotEvaluation(ocid=OCID, lot_id=LOT)
QUALIFY_A = QualifyBid(ocid=OCID, bid_id="a")
COMPLAIN = FileComplaint(ocid=OCID, lot_id=LOT, grounds="Unfair.")
DISMISS = DismissComplaint(ocid=OCID, complaint_id="complaint-1", reason="No.")
ASK_C = RequestJustification(ocid=OCID, lot_id=LOT, bid_id="c", question="How?", respond_by=LATER)
JUSTIFY_C = SubmitJustification(ocid=OCID, lot_id=LOT, bid_id="c", justification="Stock.")
AUCTION_RESULT = RecordAuctionResult(
    ocid=OCID,
    lot_id=LOT,
    final_prices=(
        FinalPrice(bid_id="a", price=price("800.00")),
        FinalPrice(bid_id="b", price=price("840.00")),
    ),
)
START = StartEvaluation(ocid=OCID, facts=facts(), bids=(bid("a", "900.00"),))

CASES = {
    # starting
    "start twice": Case(fresh, START, SYSTEM, WrongState, "already_started"),
    "start by an officer": Case(nothing, START, BUYERS_OFFICER, NotAllowed, "not_allowed"),
    "a step before the start": Case(nothing, QUALIFY_A, ANA, NotFound, "evaluation_not_started"),
    "a step for another tender": Case(
        fresh, QUALIFY_A.model_copy(update={"ocid": "ocds-x"}), ANA, Rejected, "wrong_tender"
    ),
    "start with a bid for an unknown lot": Case(
        nothing,
        START.model_copy(update={"bids": (bid("a", {"lot-9": "1.00"}),)}),
        SYSTEM,
        Rejected,
        "unknown_lot",
    ),
    "start with two bids of one bidder": Case(
        nothing,
        START.model_copy(
            update={"bids": (bid("a", "1.00", bidder="s"), bid("b", "2.00", bidder="s"))}
        ),
        SYSTEM,
        Rejected,
        "duplicate_bid",
    ),
    # qualification and clarifications
    "qualify by a non-member": Case(fresh, QUALIFY_A, BUYERS_OFFICER, NotAllowed, "not_allowed"),
    "qualify by a supplier": Case(fresh, QUALIFY_A, bidder("a"), NotAllowed, "not_allowed"),
    "qualify an unknown bid": Case(
        fresh, QualifyBid(ocid=OCID, bid_id="zz"), ANA, NotFound, "unknown_bid"
    ),
    "qualify with a clarification open": Case(
        clarification_asked, QUALIFY_A, DAN, WrongState, "clarification_open"
    ),
    "disqualify with a clarification open": Case(
        clarification_asked,
        DisqualifyBid(ocid=OCID, bid_id="a", reason="x"),
        DAN,
        WrongState,
        "clarification_open",
    ),
    "qualify after the evaluation": Case(
        ranked_two, QUALIFY_A, ANA, WrongState, "not_in_evaluation"
    ),
    "clarification answered by another bidder": Case(
        clarification_asked,
        AnswerClarification(ocid=OCID, request_id="clarification-1", answer="x"),
        bidder("b"),
        NotAllowed,
        "not_allowed",
    ),
    "clarification answered twice": Case(
        clarification_answered,
        AnswerClarification(ocid=OCID, request_id="clarification-1", answer="x"),
        bidder("a"),
        WrongState,
        "already_answered",
    ),
    "an unknown clarification answered": Case(
        clarification_asked,
        AnswerClarification(ocid=OCID, request_id="clarification-7", answer="x"),
        bidder("a"),
        NotFound,
        "unknown_request",
    ),
    "clarification due in the past": Case(
        fresh,
        RequestClarification(ocid=OCID, bid_id="a", question="?", respond_by=NOW),
        ANA,
        Rejected,
        "respond_by_in_past",
    ),
    "clarification after the evaluation": Case(
        ranked_two,
        RequestClarification(ocid=OCID, bid_id="a", question="?", respond_by=LATER),
        ANA,
        WrongState,
        "not_in_evaluation",
    ),
    # scoring
    "score by a non-member": Case(
        qualified_rated,
        signed_score("officer-ana", LOT, "a", "tech", "50"),
        BUYERS_OFFICER,
        NotAllowed,
        "not_allowed",
    ),
    "score by a member acting for another agency": Case(
        qualified_rated,
        signed_score("officer-ana", LOT, "a", "tech", "50"),
        ANA.model_copy(update={"agency_id": "agency-RO-CUI-1"}),
        NotAllowed,
        "not_allowed",
    ),
    "score on price only": Case(
        fresh, signed_score("officer-ana", LOT, "a", "tech", "50"), ANA, Rejected, "price_only"
    ),
    "score before qualification": Case(
        lambda: started(facts(rated=True), bid("a", "900.00")),
        signed_score("officer-ana", LOT, "a", "tech", "50"),
        ANA,
        WrongState,
        "bid_not_admissible",
    ),
    "score with a bad signature": Case(
        qualified_rated,
        signed_score("officer-ana", LOT, "a", "tech", "50"),
        ANA,
        Rejected,
        "invalid_signature",
        False,
    ),
    "score an unknown criterion": Case(
        qualified_rated,
        signed_score("officer-ana", LOT, "a", "price", "50"),
        ANA,
        NotFound,
        "unknown_criterion",
    ),
    "score an old revision again": Case(
        scored_once,
        signed_score("officer-ana", LOT, "a", "tech", "20", revision=2),
        ANA,
        Rejected,
        "stale_revision",
    ),
    # completing the evaluation
    "complete with bids undecided": Case(
        fresh, COMPLETE, BUYERS_OFFICER, WrongState, "evaluation_incomplete"
    ),
    "complete with scores missing": Case(
        qualified_rated, COMPLETE, BUYERS_OFFICER, WrongState, "evaluation_incomplete"
    ),
    "complete with a clarification open": Case(
        clarification_asked, COMPLETE, BUYERS_OFFICER, WrongState, "evaluation_incomplete"
    ),
    "complete a lot whose every bid was rejected": Case(
        all_disqualified, COMPLETE, BUYERS_OFFICER, WrongState, "lot_unsuccessful"
    ),
    "complete by a supplier": Case(fresh, COMPLETE, bidder("a"), NotAllowed, "not_allowed"),
    "complete twice": Case(ranked_two, COMPLETE, BUYERS_OFFICER, WrongState, "evaluation_complete"),
    # the auction
    "auction result from an officer": Case(
        ready_for_auction, AUCTION_RESULT, BUYERS_OFFICER, NotAllowed, "not_allowed"
    ),
    "auction result without an auction": Case(
        ranked_two, AUCTION_RESULT, SYSTEM, WrongState, "evaluation_complete"
    ),
    "auction result before the auction": Case(
        fresh, AUCTION_RESULT, SYSTEM, WrongState, "evaluation_in_progress"
    ),
    "auction result with a raised price": Case(
        ready_for_auction,
        AUCTION_RESULT.model_copy(
            update={
                "final_prices": (
                    FinalPrice(bid_id="a", price=price("901.00")),
                    FinalPrice(bid_id="b", price=price("1.00")),
                )
            }
        ),
        SYSTEM,
        Rejected,
        "price_increased",
    ),
    "auction result for other bidders": Case(
        ready_for_auction,
        AUCTION_RESULT.model_copy(
            update={"final_prices": (FinalPrice(bid_id="a", price=price("1.00")),)}
        ),
        SYSTEM,
        Rejected,
        "auction_bidders_mismatch",
    ),
    "award while the auction is pending": Case(
        ready_for_auction, AWARD, BUYERS_OFFICER, WrongState, "auction_pending"
    ),
    # abnormally low prices
    "justification for an unflagged bid": Case(
        ranked_two,
        RequestJustification(ocid=OCID, lot_id=LOT, bid_id="a", question="?", respond_by=LATER),
        BUYERS_OFFICER,
        WrongState,
        "not_flagged",
    ),
    "justification before the ranking": Case(
        lambda: started(facts(), bid("a", "1000.00"), bid("c", "700.00")),
        ASK_C,
        BUYERS_OFFICER,
        WrongState,
        "evaluation_in_progress",
    ),
    "justification asked by a member of another agency": Case(
        abnormally_low_case, ASK_C, STRANGER, NotAllowed, "not_allowed"
    ),
    "justification asked twice": Case(
        justification_requested,
        ASK_C,
        BUYERS_OFFICER,
        WrongState,
        "justification_already_requested",
    ),
    "justification sent unasked": Case(
        abnormally_low_case, JUSTIFY_C, bidder("c"), WrongState, "justification_not_requested"
    ),
    "justification sent by another bidder": Case(
        justification_requested, JUSTIFY_C, bidder("a"), NotAllowed, "not_allowed"
    ),
    "justification accepted before it is sent": Case(
        justification_requested,
        AcceptJustification(ocid=OCID, lot_id=LOT, bid_id="c", reason="ok"),
        BUYERS_OFFICER,
        WrongState,
        "no_justification",
    ),
    # the award
    "award before the evaluation": Case(
        fresh, AWARD, BUYERS_OFFICER, WrongState, "evaluation_incomplete"
    ),
    "award by a committee member of another agency": Case(
        ranked_two, AWARD, STRANGER, NotAllowed, "not_allowed"
    ),
    "award by the system": Case(ranked_two, AWARD, SYSTEM, NotAllowed, "not_allowed"),
    "award of a flagged bid": Case(
        abnormally_low_case, AWARD, BUYERS_OFFICER, WrongState, "abnormally_low_unresolved"
    ),
    "award to a bid that is not the best": Case(
        ranked_two,
        AWARD.model_copy(update={"expected_winner": "a"}),
        BUYERS_OFFICER,
        Rejected,
        "ranking_changed",
    ),
    "award a lot left with no bid": Case(
        lone_bid_rejected, AWARD, BUYERS_OFFICER, WrongState, "lot_unsuccessful"
    ),
    "award twice": Case(two_bids_awarded, AWARD, BUYERS_OFFICER, WrongState, "awarded"),
    # complaints
    "complaint before the award": Case(
        ranked_two, COMPLAIN, bidder("a"), WrongState, "evaluation_complete"
    ),
    "complaint after the standstill": Case(
        standstill_over, COMPLAIN, bidder("a"), WrongState, "standstill_over"
    ),
    "complaint by a supplier that did not bid": Case(
        two_bids_awarded, COMPLAIN, supplier("supplier-x"), NotAllowed, "not_a_tenderer"
    ),
    "complaint by an officer": Case(
        two_bids_awarded, COMPLAIN, BUYERS_OFFICER, NotAllowed, "not_a_tenderer"
    ),
    "second complaint while the first is open": Case(
        complained, COMPLAIN, bidder("a"), WrongState, "complaint_pending"
    ),
    "ruling by an officer": Case(complained, DISMISS, BUYERS_OFFICER, NotAllowed, "not_allowed"),
    "ruling by the buyer's own reviewer": Case(
        complained, DISMISS, BUYERS_REVIEWER, NotAllowed, "conflict_of_interest"
    ),
    "ruling twice": Case(complaint_dismissed, DISMISS, REVIEWER, WrongState, "complaint_closed"),
    "ruling on a complaint about a cancelled lot": Case(
        complained_then_cancelled, DISMISS, REVIEWER, WrongState, "complaint_closed"
    ),
    "ruling on an unknown complaint": Case(
        complained,
        DISMISS.model_copy(update={"complaint_id": "complaint-9"}),
        REVIEWER,
        NotFound,
        "unknown_complaint",
    ),
    # cancellation
    "cancel a lot by a supplier": Case(
        fresh, CancelLot(ocid=OCID, lot_id=LOT, reason="x"), bidder("a"), NotAllowed, "not_allowed"
    ),
    "cancel the procedure by the operator": Case(
        fresh, CancelProcedure(ocid=OCID, reason="x"), OPERATOR, NotAllowed, "not_allowed"
    ),
}


@pytest.mark.parametrize("case", CASES.values(), ids=CASES.keys())
def test_a_step_out_of_order_is_refused_and_records_nothing(case: Case) -> None:
    """Each step out of order raises its error with its code, and the state stays as it was."""
    procedure = case.setup()
    before, recorded = procedure.state, len(procedure.events)
    with pytest.raises(case.error) as refused:
        procedure.do(case.command, case.actor, signature_valid=case.signature_valid)
    assert type(refused.value) is case.error
    assert refused.value.code == case.code
    assert refused.value.detail
    assert (procedure.state, len(procedure.events)) == (before, recorded)
    assert replay(procedure.events) == before


# Evolution: the table is the only way a lot moves


def event_examples() -> dict[str, Event]:
    """One event of each type, about LOT and bid a."""
    common: dict[str, Any] = {"lot_id": LOT, "bid_id": "a"}
    examples: list[Event] = [
        EvaluationStarted(facts=facts(), bids=(bid("a", "900.00"),), started_at=NOW),
        ClarificationRequested(
            request_id="clarification-1",
            bid_id="a",
            bidder_id="supplier-a",
            lot_ids=(LOT,),
            officer_id="officer-ana",
            question="?",
            respond_by=LATER,
        ),
        ProcedureCancelled(officer_id="officer-ion", reason="x"),
        LotEvaluated(lot_id=LOT),
        AbnormallyLowFlagged(
            **common,
            bidder_id="supplier-a",
            price=price("1.00"),
            basis=AbnormallyLowBasis.ESTIMATED_VALUE,
            reference=Decimal(1000),
            share=Decimal(80),
            threshold=Decimal(800),
        ),
        ComplaintFiled(complaint_id="complaint-9", lot_id=LOT, bidder_id="supplier-a", grounds="x"),
    ]
    names = {
        **common,
        "lot_ids": (LOT,),
        "bidder_id": "supplier-a",
        "officer_id": "officer-ion",
        "reason": "x",
    }
    for kind in EVALUATION_EVENTS:
        if kind.__name__ not in {type(e).__name__ for e in examples}:
            fields = {name: value for name, value in names.items() if name in kind.model_fields}
            examples.append(kind.model_construct(**fields))
    return {type(event).__name__: event for event in examples}


EXAMPLES = event_examples()


def lot_in(status: LotStatus) -> Evaluation:
    procedure = {
        LotStatus.EVALUATION: fresh,
        LotStatus.AUCTION: ready_for_auction,
        LotStatus.RANKED: ranked_two,
        LotStatus.AWARDED: two_bids_awarded,
        LotStatus.SUSPENDED: complained,
        LotStatus.CANCELLED: cancelled_lot,
        LotStatus.UNSUCCESSFUL: lone_bid_rejected,
        LotStatus.CONTRACTED: contracted,
    }[status]()
    assert procedure.evaluation.lots[LOT].status is status
    return procedure.evaluation


def contracted() -> Procedure:
    procedure = two_bids_awarded()
    procedure.do(RecordContractConcluded(ocid=OCID, lot_id=LOT, contract_id="c-1"), SYSTEM)
    return procedure


def cancelled_lot() -> Procedure:
    procedure = fresh()
    procedure.do(CancelLot(ocid=OCID, lot_id=LOT, reason="x"), BUYERS_OFFICER)
    return procedure


ILLEGAL = [
    (status, kind)
    for status in LotStatus
    for kind in sorted(EXAMPLES)
    if (status, kind) not in LOT_LIFECYCLE
    # With every lot cancelled or unsuccessful, the procedure may still be cancelled as a
    # whole; those lots keep their end.
    and (status, kind)
    not in {
        (LotStatus.CANCELLED, "ProcedureCancelled"),
        (LotStatus.UNSUCCESSFUL, "ProcedureCancelled"),
    }
]


@pytest.mark.parametrize(("status", "kind"), ILLEGAL, ids=str)
def test_evolve_refuses_every_move_outside_the_lifecycle(status: LotStatus, kind: str) -> None:
    """An event that the table does not allow from the lot's status is a corrupt history."""
    with pytest.raises(ValueError, match="cannot happen"):
        evolve(lot_in(status), EXAMPLES[kind])


def test_evolve_refuses_anything_but_a_start_first() -> None:
    """Before EvaluationStarted, no event applies."""
    for kind, event in EXAMPLES.items():
        if kind != "EvaluationStarted":
            with pytest.raises(ValueError, match="cannot happen"):
                evolve(None, event)


def test_every_lot_status_is_reachable_and_every_event_is_in_the_table() -> None:
    """The table names every status and every event type of the evaluation."""
    assert {after for afters in LOT_LIFECYCLE.values() for after in afters} == set(LotStatus)
    assert {kind for _, kind in LOT_LIFECYCLE} == {k.__name__ for k in EVALUATION_EVENTS}
    assert {k.model_fields["type"].default for k in EVALUATION_EVENTS} == {
        k.__name__ for k in EVALUATION_EVENTS
    }


# Properties over random histories

PRICES = ("600.00", "750.00", "800.00", "900.00", "900.00", "1000.00", "1150.00")
WAITS = (timedelta(0), timedelta(0), timedelta(0), HOUR, HOUR, DAY, 3 * DAY)


@st.composite
def tenders(draw: st.DrawFn) -> tuple[EvaluationFacts, tuple[OpenedBid, ...]]:
    """One or two lots at 1000 RON, priceOnly or rated, with or without an auction, and one to
    three bids on some of the lots, prices and times chosen so that ties and low prices occur."""
    lot_ids = draw(st.sampled_from([(LOT,), (LOT, LOT_2)]))
    tender = facts(
        lots=dict.fromkeys(lot_ids, "1000.00"),
        rated=draw(st.booleans()),
        auction=draw(st.booleans()),
        share=draw(st.sampled_from(["50", "80", "95"])),
        standstill_days=draw(st.integers(0, 5)),
    )
    bids = []
    for n in range(draw(st.integers(1, 3))):
        lots = draw(st.lists(st.sampled_from(lot_ids), min_size=1, unique=True))
        prices = {lot: draw(st.sampled_from(PRICES)) for lot in lots}
        bids.append(bid(f"b{n}", prices, minutes=draw(st.integers(0, 2))))
    return tender, tuple(bids)


@dataclass
class World:
    """What a random actor may refer to: the tender, its bids, and the clock."""

    tender: EvaluationFacts
    bids: tuple[OpenedBid, ...]
    procedure: Procedure

    @property
    def state(self) -> Evaluation:
        return self.procedure.evaluation

    def pool(self) -> list[Actor]:
        bidders = [supplier(b.bidder_id) for b in self.bids]
        return [
            ANA,
            DAN,
            BUYERS_OFFICER,
            STRANGER,
            SYSTEM,
            REVIEWER,
            BUYERS_REVIEWER,
            OPERATOR,
            *bidders,
            supplier("supplier-x"),
        ]


Step = tuple[AnyEvaluationCommand, Actor]
StepMaker = Callable[[st.DataObject, World], Step]


T = TypeVar("T")


def _prefer(data: st.DataObject, fitting: list[T], anything: list[T]) -> T:
    """Mostly something that fits the state, when there is one; sometimes anything at all."""
    fits = data.draw(st.integers(0, 4)) > 0
    if fitting and fits:
        return data.draw(st.sampled_from(fitting))
    return data.draw(st.sampled_from(anything))


def _lots_in(world: World, *statuses: LotStatus) -> list[str]:
    return sorted(lot_id for lot_id, lot in world.state.lots.items() if lot.status in statuses)


def _bid_and_lot(data: st.DataObject, world: World, *statuses: LotStatus) -> tuple[OpenedBid, str]:
    """A bid and a lot: mostly a lot it offers for, in one of ``statuses`` if given."""
    fitting = [
        (b, lot_id)
        for b in world.bids
        for lot_id in b.lot_ids
        if not statuses or world.state.lots[lot_id].status in statuses
    ]
    anything = [(b, lot_id) for b in world.bids for lot_id in (LOT, LOT_2)]
    return _prefer(data, fitting, anything)


def _respond_by(data: st.DataObject, world: World) -> datetime:
    return world.procedure.now + data.draw(st.sampled_from([-HOUR, HOUR, DAY, 3 * DAY]))


def _member(data: st.DataObject) -> Actor:
    return data.draw(st.sampled_from([ANA, DAN]))


def _qualify(data: st.DataObject, world: World) -> Step:
    chosen, _ = _bid_and_lot(data, world, LotStatus.EVALUATION)
    if data.draw(st.integers(0, 4)):
        return QualifyBid(ocid=OCID, bid_id=chosen.bid_id), _member(data)
    return DisqualifyBid(ocid=OCID, bid_id=chosen.bid_id, reason="Missing papers."), _member(data)


def _clarify(data: st.DataObject, world: World) -> Step:
    chosen, _ = _bid_and_lot(data, world, LotStatus.EVALUATION)
    respond_by = _respond_by(data, world)
    command = RequestClarification(
        ocid=OCID, bid_id=chosen.bid_id, question="?", respond_by=respond_by
    )
    return command, _member(data)


def _answer(data: st.DataObject, world: World) -> Step:
    requests = world.state.clarifications
    request_id = _prefer(
        data,
        sorted(r for r, c in requests.items() if c.answer is None),
        [*sorted(requests), "clarification-9"],
    )
    asked = requests.get(request_id)
    who = supplier(asked.bidder_id if asked else world.bids[0].bidder_id)
    return AnswerClarification(ocid=OCID, request_id=request_id, answer="Yes."), who


def _score(data: st.DataObject, world: World) -> Step:
    member = _member(data)
    unscored = [
        (b.bid_id, lot_id, criterion.id)
        for lot_id in _lots_in(world, LotStatus.EVALUATION)
        for b in world.bids
        if (decision := world.state.lots[lot_id].decisions.get(b.bid_id)) and decision.admissible
        for criterion in world.tender.quality_criteria
        if (b.bid_id, criterion.id, member.id) not in world.state.lots[lot_id].scores
    ]
    anything = [
        (b.bid_id, lot_id, c)
        for b in world.bids
        for lot_id in b.lot_ids
        for c in ("tech", "delivery")
    ]
    bid_id, lot_id, criterion = _prefer(data, unscored, anything)
    previous = world.state.lots[lot_id].scores.get((bid_id, criterion, member.id))
    revision = max(
        (previous.revision if previous else 0) + data.draw(st.sampled_from([1, 1, 1, 0])), 1
    )
    given = data.draw(st.sampled_from(["0", "55.5", "100"]))
    return signed_score(member.id, lot_id, bid_id, criterion, given, revision), member


def _complete(data: st.DataObject, world: World) -> Step:
    lot_id = _prefer(data, _lots_in(world, LotStatus.EVALUATION), [LOT, LOT_2])
    return CompleteLotEvaluation(ocid=OCID, lot_id=lot_id), data.draw(
        st.sampled_from([BUYERS_OFFICER, ANA, SYSTEM])
    )


def _auction(data: st.DataObject, world: World) -> Step:
    lot_id = _prefer(data, _lots_in(world, LotStatus.AUCTION), sorted(world.state.lots))
    factors = st.sampled_from(["0.5", "0.9", "1", "1", "1.01"])
    finals = tuple(
        FinalPrice(
            bid_id=entry.bid_id,
            price=price(
                str(
                    (entry.initial_price.amount * Decimal(data.draw(factors))).quantize(
                        Decimal("0.01")
                    )
                )
            ),
        )
        for entry in world.state.lots[lot_id].auction or ()
    ) or (FinalPrice(bid_id=world.bids[0].bid_id, price=price("1.00")),)
    return RecordAuctionResult(ocid=OCID, lot_id=lot_id, final_prices=finals), SYSTEM


def _justification(data: st.DataObject, world: World) -> Step:
    flagged = [
        (world.state.bids[bid_id], lot_id)
        for lot_id in _lots_in(world, LotStatus.RANKED)
        for bid_id in world.state.lots[lot_id].flags or {}
    ]
    chosen, lot_id = _prefer(
        data, flagged, [(b, lot_id) for b in world.bids for lot_id in b.lot_ids]
    )
    names: dict[str, Any] = {"ocid": OCID, "lot_id": lot_id, "bid_id": chosen.bid_id}
    flag = (world.state.lots[lot_id].flags or {}).get(chosen.bid_id)
    step = {FlagStatus.FLAGGED: 0, FlagStatus.REQUESTED: 1}.get(flag.status, 2) if flag else 0
    match _prefer(data, [step], [0, 1, 2, 3]):
        case 0:
            respond_by = _respond_by(data, world)
            return RequestJustification(
                **names, question="?", respond_by=respond_by
            ), BUYERS_OFFICER
        case 1:
            return SubmitJustification(**names, justification="Own stock."), supplier(
                chosen.bidder_id
            )
        case 2 if data.draw(st.booleans()):
            return AcceptJustification(**names, reason="Convincing."), BUYERS_OFFICER
    return RejectJustification(**names, reason="Not convincing."), BUYERS_OFFICER


def _award(data: st.DataObject, world: World) -> Step:
    lot_id = _prefer(data, _lots_in(world, LotStatus.RANKED), [LOT, LOT_2])
    return DecideAward(ocid=OCID, lot_id=lot_id), BUYERS_OFFICER


def _complain(data: st.DataObject, world: World) -> Step:
    chosen, lot_id = _bid_and_lot(data, world, LotStatus.AWARDED, LotStatus.SUSPENDED)
    return FileComplaint(ocid=OCID, lot_id=lot_id, grounds="Unfair."), supplier(chosen.bidder_id)


def _rule(data: st.DataObject, world: World) -> Step:
    complaints = world.state.complaints
    open_ = sorted(
        c for c, complaint in complaints.items() if complaint.status is ComplaintStatus.OPEN
    )
    complaint_id = _prefer(data, open_, [*sorted(complaints), "complaint-9"])
    if data.draw(st.booleans()):
        return DismissComplaint(ocid=OCID, complaint_id=complaint_id, reason="No."), REVIEWER
    remedy = data.draw(st.sampled_from([Remedy.RE_EVALUATE, Remedy.RE_EVALUATE, Remedy.CANCEL]))
    return UpholdComplaint(
        ocid=OCID, complaint_id=complaint_id, remedy=remedy, reason="Yes."
    ), REVIEWER


def _cancel(data: st.DataObject, world: World) -> Step:
    if data.draw(st.integers(0, 3)):
        lot_id = data.draw(st.sampled_from([LOT, LOT_2]))
        return CancelLot(ocid=OCID, lot_id=lot_id, reason="Budget."), BUYERS_OFFICER
    return CancelProcedure(ocid=OCID, reason="Needs changed."), BUYERS_OFFICER


def _restart(data: st.DataObject, world: World) -> Step:
    return StartEvaluation(ocid=OCID, facts=world.tender, bids=world.bids), SYSTEM


# How often each kind of step is drawn when it is not chosen from useful_steps.
WEIGHTS: dict[StepMaker, int] = {
    _qualify: 12,
    _clarify: 2,
    _answer: 4,
    _score: 18,
    _complete: 9,
    _auction: 6,
    _justification: 15,
    _award: 9,
    _complain: 9,
    _rule: 9,
    _cancel: 1,
    _restart: 1,
}
STEPS = [maker for maker, weight in WEIGHTS.items() for _ in range(weight)]


def useful_steps(world: World) -> list[StepMaker]:
    """The kinds of step that have something to act on now."""
    state, now = world.state, world.procedure.now
    lots = state.lots.values()
    evaluating = [lot for lot in lots if lot.status is LotStatus.EVALUATION]
    steps: list[StepMaker] = [_award]  # refused, mostly
    if any(
        b.bid_id not in lot.decisions and lot.lot_id in b.lot_ids
        for lot in evaluating
        for b in world.bids
    ):
        steps += [_qualify] * 3
    if evaluating and world.tender.quality_criteria:
        steps += [_score] * 3
    if evaluating:
        steps += [_complete, _clarify]
    if any(c.is_open(now) for c in state.clarifications.values()):
        steps += [_answer] * 2
    if any(lot.status is LotStatus.AUCTION for lot in lots):
        steps += [_auction]
    if any(lot.flags and lot.status is LotStatus.RANKED for lot in lots):
        steps += [_justification] * 2
    if any(lot.status is LotStatus.RANKED for lot in lots):
        steps += [_award]
    if any(lot.status in (LotStatus.AWARDED, LotStatus.SUSPENDED) for lot in lots):
        steps += [_complain]
    if any(c.status is ComplaintStatus.OPEN for c in state.complaints.values()):
        steps += [_rule]
    return steps


def named_lots(before: Evaluation | None, event: Event) -> set[str]:
    if isinstance(event, EvaluationStarted):
        return {lot.lot_id for lot in event.facts.lots}
    assert before is not None
    if isinstance(event, ProcedureCancelled):  # a lot cancelled or unsuccessful keeps its end
        ended = (LotStatus.CANCELLED, LotStatus.UNSUCCESSFUL)
        return {lot_id for lot_id, lot in before.lots.items() if lot.status not in ended}
    lot_ids: tuple[str, ...] = getattr(event, "lot_ids", ())
    return set(lot_ids or (getattr(event, "lot_id"),))  # noqa: B009  (Event has no lot_id)


def check_moves(before: Evaluation | None, after: Evaluation, event: Event) -> None:
    """Only the lots the event is about move, and only as the table allows."""
    kind = type(event).__name__
    named = named_lots(before, event)
    for lot_id, lot in after.lots.items():
        was = before.lots[lot_id].status if before else None
        if lot_id in named:
            assert lot.status in LOT_LIFECYCLE[was, kind], (was, kind, lot.status)
        else:
            assert lot.status is was


def check_invariants(state: Evaluation, now: datetime) -> None:
    """An awarded lot has an admissible winner whose price, if it was flagged, was justified;
    a suspended lot has an open complaint, an awarded one none, and no other lot has one; a lot in evaluation has
    no award and no abnormally-low checks yet."""
    for complaint in state.complaints.values():
        if complaint.status is ComplaintStatus.OPEN:
            assert state.lots[complaint.lot_id].status is LotStatus.SUSPENDED
    for lot_id, lot in state.lots.items():
        complaints = [
            c
            for c in state.complaints.values()
            if c.lot_id == lot_id and c.status is ComplaintStatus.OPEN
        ]
        if lot.status in (LotStatus.AWARDED, LotStatus.SUSPENDED):
            assert lot.award is not None
            assert lot.decisions[lot.award.bid_id].admissible
            assert lot_id in state.bids[lot.award.bid_id].lot_ids
            flag = (lot.flags or {}).get(lot.award.bid_id)
            assert flag is None or flag.status is FlagStatus.ACCEPTED
            assert bool(complaints) is (lot.status is LotStatus.SUSPENDED)
        if lot.status in (LotStatus.EVALUATION, LotStatus.AUCTION):
            assert lot.award is None
            assert lot.flags is None
        if lot.status is LotStatus.RANKED:
            assert lot.flags is not None
        if contract_may_be_signed(state, lot_id, now):
            assert lot.status is LotStatus.AWARDED
            assert not complaints


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(tender=tenders(), data=st.data())
def test_random_histories_keep_the_invariants_and_replay_to_the_same_state(
    tender: tuple[EvaluationFacts, tuple[OpenedBid, ...]], data: st.DataObject
) -> None:
    """Random steps by random actors, valid or not: the refused ones raise a Rejected and
    record nothing; the accepted ones move lots only as the table allows and keep every
    award sound; and the events, through JSON, replay to the state built step by step."""
    facts_, bids = tender
    world = World(facts_, bids, started(facts_, *bids))
    for _ in range(data.draw(st.integers(10, 100))):
        world.procedure.wait(data.draw(st.sampled_from(WAITS)))
        command, right = _prefer(data, useful_steps(world), STEPS)(data, world)
        actor = right if data.draw(st.integers(0, 9)) else data.draw(st.sampled_from(world.pool()))
        valid = bool(data.draw(st.integers(0, 19)))
        before = world.state
        try:
            events = decide(before, command, actor, world.procedure.now, signature_valid=valid)
        except Rejected:
            assert world.state is before
            continue
        assert events, f"{type(command).__name__} was accepted but recorded nothing"
        state: Evaluation | None = before
        for event in events:
            after = evolve(state, event)
            check_moves(state, after, event)
            state = after
        world.procedure.state = state
        world.procedure.events += events
        check_invariants(world.state, world.procedure.now)
    through_json = [
        EVENT.validate_json(event.model_dump_json()) for event in world.procedure.events
    ]
    assert replay(through_json) == world.state
