"""How a lot ends other than by its first award, on the pure evaluation: the winner's award
annulled and the next-ranked bid awarded, lots left with no bid that can win unsuccessful by
themselves, and a concluded contract or a cancellation that stops everything after it."""

from decimal import Decimal

import pytest

from procurement import tender as tenders
from procurement.errors import NotAllowed, WrongState
from procurement.evaluation import LotStatus, cancel_with_the_tender, evolve, notices, ranking
from publication.savings import awarded_lots
from schemas.commands import Actor, CancelTender
from schemas.evaluation import (
    AnnulAward,
    AnnulmentReason,
    AwardAnnulled,
    AwardDecided,
    CancelLot,
    CancelProcedure,
    CompleteLotEvaluation,
    DecideAward,
    DisqualifyBid,
    LossReason,
    LotEvaluated,
    LotUnsuccessful,
    ProcedureCancelled,
    QualifyBid,
    RecordContractConcluded,
    RejectJustification,
    RequestJustification,
    UnsuccessfulReason,
)
from tests.unit.evaluation_examples import (
    ANA,
    BUYERS_OFFICER,
    DAY,
    LOT,
    LOT_2,
    NOW,
    OCID,
    STRANGER,
    SYSTEM,
    Procedure,
    awarded,
    bid,
    bidder,
    evaluated,
    facts,
    started,
)
from tests.unit.examples import OFFICER as TENDER_OFFICER
from tests.unit.examples import published

REFUSED = AnnulAward(
    ocid=OCID,
    lot_id=LOT,
    reason_code=AnnulmentReason.REFUSED_TO_SIGN,
    reason="The winner wrote on 3 June that it will not sign.",
)


def three_bids_awarded() -> Procedure:
    return awarded(facts(), bid("a", "900.00"), bid("b", "950.00"), bid("c", "980.00"))


def test_an_annulled_award_goes_to_the_next_ranked_bid_with_a_new_award_id() -> None:
    """The refusing winner leaves the ranking for good; the next-ranked bid wins, under a
    new award id, and the annulled bid is told why it did not win."""
    procedure = three_bids_awarded()
    [annulled] = procedure.do(REFUSED, BUYERS_OFFICER)
    assert isinstance(annulled, AwardAnnulled)
    assert (annulled.bid_id, annulled.award_number) == ("a", 1)
    lot = procedure.evaluation.lots[LOT]
    assert lot.status is LotStatus.RANKED
    assert lot.annulled == {"a": AnnulmentReason.REFUSED_TO_SIGN}
    assert [row.bid_id for row in ranking(procedure.evaluation, LOT)] == ["b", "c"]

    [second] = procedure.do(DecideAward(ocid=OCID, lot_id=LOT), BUYERS_OFFICER)
    assert isinstance(second, AwardDecided)
    assert (second.bid_id, second.award_number) == ("b", 2)
    award = procedure.evaluation.lots[LOT].award
    assert award is not None
    assert award.award_id == f"{LOT}:b:2"
    why = {loser.bid_id: loser.reason_code for loser in second.unsuccessful}
    assert why == {"a": LossReason.AWARD_ANNULLED, "c": LossReason.LOWER_SCORE}


def test_annulling_every_award_leaves_the_lot_unsuccessful_by_itself() -> None:
    """When the last bid that could win is annulled, the same decision ends the lot."""
    procedure = awarded(facts(), bid("a", "900.00"), bid("b", "950.00"))
    procedure.do(REFUSED, BUYERS_OFFICER)
    procedure.do(DecideAward(ocid=OCID, lot_id=LOT), BUYERS_OFFICER)
    excluded = REFUSED.model_copy(
        update={"reason_code": AnnulmentReason.EXCLUSION_GROUND, "reason": "Bankrupt."}
    )
    annulled, ended = procedure.do(excluded, BUYERS_OFFICER)
    assert isinstance(annulled, AwardAnnulled)
    assert annulled.award_number == 2
    assert isinstance(ended, LotUnsuccessful)
    assert ended.reason_code is UnsuccessfulReason.NO_BID_LEFT
    assert "bid a" in ended.reason
    assert "bid b" in ended.reason
    assert procedure.evaluation.lots[LOT].status is LotStatus.UNSUCCESSFUL


