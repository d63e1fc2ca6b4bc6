"""The award evidence compiled from a procedure's events: for each decided lot, everything
its award rests on, in a form an outsider can check without the platform's code."""

import base64
from collections.abc import Sequence
from datetime import timedelta
from decimal import Decimal
from uuid import uuid4

from bidding import keys, merkle, receipts
from procurement import auction
from procurement.evaluation import QUALITY_SCORE, score_fields
from publication.award_evidence import BidLogFacts, compile_evidence
from schemas.auction import AuctionClosed
from schemas.award_evidence import AwardEvidence, Cancellation, DecidedLot, PendingLot
from schemas.bids import Receipt
from schemas.evaluation import (
    AcceptJustification,
    AnnulAward,
    AnnulmentReason,
    CancelLot,
    CancelProcedure,
    CompleteLotEvaluation,
    DecideAward,
    DisqualifyBid,
    OpenedBid,
    RecordContractConcluded,
    RejectJustification,
    RequestJustification,
    SubmitJustification,
)
from schemas.events import BidLogSealed, BidRejected, Envelope, Event
from schemas.values import AuctionEnd, AuctionRules
from sdk.audit import evidence as audit_evidence
from sdk.audit.model import DecidedLot as AuditedLot
from sdk.audit.ranking import check_lot
from tests.unit.evaluation_examples import (
    ANA,
    BUYERS_OFFICER,
    DAY,
    LOT,
    LOT_2,
    MEMBER_KEYS,
    NOW,
    OCID,
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
)


def receipt_of(opened: OpenedBid, index: int) -> Receipt:
    return Receipt(
        kind="bid",
        bid_id=opened.bid_id,
        ocid=OCID,
        bidder_id=opened.bidder_id,
        lots=opened.lot_ids,
        version=1,
        ciphertext_sha256=f"{index:064x}",
        received_at=opened.received_at,
        log_index=index,
    )


def log_of(*bids: OpenedBid, rejected: Sequence[BidRejected] = ()) -> BidLogFacts:
    """The sealed bid log of these bids, one receipt each in this order."""
    entries = [receipt_of(b, i) for i, b in enumerate(bids)]
    root = merkle.root([receipts.leaf_hash(r) for r in entries])
    return BidLogFacts(
        receipts=entries,
        sealed=BidLogSealed(tree_size=len(entries), root=root.hex()),
        rejected=rejected,
    )


def evidence_of(
    procedure: Procedure,
    log: BidLogFacts,
    auctions: dict[str, Sequence[Event]] | None = None,
) -> AwardEvidence:
    member_keys = {m: keys.raw_public(k) for m, k in MEMBER_KEYS.items()}
    return compile_evidence(OCID, [LOT], procedure.events, auctions or {}, log, member_keys)


def lot_of(evidence: AwardEvidence, lot_id: str = LOT) -> DecidedLot:
    (lot,) = [lot for lot in evidence.lots if lot.lot_id == lot_id]
    assert isinstance(lot, DecidedLot)
    return lot


def test_a_lowest_price_award_shows_each_bid_from_its_receipt_to_its_rank() -> None:
    """Every opened bid has its receipt, leaf and verdict; the ranking every term."""
    bids = (bid("b1", "900.00"), bid("b2", "850.00", minutes=5), bid("b3", "700.00", minutes=9))
    procedure = started(facts(share="10"), *bids)
    qualify_all(procedure, "b1", "b2")
    procedure.do(DisqualifyBid(ocid=OCID, bid_id="b3", reason="no guarantee"), ANA)
    procedure.do(CompleteLotEvaluation(ocid=OCID, lot_id=LOT), BUYERS_OFFICER)
    procedure.do(DecideAward(ocid=OCID, lot_id=LOT), BUYERS_OFFICER)
    log = log_of(*bids)
    lot = lot_of(evidence_of(procedure, log))

    assert lot.status == "awarded"
    assert lot.rules.price_weight == 100
    assert lot.rules.abnormally_low_share == 10
    assert lot.bid_log is not None
    assert log.sealed is not None
    assert lot.bid_log.root == log.sealed.root
    leaves = [bytes.fromhex(b.leaf_hash or "") for b in lot.bids]
    assert merkle.root(leaves).hex() == lot.bid_log.root
    for evidence in lot.bids:
        assert evidence.receipt is not None
        assert (
            evidence.leaf_hash
            == merkle.leaf_hash(keys.canonical_json(evidence.receipt.model_dump(mode="json"))).hex()
        )
    verdicts = {b.bid_id: (b.qualification.verdict, b.qualification.reason) for b in lot.bids}
    assert verdicts == {
        "b1": ("qualified", None),
        "b2": ("qualified", None),
        "b3": ("disqualified", "no guarantee"),
    }
    assert [(r.bid_id, r.lowest_price, r.price_score, r.total) for r in lot.ranking] == [
        ("b2", Decimal("850.00"), Decimal("100.0000"), Decimal("100.0000")),
        ("b1", Decimal("850.00"), Decimal("94.4444"), Decimal("94.4444")),
    ]
    assert lot.award is not None
    assert lot.award.award_id == f"{LOT}:b2"
    assert lot.award.value.amount == Decimal("850.00")
    assert {loss.bid_id: loss.reason_code for loss in lot.unsuccessful} == {
        "b1": "lower_score",
        "b3": "disqualified",
    }


