"""Savings against the estimated value: lots worked by hand, a small market summed by hand,
and properties over random markets."""

import json
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from procurement.evaluation import decide, facts_from_tender, replay
from procurement.tender import publish
from procurement.tender import replay as replay_tender
from publication.savings import (
    AwardedLot,
    GroupTotals,
    Summary,
    awarded_lots,
    lot_savings,
    ratio,
    summarise,
)
from schemas.commands import Actor, Role
from schemas.evaluation import (
    AnyEvaluationCommand,
    CompleteLotEvaluation,
    DecideAward,
    FinalPrice,
    OfferedPrice,
    OpenedBid,
    QualifyBid,
    RecordAuctionResult,
    RecordContractConcluded,
    StartEvaluation,
)
from schemas.events import Event
from schemas.values import ProcedureType, Value
from tests.strategies import amounts
from tests.unit import examples

OPEN = ProcedureType.OPEN
AUCTION = ProcedureType.OPEN_WITH_AUCTION


def lot(
    estimated: str,
    best_initial: str,
    awarded: str,
    final: str | None = None,
    *,
    ocid: str = "ocds-1",
    lot_id: str = "lot-1",
    buyer: str = "agency-cluj",
    division: str = "30",
    procedure: ProcedureType | None = None,
    month: str = "2031-01",
    bidders: int = 3,
    sme: bool = True,
) -> AwardedLot:
    return AwardedLot(
        ocid=ocid,
        lot_id=lot_id,
        buyer_id=buyer,
        cpv_division=division,
        procedure_type=procedure or (OPEN if final is None else AUCTION),
        award_month=month,
        bidders=bidders,
        winner_is_sme=sme,
        currency="RON",
        estimated=Decimal(estimated),
        best_initial=Decimal(best_initial),
        final_after_auction=None if final is None else Decimal(final),
        awarded=Decimal(awarded),
    )


# Lots worked by hand


def test_with_an_auction_the_share_is_what_the_auction_added_to_the_saving() -> None:
    """Estimated 1,000,000; best opened price 920,000; the auction ends at 880,000, awarded:
    120,000 saved, 12 %, of which the auction added 40,000, one third."""
    saved = lot_savings(lot("1000000.00", "920000.00", "880000.00", final="880000.00"))
    assert (saved.saving, saved.relative_saving) == (Decimal("120000.00"), Decimal("0.1200"))
    assert (saved.auction_saving, saved.auction_share) == (Decimal("40000.00"), Decimal("0.3333"))


def test_without_an_auction_the_auction_added_nothing() -> None:
    """Open procedure: 500,000 estimated, 455,000 awarded; 9 % saved, auction share 0."""
    saved = lot_savings(lot("500000.00", "455000.00", "455000.00"))
    assert (saved.saving, saved.relative_saving) == (Decimal("45000.00"), Decimal("0.0900"))
    assert (saved.auction_saving, saved.auction_share) == (Decimal("0.00"), Decimal(0))
    assert saved.final_after_auction is None


def test_an_auction_without_a_second_bidder_counts_as_none() -> None:
    """A procedure with an auction whose lot had no auction (one admissible bid): share 0."""
    saved = lot_savings(lot("50000.00", "48000.00", "48000.00", procedure=AUCTION))
    assert (saved.auction_saving, saved.auction_share) == (Decimal("0.00"), Decimal(0))


def test_no_saving_has_no_auction_share() -> None:
    """Awarded at the estimate: saving 0, relative 0, and the share of nothing is None."""
    saved = lot_savings(lot("200000.00", "210000.00", "200000.00", final="200000.00"))
    assert (saved.saving, saved.relative_saving, saved.auction_share) == (
        Decimal("0.00"),
        Decimal(0),
        None,
    )
    assert str(saved.relative_saving) == "0.0000"


def test_awarded_above_the_estimate_is_a_negative_saving() -> None:
    """112,345.67 awarded on a 100,000 estimate: -12,345.67, -12.345667 % rounds half up
    (away from zero) to -0.1235; the auction share is None."""
    saved = lot_savings(lot("100000.00", "120000.00", "112345.67", final="112345.67"))
    assert (saved.saving, saved.relative_saving) == (Decimal("-12345.67"), Decimal("-0.1235"))
    assert (saved.auction_saving, saved.auction_share) == (Decimal("7654.33"), None)