@pytest.mark.parametrize("actor", [bidder("a"), STRANGER], ids=["the winner", "another agency"])
def test_only_an_officer_of_the_buyer_annuls(actor: Actor) -> None:
    """Neither the winner nor an officer of another agency can annul the award."""
    procedure = three_bids_awarded()
    with pytest.raises(NotAllowed):
        procedure.do(REFUSED, actor)
    assert procedure.evaluation.lots[LOT].status is LotStatus.AWARDED


def test_an_award_not_yet_made_or_already_contracted_cannot_be_annulled() -> None:
    """Annulment needs a standing award: a ranked lot has none, and a concluded contract is
    only terminated."""
    ranked = evaluated(facts(), bid("a", "900.00"))
    with pytest.raises(WrongState) as refused:
        ranked.do(REFUSED, BUYERS_OFFICER)
    assert refused.value.code == "evaluation_complete"
    contracted = three_bids_awarded()
    contracted.do(RecordContractConcluded(ocid=OCID, lot_id=LOT, contract_id="c"), SYSTEM)
    with pytest.raises(WrongState) as refused:
        contracted.do(REFUSED, BUYERS_OFFICER)
    assert refused.value.code == "contract_concluded"


def test_the_annulled_winner_is_told_why() -> None:
    """The notice names the legal ground and the officer's words."""
    procedure = three_bids_awarded()
    [annulled] = procedure.do(REFUSED, BUYERS_OFFICER)
    [(told, message)] = notices(annulled)
    assert told == "supplier-a"
    assert "refused to sign" in message
    assert "3 June" in message


def test_a_lot_without_bids_is_unsuccessful_when_the_evaluation_starts() -> None:
    """No bid for lot-2: it ends at once, with its reason; lot-1 is evaluated."""
    tender = facts(lots={LOT: "1000.00", LOT_2: "500.00"})
    procedure = started(tender, bid("a", "900.00"))
    ended = [e for e in procedure.events if isinstance(e, LotUnsuccessful)]
    assert [(e.lot_id, e.reason_code) for e in ended] == [(LOT_2, UnsuccessfulReason.NO_BIDS)]
    assert procedure.evaluation.lots[LOT].status is LotStatus.EVALUATION


def test_a_lot_whose_every_bid_is_rejected_is_unsuccessful_by_itself() -> None:
    """The last rejection ends the lot; nothing waits for the officer."""
    procedure = started(facts(), bid("a", "900.00"), bid("b", "950.00"))
    procedure.do(DisqualifyBid(ocid=OCID, bid_id="a", reason="No guarantee."), ANA)
    assert procedure.evaluation.lots[LOT].status is LotStatus.EVALUATION
    events = procedure.do(DisqualifyBid(ocid=OCID, bid_id="b", reason="Late."), ANA)
    assert isinstance(events[-1], LotUnsuccessful)
    assert events[-1].reason_code is UnsuccessfulReason.NO_ADMISSIBLE_BIDS
    assert procedure.evaluation.lots[LOT].status is LotStatus.UNSUCCESSFUL
    with pytest.raises(WrongState) as refused:
        procedure.do(QualifyBid(ocid=OCID, bid_id="a"), ANA)
    assert refused.value.code == "not_in_evaluation"


def test_a_rejected_abnormally_low_price_that_was_the_last_bid_ends_the_lot() -> None:
    """The only bid, flagged against the estimate and its justification rejected: unsuccessful."""
    procedure = evaluated(facts(), bid("a", "500.00"))
    procedure.do(
        RequestJustification(
            ocid=OCID, lot_id=LOT, bid_id="a", question="Why?", respond_by=NOW + DAY
        ),
        BUYERS_OFFICER,
    )
    procedure.wait(2 * DAY)
    events = procedure.do(
        RejectJustification(ocid=OCID, lot_id=LOT, bid_id="a", reason="No answer."),
        BUYERS_OFFICER,
    )
    assert isinstance(events[-1], LotUnsuccessful)
    assert events[-1].reason_code is UnsuccessfulReason.NO_BID_LEFT