def test_best_price_quality_publishes_each_members_signed_scores_with_their_key() -> None:
    """The scores' signatures verify against the published keys, and the ranking's quality
    terms are the sums of the members' latest scores."""
    bids = (bid("b1", "1000.00"), bid("b2", "800.00", minutes=1))
    procedure = started(facts(rated=True), *bids)
    qualify_all(procedure, "b1", "b2")
    given = {
        ("officer-ana", "b1", "tech", "90"),
        ("officer-dan", "b1", "tech", "70"),
        ("officer-ana", "b1", "delivery", "100"),
        ("officer-ana", "b2", "tech", "40"),
        ("officer-ana", "b2", "delivery", "50"),
    }
    for member, bid_id, criterion, points in sorted(given):
        actor = ANA if member == "officer-ana" else ANA.model_copy(update={"id": member})
        procedure.do(signed_score(member, LOT, bid_id, criterion, points), actor)
    # Ana revises her score: only the latest counts
    procedure.do(signed_score("officer-ana", LOT, "b1", "tech", "80", revision=2), ANA)
    procedure.do(CompleteLotEvaluation(ocid=OCID, lot_id=LOT), BUYERS_OFFICER)
    procedure.do(DecideAward(ocid=OCID, lot_id=LOT), BUYERS_OFFICER)
    lot = lot_of(evidence_of(procedure, log_of(*bids)))

    scores = [(b.bid_id, s) for b in lot.bids for s in b.quality_scores]
    assert len(scores) == 5
    for bid_id, score in scores:
        assert score.purpose == QUALITY_SCORE
        fields = score_fields(
            OCID, LOT, bid_id, score.criterion_id, score.officer_id, score.score, score.revision
        )
        assert score.signing_key is not None
        assert keys.verify(
            base64.b64decode(score.signing_key),
            base64.b64decode(score.signature),
            score.purpose,
            fields,
        )
    assert ("b1", "tech", "officer-ana", Decimal(80), 2) in [
        (b, s.criterion_id, s.officer_id, s.score, s.revision) for b, s in scores
    ]
    first = next(row for row in lot.ranking if row.bid_id == "b1")
    terms = {t.criterion_id: (t.weight, t.scores, t.score_sum) for t in first.quality_terms}
    assert terms == {
        "tech": (Decimal(30), 2, Decimal(150)),
        "delivery": (Decimal(10), 1, Decimal(100)),
    }
    # 30 * 150 / 200 + 10 * 100 / 100 = 22.5 + 10
    assert first.quality_part == Decimal("32.5000")
    assert first.price_score == Decimal("48.0000")  # 60 * 800 / 1000
    assert [t.id for t in lot.rules.quality_criteria] == ["tech", "delivery"]


def flagged(decision: AcceptJustification | RejectJustification) -> Procedure:
    """Three bids, the cheapest abnormally low, its justification decided."""
    procedure = evaluated(
        facts(), bid("b1", "1000.00"), bid("b2", "1000.00", minutes=1), bid("low", "500.00")
    )
    respond_by = procedure.now + DAY
    procedure.do(
        RequestJustification(
            ocid=OCID, lot_id=LOT, bid_id="low", question="why?", respond_by=respond_by
        ),
        BUYERS_OFFICER,
    )
    submit = SubmitJustification(ocid=OCID, lot_id=LOT, bid_id="low", justification="stock")
    procedure.do(submit, bidder("low"))
    procedure.do(decision, BUYERS_OFFICER)
    procedure.do(DecideAward(ocid=OCID, lot_id=LOT), BUYERS_OFFICER)
    return procedure


