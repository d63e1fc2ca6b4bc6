"""The award rules as published (OCDS ``awardCriteriaDetails`` and the README's worked
example) say what the evaluation computes: units, formula, rounding, abnormally low prices
on either basis, and the tie-break."""

from decimal import Decimal

from procurement.evaluation.scoring import abnormally_low, ranking
from publication.ocds.tendering import award_criteria_details
from schemas.evaluation import AbnormallyLowBasis, CompleteLotEvaluation
from schemas.values import (
    AuctionRules,
    AwardCriteria,
    Item,
    Lot,
    QualityCriterion,
    Requirements,
    Value,
)
from tests.unit.evaluation_examples import (
    ANA,
    DAN,
    LOT,
    OCID,
    bid,
    evaluated,
    facts,
    qualify_all,
    signed_score,
    started,
)


def _requirements(**rules: object) -> Requirements:
    lot = Lot(
        id="lot-1",
        title="Laptops",
        value=Value(amount=Decimal("1000.00"), currency="RON"),
        items=[Item(id="i-1", description="Laptop", cpv="30213100-6", quantity=1, unit="piece")],
    )
    return Requirements.model_validate({"cpv": "30213100-6", "lots": [lot], **rules})


def test_a_price_only_tender_publishes_the_formula_its_units_rounding_and_tie_break() -> None:
    """Lowest price: 100 points of price, the abnormally low share in percent and both of its
    bases, rounding half up to 0.0001 point and to the cent, ties to the first received."""
    details = award_criteria_details(_requirements(abnormally_low_share="75"), has_auction=False)
    assert "price score = 100 * lowest price / the bid's price" in details
    assert "in percent" in details
    assert "rounded once, half up, to 0.0001 point" in details
    assert "below 75% of the average price of the other bids in the ranking" in details
    assert "or below 75% of the lot's estimated value (either one suffices" in details
    assert "rounded half up to the cent" in details
    assert (
        "received first (the receipt's received_at, then the bid id in code point order)" in details
    )
    assert "quality part" not in details
    assert "auction" not in details


def test_a_best_price_quality_tender_publishes_each_weight_and_how_scores_combine() -> None:
    """Each weight is named in points of 100 (percent), and the quality part is the weighted
    average of the members' latest scores; with an auction, its final prices count."""
    requirements = _requirements(
        award_criteria=AwardCriteria.RATED_CRITERIA,
        price_weight="60",
        quality_criteria=[
            QualityCriterion(id="tech", name="Technical merit", weight=Decimal(30)),
            QualityCriterion(id="delivery", name="Delivery time", weight=Decimal(10)),
        ],
        auction=AuctionRules(),
    )
    details = award_criteria_details(requirements, has_auction=True)
    assert "price 60 points; Technical merit 30 points; Delivery time 10 points" in details
    assert "price score = 60 * lowest price / the bid's price" in details
    assert (
        "quality part = the sum over the criteria of weight * the average of the committee "
        "members' scores of the bid (0 to 100, each member's latest) / 100" in details
    )
    assert "the final prices of the lot's electronic auction" in details
    assert "below 80% of the average price" in details


def test_the_readmes_worked_example_is_what_the_evaluation_computes() -> None:
    """Price 60, technical merit 30, delivery 10: a at 1,000.00, b at 850.00, c at 900.00;
    c wins with 87.6667 points (README, "How a lot is ranked")."""
    procedure = started(
        facts(rated=True), bid("a", "1000.00"), bid("b", "850.00"), bid("c", "900.00")
    )
    qualify_all(procedure, "a", "b", "c")
    scores = {
        "a": {"tech": ("80", "90"), "delivery": ("100", "100")},
        "b": {"tech": ("60", "70"), "delivery": ("50", "60")},
        "c": {"tech": ("75", "80"), "delivery": ("80", "75")},
    }
    for bid_id, criteria in scores.items():
        for criterion, (by_ana, by_dan) in criteria.items():
            procedure.do(signed_score("officer-ana", LOT, bid_id, criterion, by_ana), ANA)
            procedure.do(signed_score("officer-dan", LOT, bid_id, criterion, by_dan), DAN)
    procedure.do(CompleteLotEvaluation(ocid=OCID, lot_id=LOT), ANA)
    rows = [
        (row.bid_id, str(row.price_score), str(row.quality_part), str(row.total))
        for row in ranking(procedure.evaluation, LOT)
    ]
    assert rows == [
        ("c", "56.6667", "31.0000", "87.6667"),
        ("a", "51.0000", "35.5000", "86.5000"),
        ("b", "60.0000", "25.0000", "85.0000"),
    ]
    assert abnormally_low(procedure.evaluation, LOT) == []


def test_the_readmes_abnormally_low_example_is_caught_by_the_estimate_alone() -> None:
    """700.00 against others averaging 830.00 (threshold 664.00) is not low, but against the
    estimate of 1,000.00 (threshold 800.00) it is: either basis flags it."""
    procedure = evaluated(facts(), bid("a", "700.00"), bid("b", "820.00"), bid("c", "840.00"))
    [flag] = abnormally_low(procedure.evaluation, LOT)
    assert (flag.bid_id, flag.basis, flag.reference, flag.threshold) == (
        "a",
        AbnormallyLowBasis.ESTIMATED_VALUE,
        Decimal("1000.00"),
        Decimal("800.00"),
    )


def test_the_readmes_tie_example_goes_to_the_bid_received_first() -> None:
    """Two priceOnly bids of 900.00 both score 100.0000; the one received at 10:01 ranks
    first although its bid id sorts after the other's."""
    procedure = evaluated(
        facts(), bid("z-first", "900.00", minutes=1), bid("a-later", "900.00", minutes=5)
    )
    rows = [(row.bid_id, str(row.total)) for row in ranking(procedure.evaluation, LOT)]
    assert rows == [("z-first", "100.0000"), ("a-later", "100.0000")]
