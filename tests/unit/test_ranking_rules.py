"""How a lot is ranked and who may be awarded it, over the pure domain: one tie-break rule for
the auction and the evaluation, an upheld complaint on an auction lot re-evaluated on the
auction's final prices, qualification lot by lot, and the bid's own promises."""

import copy
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import pytest

from procurement import auction
from procurement.errors import Rejected, WrongState
from procurement.evaluation import LotStatus, ranking
from procurement.evaluation.promises import broken_promises
from schemas.auction import AuctionClosed
from schemas.evaluation import (
    AwardDecided,
    BidQualified,
    CompleteLotEvaluation,
    DecideAward,
    DisqualifyBid,
    FileComplaint,
    FinalPrice,
    LossReason,
    LotEvaluated,
    LotReadyForAuction,
    OpenedBid,
    QualifyBid,
    Remedy,
    UpholdComplaint,
)
from schemas.values import AuctionEnd, AuctionRules
from sdk.audit import evidence as read
from sdk.audit.model import DecidedLot
from sdk.audit.ranking import check_lot
from sdk.audit.report import Check
from tests.unit import audit_examples as audit
from tests.unit.evaluation_examples import (
    ANA,
    BUYERS_OFFICER,
    DAY,
    LOT,
    LOT_2,
    NOW,
    OCID,
    REVIEWER,
    SYSTEM,
    Procedure,
    bid,
    bidder,
    facts,
    qualify_all,
    started,
)

RULES = AuctionRules(ends=AuctionEnd.FIXED_TIME, duration_seconds=60)
STARTS = NOW + 3 * DAY


def auctioned(procedure: Procedure, prices: list[tuple[str, str]]) -> AuctionClosed:
    """The lot's auction, as the platform runs it from the evaluation's hand-over: these
    prices (bid id, amount) accepted in this order, then closed; its result recorded."""
    [scheduled] = auction.schedule_from_evaluation(
        None, procedure.evaluation, RULES, BUYERS_OFFICER, lot_id=LOT, starts_at=STARTS, now=NOW
    )
    state = auction.evolve(None, scheduled)
    for event in auction.open_auction(state, SYSTEM, STARTS):
        state = auction.evolve(state, event)
    for n, (bid_id, amount) in enumerate(prices, 1):
        at = STARTS + timedelta(seconds=n)
        for event in auction.submit_price(state, f"supplier-{bid_id}", Decimal(amount), at):
            state = auction.evolve(state, event)
    [closed] = auction.close_if_due(state, SYSTEM, STARTS + timedelta(minutes=2))
    assert isinstance(closed, AuctionClosed)
    procedure.do(auction.result(closed, state), SYSTEM)
    return closed


def ready_for_auction(*bids: OpenedBid) -> Procedure:
    procedure = started(facts(auction=True), *bids)
    qualify_all(procedure, *(b.bid_id for b in bids))
    [ready] = procedure.do(CompleteLotEvaluation(ocid=OCID, lot_id=LOT), BUYERS_OFFICER)
    assert isinstance(ready, LotReadyForAuction)
    return procedure


def award(procedure: Procedure, lot_id: str = LOT) -> AwardDecided:
    [decided] = procedure.do(DecideAward(ocid=OCID, lot_id=lot_id), BUYERS_OFFICER)
    assert isinstance(decided, AwardDecided)
    return decided


# One tie-break rule


def test_equal_auction_prices_go_to_the_bidder_who_reached_them_first_in_the_award_too() -> None:
    """a's bid was received first, but b reached 950.00 first in the auction: the auction,
    the evaluation's ranking and the award all put b first, and a is told why."""
    procedure = ready_for_auction(bid("a", "1000.00"), bid("b", "1100.00", minutes=5))
    closed = auctioned(procedure, [("b", "950.00"), ("a", "950.00")])
    assert [(r.bid_id, r.auction_sequence) for r in closed.ranking] == [("b", 1), ("a", 2)]
    rows = ranking(procedure.evaluation, LOT)
    assert [(r.bid_id, r.total, r.auction_sequence) for r in rows] == [
        ("b", Decimal("100.0000"), 1),
        ("a", Decimal("100.0000"), 2),
    ]
    decided = award(procedure)
    assert decided.bid_id == "b"
    [loss] = decided.unsuccessful
    assert (loss.bid_id, loss.reason_code) == ("a", LossReason.TIE_REACHED_LATER)
    assert "auction price #1" in loss.reason