def test_an_auction_may_add_more_than_the_whole_saving() -> None:
    """Best opened price 110,000 over a 100,000 estimate; the auction ends at 95,000: 5,000
    saved, 15,000 by the auction, a share of 3, not clipped."""
    saved = lot_savings(lot("100000.00", "110000.00", "95000.00", final="95000.00"))
    assert (saved.saving, saved.auction_share) == (Decimal("5000.00"), Decimal("3.0000"))


def test_the_winner_need_not_be_the_cheapest() -> None:
    """Best price-quality: the cheapest bid was 900 but 950 won; the saving is on 950."""
    saved = lot_savings(lot("1000.00", "900.00", "950.00"))
    assert (saved.saving, saved.relative_saving, saved.auction_share) == (
        Decimal("50.00"),
        Decimal("0.0500"),
        Decimal(0),
    )


@pytest.mark.parametrize(
    ("numerator", "denominator", "expected"),
    [
        ("1.00", "20000.00", "0.0001"),  # 0.00005: half rounds up
        ("0.99", "20000.00", "0.0000"),  # 0.0000495
        ("-1.00", "20000.00", "-0.0001"),  # half up is away from zero
        ("-0.99", "20000.00", "0.0000"),  # never -0
        ("2.00", "3.00", "0.6667"),
        ("1.00", "0.00", None),
    ],
)
def test_ratios_round_half_up_to_four_decimals(
    numerator: str, denominator: str, expected: str | None
) -> None:
    """Ratios are rounded once, half up, to 0.0001; nothing over zero is None."""
    result = ratio(Decimal(numerator), Decimal(denominator))
    assert (None if result is None else str(result)) == expected


# A small market, summed by hand


MARKET = [
    lot("100000.00", "90000.00", "85000.00", final="85000.00", ocid="t1", lot_id="l1", bidders=4),
    lot("50000.00", "48000.00", "48000.00", ocid="t1", lot_id="l2", procedure=AUCTION, month="2031-02", bidders=4, sme=False),
    lot("1000000.00", "1050000.00", "1050000.00", ocid="t2", division="45", month="2031-02", bidders=2, sme=False),
    lot("20000.00", "17000.00", "17000.00", ocid="t3", buyer="agency-iasi"),
    lot("300000.00", "280000.00", "240000.00", final="240000.00", ocid="t4", buyer="agency-iasi", division="55", month="2031-02", bidders=5),
]  # fmt: skip


def totals(
    key: str,
    lots: int,
    tenders: int,
    estimated: str,
    awarded: str,
    saving: str,
    relative: str,
    auction: str,
    share: str | None,
) -> GroupTotals:
    return GroupTotals(
        key=key,
        lots=lots,
        tenders=tenders,
        estimated=Decimal(estimated),
        awarded=Decimal(awarded),
        saving=Decimal(saving),
        relative_saving=Decimal(relative),
        auction_saving=Decimal(auction),
        auction_share=None if share is None else Decimal(share),
    )