def test_an_abnormally_low_bid_shows_its_thresholds_and_accepted_justification() -> None:
    """A flagged bid that won reads as flagged, with its numbers and the decision."""
    procedure = flagged(AcceptJustification(ocid=OCID, lot_id=LOT, bid_id="low", reason="ok"))
    lot = lot_of(evidence_of(procedure, log_of(*procedure.evaluation.bids.values())))
    low = next(b for b in lot.bids if b.bid_id == "low")
    assert low.abnormally_low is not None
    assert (low.abnormally_low.basis, low.abnormally_low.reference) == (
        "others_average",
        Decimal("1000.00"),
    )
    assert (low.abnormally_low.share, low.abnormally_low.threshold) == (
        Decimal(80),
        Decimal("800.00"),
    )
    assert low.justification is not None
    assert (low.justification.decision, low.justification.reason) == ("accepted", "ok")
    assert low.justification.officer_id == BUYERS_OFFICER.id
    assert lot.award is not None
    assert lot.award.bid_id == "low"
    assert all(b.abnormally_low is None for b in lot.bids if b.bid_id != "low")


def test_a_rejected_justification_takes_the_bid_out_of_the_ranking() -> None:
    """The rejected bid keeps its flag and decision; it is not ranked and says why it lost."""
    procedure = flagged(RejectJustification(ocid=OCID, lot_id=LOT, bid_id="low", reason="no"))
    lot = lot_of(evidence_of(procedure, log_of(*procedure.evaluation.bids.values())))
    low = next(b for b in lot.bids if b.bid_id == "low")
    assert low.justification is not None
    assert low.justification.decision == "rejected"
    assert "low" not in [row.bid_id for row in lot.ranking]
    assert {loss.bid_id: loss.reason_code for loss in lot.unsuccessful}["low"] == "abnormally_low"


def test_a_tie_is_broken_by_the_time_of_receipt_shown_with_each_rank() -> None:
    """Equal totals: the ranking shows each bid's time of receipt and leaf."""
    later, earlier = bid("late", "900.00", minutes=7), bid("early", "900.00", minutes=2)
    procedure = awarded(facts(), later, earlier)
    lot = lot_of(evidence_of(procedure, log_of(earlier, later)))
    assert [(r.bid_id, r.total, r.leaf_index) for r in lot.ranking] == [
        ("early", Decimal(100), 0),
        ("late", Decimal(100), 1),
    ]
    assert lot.ranking[0].received_at < lot.ranking[1].received_at
    assert "received_at" in lot.rules.tie_break
    assert {loss.reason_code for loss in lot.unsuccessful} == {"tie_received_later"}


def test_an_auction_shows_its_full_price_history_under_labels_revealed_at_the_close() -> None:
    """Labels follow the participants' order, that of receipt; every accepted price is
    listed; the final prices recomputed from the history are the ranking's."""
    bids = (
        bid("b1", "1000.00"),
        bid("b2", "1100.00", minutes=1),
        bid("b3", "1200.00", minutes=2),
    )
    procedure = evaluated(facts(auction=True), *bids)
    start = procedure.now + 3 * DAY
    rules = AuctionRules(ends=AuctionEnd.FIXED_TIME, duration_seconds=60)
    events = auction.schedule_from_evaluation(
        None,
        procedure.evaluation,
        rules,
        BUYERS_OFFICER,
        lot_id=LOT,
        starts_at=start,
        now=procedure.now,
    )
    state = auction.replay(events)
    assert state is not None

    def run(new: list[Event]) -> None:
        nonlocal state
        for event in new:
            state = auction.evolve(state, event)
        events.extend(new)

    run(auction.open_auction(state, SYSTEM, start))
    run(auction.submit_price(state, "supplier-b2", Decimal("950.00"), start + timedelta(seconds=5)))
    run(auction.submit_price(state, "supplier-b3", Decimal("940.00"), start + timedelta(seconds=9)))
    run(
        auction.submit_price(state, "supplier-b2", Decimal("900.00"), start + timedelta(seconds=20))
    )
    run(auction.close_if_due(state, SYSTEM, start + timedelta(seconds=61)))
    closed = events[-1]
    assert isinstance(closed, AuctionClosed)
    procedure.do(auction.result(closed, state), SYSTEM)
    procedure.do(DecideAward(ocid=OCID, lot_id=LOT), BUYERS_OFFICER)
    lot = lot_of(evidence_of(procedure, log_of(*bids), {LOT: events}))

    assert lot.auction is not None
    assert lot.auction.status == "closed"
    assert [p.label for p in lot.auction.participants] == ["Bidder 1", "Bidder 2", "Bidder 3"]
    assert lot.auction.labels is not None
    names = {label.label: label.bidder_id for label in lot.auction.labels}
    assert names == {
        "Bidder 1": "supplier-b1",
        "Bidder 2": "supplier-b2",
        "Bidder 3": "supplier-b3",
    }
    history = [(p.sequence, names[p.label], p.price) for p in lot.auction.history]
    assert history == [
        (1, "supplier-b2", Decimal("950.00")),
        (2, "supplier-b3", Decimal("940.00")),
        (3, "supplier-b2", Decimal("900.00")),
    ]
    final = {p.label: p.initial_price for p in lot.auction.participants}
    final.update({p.label: p.price for p in lot.auction.history})
    by_bidder = {names[label]: price for label, price in final.items()}
    assert {r.bidder_id: r.price.amount for r in lot.ranking} == by_bidder
    assert {b.bidder_id: b.final_price.amount for b in lot.bids if b.final_price} == by_bidder
    assert lot.award is not None
    assert lot.award.bidder_id == "supplier-b2"