def test_a_price_kept_from_the_opening_was_reached_before_any_auction_price() -> None:
    """c lowers to 1000.00 in the auction, where a and b already stood: a and b reached it
    first, and between them the bid received first (b), whatever the bidder ids say."""
    procedure = ready_for_auction(
        bid("a", "1000.00", minutes=5), bid("b", "1000.00"), bid("c", "1200.00", minutes=9)
    )
    closed = auctioned(procedure, [("c", "1000.00")])
    assert [r.bid_id for r in closed.ranking] == ["b", "a", "c"]
    assert [r.bid_id for r in ranking(procedure.evaluation, LOT)] == ["b", "a", "c"]
    decided = award(procedure)
    assert decided.bid_id == "b"
    reasons = {loss.bid_id: loss.reason_code for loss in decided.unsuccessful}
    assert reasons == {"a": LossReason.TIE_RECEIVED_LATER, "c": LossReason.TIE_REACHED_LATER}


def test_an_auction_schedules_its_bidders_in_the_order_their_bids_were_received() -> None:
    """The hand-over lists the bidders by receipt, which the auction's tie-break relies on."""
    procedure = ready_for_auction(bid("a", "900.00", minutes=7), bid("b", "950.00"))
    [ready] = [e for e in procedure.events if isinstance(e, LotReadyForAuction)]
    assert [b.bid_id for b in ready.bidders] == ["b", "a"]


def test_a_result_recorded_before_sequences_were_carried_still_reads() -> None:
    """A stored final price without its auction sequence reads as a price as opened."""
    price = FinalPrice.model_validate(
        {"bid_id": "a", "price": {"amount": "900.00", "currency": "RON"}}
    )
    assert price.auction_sequence == 0


# A complaint upheld on an auction lot


def complained_after_auction(*bids: OpenedBid, prices: list[tuple[str, str]]) -> Procedure:
    """The lot auctioned and awarded, and a complaint about the award upheld."""
    procedure = ready_for_auction(*bids)
    auctioned(procedure, prices)
    award(procedure)
    procedure.do(FileComplaint(ocid=OCID, lot_id=LOT, grounds="The winner lies."), bidder("c"))
    uphold = UpholdComplaint(
        ocid=OCID, complaint_id="complaint-1", remedy=Remedy.RE_EVALUATE, reason="It does."
    )
    procedure.do(uphold, REVIEWER)
    return procedure


def test_an_upheld_complaint_re_ranks_an_auction_lot_on_its_final_prices() -> None:
    """Back in evaluation, the winner is rejected; completing the lot ranks it at once on
    the auction's final prices, without a second auction, and b wins at its auction price."""
    procedure = complained_after_auction(
        bid("a", "1000.00"),
        bid("b", "1100.00", minutes=1),
        bid("c", "1150.00", minutes=2),
        prices=[("b", "950.00"), ("a", "930.00")],
    )
    lot = procedure.evaluation.lots[LOT]
    assert (lot.status, lot.award, lot.final_prices) == (
        LotStatus.EVALUATION,
        None,
        {"a": Decimal("930.00"), "b": Decimal("950.00"), "c": Decimal("1150.00")},
    )
    procedure.do(DisqualifyBid(ocid=OCID, bid_id="a", reason="Experience not proven."), ANA)
    completed = procedure.do(CompleteLotEvaluation(ocid=OCID, lot_id=LOT), BUYERS_OFFICER)
    assert isinstance(completed[0], LotEvaluated)
    assert procedure.evaluation.lots[LOT].status is LotStatus.RANKED
    decided = award(procedure)
    assert (decided.bid_id, decided.value.amount) == ("b", Decimal("950.00"))


