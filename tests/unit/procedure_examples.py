"""One example of every evaluation event, made by running short procedures through the
domain itself, so the examples are always valid and consistent."""

from datetime import timedelta
from decimal import Decimal

from schemas.evaluation import (
    AcceptJustification,
    AnnulAward,
    AnnulmentReason,
    AnswerClarification,
    CancelLot,
    CancelProcedure,
    ClarificationRequested,
    ComplaintFiled,
    CompleteLotEvaluation,
    DecideAward,
    DismissComplaint,
    DisqualifyBid,
    FileComplaint,
    FinalPrice,
    RecordAuctionResult,
    RecordContractConcluded,
    RejectJustification,
    Remedy,
    RequestClarification,
    RequestJustification,
    SubmitJustification,
    UpholdComplaint,
)
from schemas.events import Event
from schemas.values import Value
from tests.unit.evaluation_examples import (
    ANA,
    BUYERS_OFFICER,
    LOT,
    OCID,
    REVIEWER,
    SYSTEM,
    bid,
    bidder,
    facts,
    qualify_all,
    signed_score,
    started,
)


def evaluation_events() -> list[Event]:
    events: list[Event] = []

    # Rated, with a clarification, scores, an award and two complaints.
    rated = started(facts(rated=True), bid("a", "900.00"), bid("b", "950.00", minutes=1))
    [asked] = rated.do(
        RequestClarification(
            ocid=OCID,
            bid_id="a",
            question="Which paper mill?",
            respond_by=rated.now + timedelta(days=2),
        ),
        ANA,
    )
    assert isinstance(asked, ClarificationRequested)
    rated.do(
        AnswerClarification(ocid=OCID, request_id=asked.request_id, answer="Letea Bacău"),
        bidder("a"),
    )
    qualify_all(rated, "a", "b")
    for bid_id in ("a", "b"):
        for criterion in ("tech", "delivery"):
            rated.do(signed_score("officer-ana", LOT, bid_id, criterion, "80"), ANA)
    rated.do(CompleteLotEvaluation(ocid=OCID, lot_id=LOT), BUYERS_OFFICER)
    rated.do(DecideAward(ocid=OCID, lot_id=LOT), BUYERS_OFFICER)
    [filed] = rated.do(
        FileComplaint(ocid=OCID, lot_id=LOT, grounds="The scores were unfair"), bidder("b")
    )
    rated.do(
        DismissComplaint(ocid=OCID, complaint_id=_complaint(filed), reason="Unfounded"), REVIEWER
    )
    [again] = rated.do(FileComplaint(ocid=OCID, lot_id=LOT, grounds="New evidence"), bidder("b"))
    rated.do(
        UpholdComplaint(
            ocid=OCID,
            complaint_id=_complaint(again),
            remedy=Remedy.RE_EVALUATE,
            reason="Founded",
        ),
        REVIEWER,
    )
    events += rated.events

    # Abnormally low prices, one justification accepted and one rejected.
    low = started(
        facts(), bid("a", "500.00"), bid("b", "1000.00", minutes=1), bid("c", "510.00", minutes=2)
    )
    qualify_all(low, "a", "b", "c")
    low.do(CompleteLotEvaluation(ocid=OCID, lot_id=LOT), BUYERS_OFFICER)
    for bid_id, decision in (("a", AcceptJustification), ("c", RejectJustification)):
        low.do(
            RequestJustification(
                ocid=OCID,
                lot_id=LOT,
                bid_id=bid_id,
                question="How?",
                respond_by=low.now + timedelta(days=3),
            ),
            BUYERS_OFFICER,
        )
        low.do(
            SubmitJustification(ocid=OCID, lot_id=LOT, bid_id=bid_id, justification="Own stock"),
            bidder(bid_id),
        )
        low.do(decision(ocid=OCID, lot_id=LOT, bid_id=bid_id, reason="Checked"), BUYERS_OFFICER)
    events += low.events

    # An auction, a disqualification, and cancellations.
    auction = started(
        facts(auction=True),
        bid("a", "1000.00"),
        bid("b", "950.00", minutes=1),
        bid("c", "990.00", minutes=2),
    )
    qualify_all(auction, "a", "b")
    auction.do(DisqualifyBid(ocid=OCID, bid_id="c", reason="No quality certificate"), ANA)
    auction.do(CompleteLotEvaluation(ocid=OCID, lot_id=LOT), SYSTEM)
    final = tuple(
        FinalPrice(bid_id=b, price=Value(amount=Decimal(p), currency="RON"))
        for b, p in (("a", "900.00"), ("b", "890.00"))
    )
    auction.do(RecordAuctionResult(ocid=OCID, lot_id=LOT, final_prices=final), SYSTEM)
    events += auction.events
    two_lots = started(
        facts(lots={"lot-1": "1000.00", "lot-2": "500.00"}),
        bid("a", {"lot-1": "900.00", "lot-2": "450.00"}),
    )
    two_lots.do(CancelLot(ocid=OCID, lot_id="lot-2", reason="No longer needed"), BUYERS_OFFICER)
    two_lots.do(CancelProcedure(ocid=OCID, reason="Budget withdrawn"), BUYERS_OFFICER)
    events += two_lots.events

    # The winner refuses: annulled, the next bid awarded and contracted; lot-2 had no bid.
    annulled = started(
        facts(lots={"lot-1": "1000.00", "lot-2": "500.00"}),
        bid("a", "900.00"),
        bid("b", "950.00", minutes=1),
    )
    qualify_all(annulled, "a", "b")
    annulled.do(CompleteLotEvaluation(ocid=OCID, lot_id=LOT), BUYERS_OFFICER)
    for reason_code in (AnnulmentReason.REFUSED_TO_SIGN, AnnulmentReason.EXCLUSION_GROUND):
        annulled.do(DecideAward(ocid=OCID, lot_id=LOT), BUYERS_OFFICER)
        annulled.do(
            AnnulAward(ocid=OCID, lot_id=LOT, reason_code=reason_code, reason="As recorded"),
            BUYERS_OFFICER,
        )
    events += annulled.events  # the second annulment leaves lot-1 unsuccessful
    contracted = started(facts(), bid("a", "900.00"))
    qualify_all(contracted, "a")
    contracted.do(CompleteLotEvaluation(ocid=OCID, lot_id=LOT), BUYERS_OFFICER)
    contracted.do(DecideAward(ocid=OCID, lot_id=LOT), BUYERS_OFFICER)
    contracted.do(
        RecordContractConcluded(ocid=OCID, lot_id=LOT, contract_id=f"{OCID}:contract:{LOT}"),
        SYSTEM,
    )
    events += contracted.events
    return events


def _complaint(event: Event) -> str:
    assert isinstance(event, ComplaintFiled)
    return event.complaint_id


def contract_events() -> list[Event]:
    """A contract's whole life, an amendment, milestones, payments and a termination."""
    from tests.unit import test_contracts as life

    events: list[Event] = []
    for built in (life.completed(), life.terminated(), life.paid_in_part(), life.with_milestones()):
        events += built.events
    amended = life.active()
    amended.amend("105000.00")
    return events + amended.events


def auction_events() -> list[Event]:
    """An auction with accepted and refused prices and its close, and a cancelled one."""
    from procurement import auction
    from tests.unit import test_auction as rounds

    run = rounds.opened(*rounds.THREE)
    run.price("bravo", "990.00", rounds.seconds(5))
    run.price("alpha", "999.00", rounds.seconds(6))  # not the minimum decrement: refused
    run.apply(auction.close_if_due(run.state, rounds.PLATFORM, rounds.seconds(60)))
    cancelled = rounds.scheduled(*rounds.THREE)
    cancelled.apply(
        auction.cancel(cancelled.state, BUYERS_OFFICER, "The lot was cancelled", rounds.T0)
    )
    return run.events + cancelled.events
