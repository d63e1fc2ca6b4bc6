"""Remedies for everyone with an interest (Directive 89/665/EEC, Article 1(3)): who may
seek review of an award, and what each ruling does."""

import pytest

from procurement.errors import NotAllowed
from procurement.evaluation import contract_may_be_signed
from schemas.evaluation import AwardDecided, ComplaintFiled, EvaluationFacts, FileComplaint
from schemas.values import StandstillGround
from tests.unit.evaluation_examples import (
    LOT,
    LOT_2,
    NOW,
    OCID,
    Procedure,
    awarded,
    bid,
    facts,
    supplier,
)


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