def test_the_one_bid_left_after_an_upheld_complaint_keeps_its_auction_price() -> None:
    """With one admissible bid left, the award is at its auction price, not as opened."""
    procedure = complained_after_auction(
        bid("a", "1000.00"),
        bid("c", "1100.00", minutes=1),
        prices=[("c", "990.00"), ("a", "980.00")],
    )
    procedure.do(DisqualifyBid(ocid=OCID, bid_id="a", reason="Experience not proven."), ANA)
    procedure.do(CompleteLotEvaluation(ocid=OCID, lot_id=LOT), BUYERS_OFFICER)
    decided = award(procedure)
    assert (decided.bid_id, decided.value.amount) == ("c", Decimal("990.00"))


# Qualification per lot


def two_lots() -> Procedure:
    return started(
        facts(lots={LOT: "1000.00", LOT_2: "1000.00"}),
        bid("a", {LOT: "800.00", LOT_2: "800.00"}),
        bid("b", {LOT: "900.00", LOT_2: "900.00"}, minutes=1),
    )


def test_a_bid_is_admissible_for_one_lot_and_rejected_for_another() -> None:
    """a is qualified for lot 1 and rejected for lot 2: each lot keeps its own decision and
    is awarded on it."""
    procedure = two_lots()
    procedure.do(QualifyBid(ocid=OCID, bid_id="a", lot_id=LOT), ANA)
    [rejected] = procedure.do(
        DisqualifyBid(ocid=OCID, bid_id="a", lot_id=LOT_2, reason="No samples for lot 2."), ANA
    )
    assert rejected.lot_ids == (LOT_2,)  # type: ignore[attr-defined]
    procedure.do(QualifyBid(ocid=OCID, bid_id="b"), ANA)  # no lot: every lot it offers for
    lots = procedure.evaluation.lots
    assert (lots[LOT].decisions["a"].admissible, lots[LOT_2].decisions["a"].admissible) == (
        True,
        False,
    )
    assert lots[LOT_2].decisions["b"].admissible
    winners = {}
    for lot_id in (LOT, LOT_2):
        procedure.do(CompleteLotEvaluation(ocid=OCID, lot_id=lot_id), BUYERS_OFFICER)
        winners[lot_id] = award(procedure, lot_id).bid_id
    assert winners == {LOT: "a", LOT_2: "b"}


def test_a_decision_for_a_lot_the_bid_does_not_offer_for_or_not_in_evaluation_is_refused() -> None:
    """The lot must be one the bid offers for, and still in evaluation."""
    procedure = started(
        facts(lots={LOT: "1000.00", LOT_2: "1000.00"}),
        bid("a", "800.00"),
        bid("b", {LOT: "900.00", LOT_2: "900.00"}),
    )
    with pytest.raises(Rejected) as refused:
        procedure.do(QualifyBid(ocid=OCID, bid_id="a", lot_id=LOT_2), ANA)
    assert refused.value.code == "no_offer_for_lot"
    qualify_all(procedure, "a", "b")
    procedure.do(CompleteLotEvaluation(ocid=OCID, lot_id=LOT), BUYERS_OFFICER)
    with pytest.raises(WrongState) as closed:
        procedure.do(DisqualifyBid(ocid=OCID, bid_id="b", lot_id=LOT, reason="Late."), ANA)
    assert closed.value.code == "evaluation_complete"
    procedure.do(DisqualifyBid(ocid=OCID, bid_id="b", lot_id=LOT_2, reason="Late."), ANA)
    assert procedure.evaluation.lots[LOT].decisions["b"].admissible


# The bid's own promises


def promising(**promises: object) -> OpenedBid:
    return bid("a", "900.00").model_copy(update=promises)