def test_an_auction_still_running_keeps_who_is_who() -> None:
    """Before the close, labels are not revealed, and the lot is not decided."""
    bids = (bid("b1", "1000.00"), bid("b2", "1100.00", minutes=1))
    procedure = evaluated(facts(auction=True), *bids)
    evidence = evidence_of(procedure, log_of(*bids))
    assert evidence.lots == (PendingLot(lot_id=LOT, status="auction"),)


def test_lots_not_decided_are_listed_with_their_status_only() -> None:
    """One lot awarded, the other still in evaluation: the second shows its status alone."""
    tender = facts(lots={LOT: "1000.00", LOT_2: "500.00"})
    both = bid("b1", {LOT: "900.00", LOT_2: "400.00"})
    procedure = evaluated(tender, both)
    procedure.do(DecideAward(ocid=OCID, lot_id=LOT), BUYERS_OFFICER)
    evidence = evidence_of(procedure, log_of(both))
    assert isinstance(evidence.lots[0], DecidedLot)
    assert evidence.lots[1] == PendingLot(lot_id=LOT_2, status="evaluation")
    assert "opened_price" not in evidence.lots[1].model_dump()


def test_a_tender_not_evaluated_lists_its_lots_as_not_evaluated() -> None:
    """No evaluation yet: nothing but the lots and that status."""
    evidence = compile_evidence(OCID, [LOT], [], {}, BidLogFacts(), {})
    assert evidence.lots == (PendingLot(lot_id=LOT, status="not_evaluated"),)


def test_a_bid_that_could_not_be_opened_is_listed_with_its_receipt_and_reason() -> None:
    """Its receipt names the lots; it has no price and the opening's reason."""
    opened = bid("b1", "900.00")
    broken = bid("bx", "1.00", minutes=3)
    rejected = BidRejected(
        bid_id="bx", bidder_id=broken.bidder_id, version=1, reason_code="tampered", reason="bad"
    )
    procedure = awarded(facts(), opened)
    lot = lot_of(evidence_of(procedure, log_of(opened, broken, rejected=[rejected])))
    unopened = next(b for b in lot.bids if b.bid_id == "bx")
    assert not unopened.opening.opened
    assert unopened.opening.reason_code == "tampered"
    assert unopened.opened_price is None
    assert unopened.leaf_index == 1


def recorded(procedure: Procedure) -> list[Envelope]:
    """The procedure's events as the store records them: one minute apart, from sequence 1."""
    return [
        Envelope(
            event_id=uuid4(),
            schema_version=1,
            occurred_at=NOW + timedelta(minutes=i),
            aggregate_id=f"{OCID}:evaluation",
            sequence=i + 1,
            actor=SYSTEM.id,
            event=event,
        )
        for i, event in enumerate(procedure.events)
    ]


def test_a_lot_the_buyer_cancels_is_published_as_cancelled_with_no_ranking_or_award() -> None:
    """Its reason, its event's place in the evaluation and its time; its bids with their
    verdicts, but neither a ranking nor an award, since none was made."""
    bids = (bid("b1", "900.00"), bid("b2", "850.00", minutes=5))
    procedure = evaluated(facts(share="10"), *bids)
    procedure.do(CancelLot(ocid=OCID, lot_id=LOT, reason="the need changed"), BUYERS_OFFICER)
    envelopes = recorded(procedure)
    member_keys = {m: keys.raw_public(k) for m, k in MEMBER_KEYS.items()}
    evidence = compile_evidence(OCID, [LOT], envelopes, {}, log_of(*bids), member_keys)
    lot = lot_of(evidence)

    assert lot.status == "cancelled"
    assert lot.cancellation == Cancellation(
        event_type="LotCancelled",
        sequence=len(envelopes),
        officer_id=BUYERS_OFFICER.id,
        reason="the need changed",
        cancelled_at=envelopes[-1].occurred_at,
    )
    assert lot.ranking == ()
    assert lot.award is None
    assert lot.unsuccessful == ()
    assert {b.bid_id: b.qualification.verdict for b in lot.bids} == {
        "b1": "qualified",
        "b2": "qualified",
    }