def test_a_small_market_summed_by_hand() -> None:
    """Five lots of four tenders. Lot savings: t1/l1 15,000 (5,000 by the auction), t1/l2
    2,000, t2 -50,000 (works above the estimate), t3 3,000, t4 60,000 (40,000 by the
    auction). Overall 30,000 of 1,470,000 saved, and the auctions added 45,000: a share of
    1.5, because the works lot lost more than the other lots saved without an auction."""
    summary = summarise(MARKET)
    assert summary.currency == "RON"
    assert summary.total == totals(
        "all", 5, 4, "1470000.00", "1440000.00", "30000.00", "0.0204", "45000.00", "1.5000"
    )
    assert summary.by_buyer == (
        totals("agency-cluj", 3, 2, "1150000.00", "1183000.00", "-33000.00", "-0.0287", "5000.00", None),
        totals("agency-iasi", 2, 2, "320000.00", "257000.00", "63000.00", "0.1969", "40000.00", "0.6349"),
    )  # fmt: skip
    assert summary.by_cpv_division == (
        totals("30", 3, 2, "170000.00", "150000.00", "20000.00", "0.1176", "5000.00", "0.2500"),
        totals("45", 1, 1, "1000000.00", "1050000.00", "-50000.00", "-0.0500", "0.00", None),
        totals("55", 1, 1, "300000.00", "240000.00", "60000.00", "0.2000", "40000.00", "0.6667"),
    )  # fmt: skip
    assert summary.by_procedure_type == (
        totals("open", 2, 2, "1020000.00", "1067000.00", "-47000.00", "-0.0461", "0.00", None),
        totals("open_with_auction", 3, 2, "450000.00", "373000.00", "77000.00", "0.1711", "45000.00", "0.5844"),
    )  # fmt: skip
    assert summary.by_month == (
        totals("2031-01", 2, 2, "120000.00", "102000.00", "18000.00", "0.1500", "5000.00", "0.2778"),
        totals("2031-02", 3, 3, "1350000.00", "1338000.00", "12000.00", "0.0089", "40000.00", "3.3333"),
    )  # fmt: skip
    # Bidders 4 + 2 + 3 + 5 over four tenders; SMEs won t1/l1, t3 and t4: 3 of 5 lots and
    # 85,000 + 17,000 + 240,000 = 342,000 of 1,440,000.
    assert (summary.tenders, summary.average_bidders) == (4, Decimal("3.5000"))
    assert (summary.sme_contract_share, summary.sme_value_share) == (
        Decimal("0.6000"),
        Decimal("0.2375"),
    )


def test_the_summary_prints_and_travels_as_json_with_exact_amounts() -> None:
    """to_json writes amounts and ratios as strings and reads back the same; to_text is
    what a CLI prints."""
    summary = summarise(MARKET)
    data = json.loads(summary.to_json())
    assert data["total"]["saving"] == "30000.00"
    assert data["total"]["relative_saving"] == "0.0204"
    assert data["by_buyer"][0]["auction_share"] is None
    assert Summary.model_validate_json(summary.to_json()) == summary
    text = "\n".join(summary.to_text())
    assert "Savings against the estimated value (RON)" in text
    assert "2.04%" in text
    assert "won by SMEs: 60.00% of the lots, 23.75% of the value" in text


def test_an_empty_market_has_no_ratios() -> None:
    """No lots: zero totals and None wherever a ratio would divide by nothing."""
    summary = summarise([])
    assert (summary.currency, summary.tenders, summary.total.lots) == (None, 0, 0)
    assert (summary.total.estimated, summary.total.relative_saving) == (Decimal(0), None)
    assert (summary.average_bidders, summary.sme_contract_share, summary.sme_value_share) == (
        None,
        None,
        None,
    )
    assert summary.by_buyer == ()
    assert summary.to_text()


def test_lots_that_cannot_be_summed_are_refused() -> None:
    """Two currencies, a lot counted twice, or two lots of one tender that disagree."""
    euro = lot("100.00", "90.00", "90.00", ocid="t9").model_copy(update={"currency": "EUR"})
    with pytest.raises(ValueError, match="one currency"):
        summarise([MARKET[0], euro])
    with pytest.raises(ValueError, match="counts once"):
        summarise([MARKET[0], MARKET[0]])
    other_buyer = MARKET[1].model_copy(update={"buyer_id": "agency-iasi"})
    with pytest.raises(ValueError, match="tender t1 disagree"):
        summarise([MARKET[0], other_buyer])
    with pytest.raises(ValidationError, match="no price after an auction"):
        lot("100.00", "90.00", "80.00", final="80.00", procedure=OPEN)
    with pytest.raises(ValidationError, match="CPV division"):
        lot("100.00", "90.00", "80.00", division="99")
    with pytest.raises(ValidationError, match="award_month"):
        lot("100.00", "90.00", "80.00", month="2031-13")


# From the tender and its evaluation