@pytest.mark.parametrize(
    ("promises", "code"),
    [
        ({"valid_until": NOW.date() - timedelta(days=1)}, "validity_expired"),
        ({"no_exclusion_grounds": False}, "exclusion_ground_declared"),
        ({"meets_selection_criteria": False}, "selection_criteria_not_met"),
    ],
)
def test_a_bid_whose_promises_fail_is_admitted_only_with_a_recorded_reason(
    promises: dict[str, object], code: str
) -> None:
    """Expired validity, a declared exclusion ground or an unmet selection criterion: a plain
    qualification is refused with a code naming it; with the committee's reason it is
    recorded with that reason."""
    procedure = started(facts(), promising(**promises))
    with pytest.raises(WrongState) as refused:
        procedure.do(QualifyBid(ocid=OCID, bid_id="a"), ANA)
    assert refused.value.code == code
    assert "reason" in refused.value.detail
    reason = "Self-cleaning under Article 57(6), validity extended on request."
    [qualified] = procedure.do(QualifyBid(ocid=OCID, bid_id="a", reason=reason), ANA)
    assert isinstance(qualified, BidQualified)
    assert qualified.reason == reason
    assert procedure.evaluation.lots[LOT].decisions["a"].reason == reason


def test_a_bid_whose_promises_fail_is_rejected_without_more_ado() -> None:
    """Rejecting such a bid needs only the rejection's own reason."""
    procedure = started(facts(), promising(no_exclusion_grounds=False))
    procedure.do(DisqualifyBid(ocid=OCID, bid_id="a", reason="Exclusion ground."), ANA)
    assert not procedure.evaluation.lots[LOT].decisions["a"].admissible


def test_a_bid_is_valid_through_its_last_day_and_old_records_promise_nothing() -> None:
    """valid_until is the last day the bid holds; a bid stored before promises were carried
    has none to break."""
    assert broken_promises(promising(valid_until=NOW.date()), NOW) == []
    old = OpenedBid.model_validate(bid("a", "900.00").model_dump(exclude={"valid_until", "no_exclusion_grounds", "meets_selection_criteria"}))  # fmt: skip
    assert broken_promises(old, NOW) == []
    assert old.valid_until is None
    assert isinstance(NOW.date(), date)


# The public re-run of the award


AUCTION_TIE = audit.lot(
    "auction-tie",
    [
        audit.bid("b-1", "1000", audit.T9, final_price="930"),
        audit.bid("b-2", "1100", audit.T10, final_price="930"),
    ],
    [
        audit.row(1, "b-2", "930", "100.0000", "0.0000", "100.0000", lowest="930"),
        audit.row(2, "b-1", "930", "100.0000", "0.0000", "100.0000", lowest="930"),
    ],
    estimate="1100",
    auction={
        "participants": [
            {"label": "Bidder 1", "initial_price": "1000", "quality_part": "0"},
            {"label": "Bidder 2", "initial_price": "1100", "quality_part": "0"},
        ],
        "history": [
            {"sequence": 1, "label": "Bidder 2", "price": "930.00", "at": audit.T10, "round": 1},
            {"sequence": 2, "label": "Bidder 1", "price": "930.00", "at": audit.T11, "round": 1},
        ],
        "labels": [
            {"label": "Bidder 1", "bidder_id": "s-b-1", "bid_id": "b-1"},
            {"label": "Bidder 2", "bidder_id": "s-b-2", "bid_id": "b-2"},
        ],
    },
)


def audited(lot: dict[str, Any]) -> list[Check]:
    (only,) = read.lots(audit.OCID, audit.evidence(lot))
    assert isinstance(only, DecidedLot)
    return check_lot(only)


def test_the_audit_gives_an_auction_tie_to_the_price_reached_first() -> None:
    """b-1 was received first, but b-2 reached 930 first in the auction: the audit verifies
    b-2's award, and names the rule when the evidence says otherwise."""
    checks = audited(AUCTION_TIE)
    assert [check.line for check in checks if not check.ok] == []
    assert any("tie at 100.0000 to b-2, reached first in the auction" in c.line for c in checks)
    lot = copy.deepcopy(AUCTION_TIE)
    lot["ranking"].reverse()
    lot["award"]["bid_id"] = "b-1"
    problems = [check.line for check in audited(lot) if not check.ok]
    assert any("price reached first in the auction, b-2's" in p for p in problems), problems
    assert any("award" in p and "b-2 ranks first" in p for p in problems)