def test_a_concluded_contract_stops_the_cancellation_of_its_lot_and_of_the_procedure() -> None:
    """Only the contract's termination applies; the other, live lot may still be cancelled."""
    tender = facts(lots={LOT: "1000.00", LOT_2: "500.00"})
    prices = {LOT: "900.00", LOT_2: "450.00"}
    procedure = started(tender, bid("a", prices))
    procedure.do(QualifyBid(ocid=OCID, bid_id="a"), ANA)
    procedure.do(CompleteLotEvaluation(ocid=OCID, lot_id=LOT), BUYERS_OFFICER)
    procedure.do(DecideAward(ocid=OCID, lot_id=LOT), BUYERS_OFFICER)
    procedure.wait(11 * DAY)
    procedure.do(RecordContractConcluded(ocid=OCID, lot_id=LOT, contract_id="c-1"), SYSTEM)
    for command in (
        CancelLot(ocid=OCID, lot_id=LOT, reason="x"),
        CancelProcedure(ocid=OCID, reason="x"),
    ):
        with pytest.raises(WrongState) as refused:
            procedure.do(command, BUYERS_OFFICER)
        assert refused.value.code == "contract_concluded"
    procedure.do(CancelLot(ocid=OCID, lot_id=LOT_2, reason="Budget cut."), BUYERS_OFFICER)
    assert procedure.evaluation.lots[LOT_2].status is LotStatus.CANCELLED
    assert procedure.evaluation.lots[LOT].status is LotStatus.CONTRACTED


def test_the_tender_cannot_be_cancelled_once_a_contract_is_concluded() -> None:
    """The tender's own cancellation follows the same rule as the evaluation's."""
    tender = published()
    command = CancelTender(ocid=tender.ocid, reason="Budget withdrawn")
    with pytest.raises(WrongState) as refused:
        tenders.cancel(tender, command, TENDER_OFFICER, contracted=[LOT])
    assert refused.value.code == "contract_concluded"
    assert tenders.cancel(tender, command, TENDER_OFFICER, contracted=[])


def test_a_cancelled_tender_cancels_its_evaluation_and_nothing_follows() -> None:
    """TenderCancelled after the opening becomes the evaluation's ProcedureCancelled: every
    step after it is refused with procedure_cancelled."""
    procedure = three_bids_awarded()
    [cancelled] = cancel_with_the_tender(procedure.evaluation, "officer-ion", "Budget withdrawn")
    assert isinstance(cancelled, ProcedureCancelled)
    procedure.state = evolve(procedure.evaluation, cancelled)
    assert cancel_with_the_tender(procedure.evaluation, "officer-ion", "again") == []
    assert all(lot.status is LotStatus.CANCELLED for lot in procedure.evaluation.lots.values())
    for command in (REFUSED, DecideAward(ocid=OCID, lot_id=LOT)):
        with pytest.raises(WrongState) as refused:
            procedure.do(command, BUYERS_OFFICER)
        assert refused.value.code == "procedure_cancelled"


def test_savings_count_only_a_concluded_contract_never_an_award_in_standstill_or_annulled() -> None:
    """An award in its standstill is no saving yet; the annulled one never is; the next
    award counts once its contract is concluded."""
    tender = published()
    procedure = three_bids_awarded()
    assert awarded_lots(tender, procedure.evaluation) == []  # the standstill runs
    procedure.do(REFUSED, BUYERS_OFFICER)
    assert awarded_lots(tender, procedure.evaluation) == []
    procedure.do(DecideAward(ocid=OCID, lot_id=LOT), BUYERS_OFFICER)
    assert awarded_lots(tender, procedure.evaluation) == []
    procedure.do(RecordContractConcluded(ocid=OCID, lot_id=LOT, contract_id="c-2"), SYSTEM)
    [counted] = awarded_lots(tender, procedure.evaluation)
    assert counted.awarded == Decimal("950.00")


def test_an_award_recorded_before_annulments_existed_reads_as_its_lots_first() -> None:
    """A stored AwardDecided without ``award_number`` keeps its award id ``<lot>:<bid>``."""
    [decided] = [e for e in three_bids_awarded().events if isinstance(e, AwardDecided)]
    stored = decided.model_dump(mode="json")
    del stored["award_number"]
    legacy = AwardDecided.model_validate(stored)
    assert legacy.award_number == 1
    state = evolve(started(facts(), bid("a", "900.00")).evaluation, LotEvaluated(lot_id=LOT))
    awarded_state = evolve(
        state, legacy.model_copy(update={"bid_id": "a", "bidder_id": "supplier-a"})
    )
    award = awarded_state.lots[LOT].award
    assert award is not None
    assert award.award_id == f"{LOT}:a"