def test_awarded_lots_are_read_from_the_tender_and_its_evaluation() -> None:
    """A tender with an auction: two bids at 870 (SME) and 900, final prices 850 and 860;
    the lowest opened price, the lowest final price, the award and its month."""
    officer, system = examples.OFFICER, Actor(id="evaluation-service", role=Role.SYSTEM)
    command = examples.publish_command().model_copy(update={"procedure_type": AUCTION})
    events = publish(command, officer, examples.NOW, examples.RULES, tender_id="t", ocid="o-1")
    tender = replay_tender(events)
    assert tender is not None

    def bid(bid_id: str, price: str, sme: bool) -> OpenedBid:
        offer = OfferedPrice(lot_id="lot-1", price=Value(amount=Decimal(price), currency="RON"))
        return OpenedBid(
            bid_id=bid_id,
            bidder_id=f"supplier-{bid_id}",
            is_sme=sme,
            received_at=examples.NOW,
            offers=(offer,),
        )

    now = datetime(2031, 3, 31, 23, 0, tzinfo=UTC)
    facts = facts_from_tender(tender, (officer.id,))
    final = (
        FinalPrice(bid_id="a", price=Value(amount=Decimal("850.00"), currency="RON")),
        FinalPrice(bid_id="b", price=Value(amount=Decimal("860.00"), currency="RON")),
    )
    steps: list[tuple[AnyEvaluationCommand, Actor]] = [
        (StartEvaluation(ocid="o-1", facts=facts, bids=(bid("a", "870.00", True), bid("b", "900.00", False))), system),
        (QualifyBid(ocid="o-1", bid_id="a"), officer),
        (QualifyBid(ocid="o-1", bid_id="b"), officer),
        (CompleteLotEvaluation(ocid="o-1", lot_id="lot-1"), officer),
    ]  # fmt: skip
    history: list[Event] = []
    for command_, actor in steps:
        history += decide(replay(history), command_, actor, now)
    evaluation = replay(history)
    assert evaluation is not None
    assert awarded_lots(tender, evaluation) == []  # not awarded yet
    for command_, actor in (
        (RecordAuctionResult(ocid="o-1", lot_id="lot-1", final_prices=final), system),
        (DecideAward(ocid="o-1", lot_id="lot-1"), officer),
    ):
        history += decide(replay(history), command_, actor, now)
    evaluation = replay(history)
    assert evaluation is not None
    assert awarded_lots(tender, evaluation) == []  # awarded, but no contract yet
    concluded = RecordContractConcluded(ocid="o-1", lot_id="lot-1", contract_id="c-1")
    history += decide(evaluation, concluded, system, now)
    evaluation = replay(history)
    assert evaluation is not None
    [found] = awarded_lots(tender, evaluation)
    assert found == lot(
        "1000.00", "870.00", "850.00", final="850.00", ocid="o-1",
        buyer=examples.BUYER, month="2031-03", bidders=2, sme=True,
    )  # fmt: skip
    assert lot_savings(found).auction_share == Decimal("0.1333")  # 20 of 150


def test_an_award_with_vat_against_an_estimate_without_is_counted_apart() -> None:
    """Like with like: the tax is no saving. Such a lot is in no sum, and is listed with
    the reason; the comparable lots are summed as before."""
    with_vat = lot("1000.00", "1190.00", "1190.00", lot_id="lot-2").model_copy(
        update={"award_includes_vat": True}
    )
    summary = summarise([lot("1000.00", "900.00", "900.00"), with_vat])
    assert summary.total.lots == 1
    assert summary.total.awarded == Decimal("900.00")
    [apart] = summary.not_comparable
    assert (apart.ocid, apart.lot_id) == ("ocds-1", "lot-2")
    assert "includes VAT" in apart.reason
    both = with_vat.model_copy(update={"estimate_includes_vat": True})
    assert summarise([both]).total.saving == Decimal("-190.00")