def test_a_lot_cancelled_after_its_award_publishes_no_award() -> None:
    """The cancellation ends the award: the evidence shows the cancellation, not the award;
    without the recorded times the event's place is its position in the history."""
    procedure = awarded(facts(), bid("b1", "900.00"), bid("b2", "850.00"))
    procedure.do(CancelLot(ocid=OCID, lot_id=LOT, reason="funds withdrawn"), BUYERS_OFFICER)
    lot = lot_of(evidence_of(procedure, log_of()))

    assert lot.status == "cancelled"
    assert lot.award is None
    assert lot.ranking == ()
    assert lot.cancellation is not None
    assert lot.cancellation.sequence == len(procedure.events)
    assert lot.cancellation.reason == "funds withdrawn"
    assert lot.cancellation.cancelled_at is None


def test_a_cancelled_procedure_cancels_every_lot_with_its_reason() -> None:
    bids = (bid("b1", {LOT: "900.00", LOT_2: "400.00"}),)
    procedure = started(facts(lots={LOT: "1000.00", LOT_2: "500.00"}), *bids)
    procedure.do(CancelProcedure(ocid=OCID, reason="the budget was cut"), BUYERS_OFFICER)
    member_keys = {m: keys.raw_public(k) for m, k in MEMBER_KEYS.items()}
    evidence = compile_evidence(
        OCID, [LOT, LOT_2], procedure.events, {}, log_of(*bids), member_keys
    )

    for lot_id in (LOT, LOT_2):
        lot = lot_of(evidence, lot_id)
        assert lot.status == "cancelled"
        assert lot.cancellation is not None
        assert lot.cancellation.event_type == "ProcedureCancelled"
        assert lot.cancellation.reason == "the budget was cut"
        assert lot.award is None


def test_a_lot_whose_contract_is_concluded_keeps_its_award() -> None:
    """Both parties signed: the lot is contracted, and its evidence is still its award."""
    winner = bid("b1", "900.00")
    procedure = awarded(facts(), winner)
    procedure.do(RecordContractConcluded(ocid=OCID, lot_id=LOT, contract_id="c-1"), SYSTEM)
    lot = lot_of(evidence_of(procedure, log_of(winner)))
    assert lot.status == "awarded"
    assert lot.award is not None
    assert lot.award.award_id == f"{LOT}:b1"


def test_a_lot_with_no_bid_left_is_listed_as_unsuccessful() -> None:
    """Its only bid rejected, the lot ends unsuccessful: the evidence says so."""
    only = bid("b1", "900.00")
    procedure = started(facts(), only)
    procedure.do(DisqualifyBid(ocid=OCID, bid_id="b1", reason="no guarantee"), ANA)
    evidence = evidence_of(procedure, log_of(only))
    assert evidence.lots == (PendingLot(lot_id=LOT, status="unsuccessful"),)


def test_the_audit_reruns_an_award_made_after_the_winner_refused() -> None:
    """The winner refuses to sign; its award annulled, the next bid wins. An outsider's
    audit of the published evidence leaves the refused bid out and verifies the new award."""
    cheap, dear = bid("b1", "900.00"), bid("b2", "950.00", minutes=5)
    procedure = awarded(facts(), cheap, dear)
    refused = AnnulAward(
        ocid=OCID, lot_id=LOT, reason_code=AnnulmentReason.REFUSED_TO_SIGN, reason="letter"
    )
    procedure.do(refused, BUYERS_OFFICER)
    procedure.do(DecideAward(ocid=OCID, lot_id=LOT), BUYERS_OFFICER)
    published = evidence_of(procedure, log_of(cheap, dear)).model_dump(mode="json")
    (lot,) = audit_evidence.lots(OCID, published)
    assert isinstance(lot, AuditedLot)
    assert lot.annulled == {"b1"}
    checks = check_lot(lot)
    assert [check.line for check in checks if not check.ok] == []
    assert lot.award is not None
    assert lot.award.bid_id == "b2"