def test_a_winning_offer_with_vat_is_read_as_such() -> None:
    """awarded_lots takes the winner's basis from its offer, the tender's when it says none."""
    officer, system = examples.OFFICER, Actor(id="evaluation-service", role=Role.SYSTEM)
    events = publish(
        examples.publish_command(), officer, examples.NOW, examples.RULES, tender_id="t", ocid="o"
    )
    tender = replay_tender(events)
    assert tender is not None
    offer = OfferedPrice(
        lot_id="lot-1",
        price=Value(amount=Decimal("1190.00"), currency="RON"),
        value_added_tax_included=True,
    )
    opened = OpenedBid(
        bid_id="a", bidder_id="supplier-a", is_sme=True, received_at=examples.NOW, offers=(offer,)
    )
    now = datetime(2031, 3, 31, 23, 0, tzinfo=UTC)
    steps: list[tuple[AnyEvaluationCommand, Actor]] = [
        (StartEvaluation(ocid="o", facts=facts_from_tender(tender, (officer.id,)), bids=(opened,)), system),
        (QualifyBid(ocid="o", bid_id="a"), officer),
        (CompleteLotEvaluation(ocid="o", lot_id="lot-1"), officer),
        (DecideAward(ocid="o", lot_id="lot-1"), officer),
        (RecordContractConcluded(ocid="o", lot_id="lot-1", contract_id="c-1"), system),
    ]  # fmt: skip
    history: list[Event] = []
    for command_, actor in steps:
        history += decide(replay(history), command_, actor, now)
    evaluation = replay(history)
    assert evaluation is not None
    [found] = awarded_lots(tender, evaluation)
    assert (found.estimate_includes_vat, found.award_includes_vat) == (False, True)
    assert not summarise([found]).lots


# Properties over random markets


@st.composite
def tenders(draw: st.DrawFn, ocid: str = "t0") -> list[AwardedLot]:
    """One tender of one of three buyers, with one to three awarded lots."""
    buyer = draw(st.sampled_from(["agency-a", "agency-b", "agency-c"]))
    division = draw(st.sampled_from(["30", "45", "55", "79"]))
    procedure = draw(st.sampled_from(ProcedureType))
    bidders = draw(st.integers(1, 12))
    found = []
    for number in range(draw(st.integers(1, 3))):
        has_auction = procedure is AUCTION and draw(st.booleans())
        found.append(
            lot(
                str(draw(amounts())),
                str(draw(amounts())),
                str(draw(amounts())),
                final=str(draw(amounts())) if has_auction else None,
                ocid=ocid,
                lot_id=f"l{number}",
                buyer=buyer,
                division=division,
                procedure=procedure,
                month=f"{draw(st.integers(2029, 2031))}-{draw(st.integers(1, 12)):02d}",
                bidders=bidders,
                sme=draw(st.booleans()),
            )
        )
    return found


@st.composite
def markets(draw: st.DrawFn) -> list[AwardedLot]:
    """Up to eight tenders."""
    count = draw(st.integers(0, 8))
    return [lot_ for n in range(count) for lot_ in draw(tenders(f"t{n}"))]


@settings(max_examples=200, deadline=None)
@given(lot_=tenders().map(lambda lots: lots[0]))
def test_the_relative_saving_lies_where_the_values_put_it(lot_: AwardedLot) -> None:
    """Awarded at or below the estimate: 0..1; above it: at most 0; and always within half
    a unit of the last place of saving / estimated."""
    saved = lot_savings(lot_)
    exact = (lot_.estimated - lot_.awarded) / lot_.estimated
    assert abs(saved.relative_saving - exact) <= Decimal("0.00005")
    if lot_.awarded <= lot_.estimated:
        assert Decimal(0) <= saved.relative_saving <= Decimal(1)
    else:
        assert saved.relative_saving <= 0
    assert saved.saving == lot_.estimated - lot_.awarded
    if saved.saving <= 0:
        assert saved.auction_share is None
    elif lot_.final_after_auction is None:
        assert saved.auction_share == 0


@settings(max_examples=150, deadline=None)
@given(market=markets())
def test_the_groups_of_every_grouping_add_up_to_the_totals(market: list[AwardedLot]) -> None:
    """Per buyer, CPV division, procedure type and month, the lots, estimated, awarded,
    saving and auction saving add up exactly to the overall totals; the shares lie in 0..1;
    the summary reads back from its JSON."""
    summary = summarise(market)
    total = summary.total
    for groups in (
        summary.by_buyer,
        summary.by_cpv_division,
        summary.by_procedure_type,
        summary.by_month,
    ):
        for name in ("lots", "estimated", "awarded", "saving", "auction_saving"):
            assert sum(getattr(group, name) for group in groups) == getattr(total, name), name
    assert total.lots == len(market) == len(summary.lots)
    assert total.saving == total.estimated - total.awarded
    assert summary.tenders == len({lot_.ocid for lot_ in market})
    for share in (summary.sme_contract_share, summary.sme_value_share):
        assert share is None or 0 <= share <= 1
    assert Summary.model_validate_json(summary.to_json()) == summary
