"""The whole audit of one procedure, on a public record the platform's own pure code made:
every check passes on it, and each kind of tampering fails the check that should see it."""

from collections.abc import Sequence
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest

from procurement import auction
from schemas.auction import AuctionClosed
from schemas.base import Event
from schemas.evaluation import CancelLot, CompleteLotEvaluation, DecideAward, OpenedBid
from schemas.values import AuctionEnd, AuctionRules
from sdk.audit import KeptReceipt, audit_procedure
from sdk.audit.report import Report
from sdk.audit.sources import answer_file
from tests.unit.audit_world import Record, kept_receipts, record_of
from tests.unit.evaluation_examples import (
    ANA,
    BUYERS_OFFICER,
    DAY,
    LOT,
    OCID,
    SYSTEM,
    awarded,
    bid,
    evaluated,
    facts,
    qualify_all,
    signed_score,
    started,
)


def best_price_quality() -> Record:
    bids = (bid("b1", "1000.00"), bid("b2", "800.00", minutes=1))
    procedure = started(facts(rated=True), *bids)
    qualify_all(procedure, "b1", "b2")
    for member, bid_id, criterion, points in [
        ("officer-ana", "b1", "tech", "90"),
        ("officer-dan", "b1", "tech", "70"),
        ("officer-ana", "b1", "delivery", "100"),
        ("officer-ana", "b2", "tech", "40"),
        ("officer-ana", "b2", "delivery", "50"),
    ]:
        actor = ANA.model_copy(update={"id": member})
        procedure.do(signed_score(member, LOT, bid_id, criterion, points), actor)
    procedure.do(signed_score("officer-ana", LOT, "b1", "tech", "80", revision=2), ANA)
    procedure.do(CompleteLotEvaluation(ocid=OCID, lot_id=LOT), BUYERS_OFFICER)
    procedure.do(DecideAward(ocid=OCID, lot_id=LOT), BUYERS_OFFICER)
    return record_of(bids, procedure.events)


def tie() -> Record:
    later, earlier = bid("late", "900.00", minutes=7), bid("early", "900.00", minutes=2)
    return record_of((earlier, later), awarded(facts(), later, earlier).events)


def auctioned() -> Record:
    bids: Sequence[OpenedBid] = (
        bid("b1", "1000.00"),
        bid("b2", "1100.00", minutes=1),
        bid("b3", "1200.00"),
    )
    procedure = evaluated(facts(auction=True), *bids)
    start = procedure.now + 3 * DAY
    rules = AuctionRules(ends=AuctionEnd.FIXED_TIME, duration_seconds=60)
    events: list[Event] = auction.schedule_from_evaluation(
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
            events.append(event)

    run(auction.open_auction(state, SYSTEM, start))
    for seconds, bidder, price in [(5, "b2", "950.00"), (9, "b3", "940.00"), (20, "b2", "900.00")]:
        at = start + timedelta(seconds=seconds)
        run(auction.submit_price(state, f"supplier-{bidder}", Decimal(price), at))
    run(auction.close_if_due(state, SYSTEM, start + timedelta(seconds=61)))
    closed = events[-1]
    assert isinstance(closed, AuctionClosed)
    procedure.do(auction.result(closed, state), SYSTEM)
    procedure.do(DecideAward(ocid=OCID, lot_id=LOT), BUYERS_OFFICER)
    return record_of(bids, procedure.events, {LOT: events})


def cancelled() -> Record:
    """A lot ranked, then cancelled by the buyer: no award was made."""
    bids = (bid("b1", "900.00"), bid("b2", "850.00", minutes=1))
    procedure = evaluated(facts(), *bids)
    procedure.do(CancelLot(ocid=OCID, lot_id=LOT, reason="the need changed"), BUYERS_OFFICER)
    return record_of(bids, procedure.events)


def failures(report: Report) -> list[str]:
    return [check.line for check in report.failures]


def served(record: Record, path: str, **params: Any) -> Any:
    return record.answers[str(answer_file(path, params or None))]


@pytest.mark.parametrize(
    "make", [best_price_quality, tie, auctioned, cancelled], ids=lambda f: f.__name__
)
def test_a_faithful_record_passes_every_check(make: Any) -> None:
    """Best price-quality, a tie, an auction and a cancelled lot: every check passes, none
    is skipped."""
    report = audit_procedure(make(), OCID)
    assert failures(report) == []
    subjects = " | ".join(check.subject for check in report.checks)
    for part in ("platform key", "signed head", ":evaluation: transparency log", "bid log: seal",
                 "bids in the sealed log", "quality scores", "evidence matches the logged events"):  # fmt: skip
        assert part in subjects
    decided = ("cancellation",) if make is cancelled else ("ranking", "award")
    for part in decided:
        assert part in subjects


def test_a_cancelled_lot_is_checked_against_its_logged_cancellation() -> None:
    report = audit_procedure(cancelled(), OCID)
    [check] = [c for c in report.checks if c.subject.endswith("cancellation")]
    assert check.line.startswith("ok")
    assert "LotCancelled" in check.detail
    assert "the need changed" in check.detail
    assert "no award" in check.detail


def cancelled_lot(record: Record) -> dict[str, Any]:
    [lot] = served(record, f"/tenders/{OCID}/award-evidence")["lots"]
    assert lot["status"] == "cancelled"
    return dict(lot)


def test_a_cancelled_lot_published_with_an_award_is_detected() -> None:
    record = cancelled()
    lot = cancelled_lot(record)
    winner = lot["bids"][1]
    lot["award"] = {
        "award_id": f"{LOT}:b2",
        "bid_id": "b2",
        "bidder_id": winner["bidder_id"],
        "value": winner["final_price"],
        "officer_id": BUYERS_OFFICER.id,
        "decided_at": "2030-05-04T10:00:00Z",
        "standstill_ends": "2030-05-14T10:00:00Z",
    }
    served(record, f"/tenders/{OCID}/award-evidence")["lots"] = [lot]
    problems = failures(audit_procedure(record, OCID))
    assert any("cancellation" in p and "published with an award" in p for p in problems)


@pytest.mark.parametrize(
    ("field", "value", "found"),
    [
        ("sequence", 2, "is BidQualified, not LotCancelled"),
        ("sequence", 99, "no event #99"),
        ("reason", "the budget was cut", "the reason logged is 'the need changed'"),
        ("cancelled_at", "2031-01-01T00:00:00Z", "logged at 2030-05-04T10:00:"),
    ],
)
def test_a_cancellation_that_is_not_the_logged_one_is_detected(
    field: str, value: Any, found: str
) -> None:
    record = cancelled()
    lot = cancelled_lot(record)
    lot["cancellation"] = {**lot["cancellation"], field: value}
    served(record, f"/tenders/{OCID}/award-evidence")["lots"] = [lot]
    problems = failures(audit_procedure(record, OCID))
    assert any("cancellation" in p and found in p for p in problems), problems


def test_a_cancellation_published_with_its_logged_time_passes() -> None:
    record = cancelled()
    lot = cancelled_lot(record)
    events = served(record, "/transparency/events", aggregate_id=f"{OCID}:evaluation")["events"]
    occurred_at = events[-1]["document"]["payload"]["occurred_at"]
    lot["cancellation"] = {**lot["cancellation"], "cancelled_at": occurred_at}
    served(record, f"/tenders/{OCID}/award-evidence")["lots"] = [lot]
    report = audit_procedure(record, OCID)
    assert failures(report) == []
    [check] = [c for c in report.checks if c.subject.endswith("cancellation")]
    assert "LotCancelled #" in check.detail
    assert " at 2030-05-04T10:00:" in check.detail


def test_a_lot_published_as_cancelled_whose_cancellation_is_not_logged_is_detected() -> None:
    """The evaluation's log has no cancellation: the lot was awarded, not cancelled."""
    record = cancelled()
    events = served(record, "/transparency/events", aggregate_id=f"{OCID}:evaluation")["events"]
    served(record, "/transparency/events", aggregate_id=f"{OCID}:evaluation")["events"] = events[
        :-1
    ]
    problems = failures(audit_procedure(record, OCID))
    assert any("cancellation" in p and "no event #" in p for p in problems), problems


def test_the_auction_is_checked_from_its_price_history() -> None:
    """The auction's final prices are recomputed, and its logged prices matched."""
    report = audit_procedure(auctioned(), OCID)
    assert any("auction final prices" in c.subject and c.ok for c in report.checks)
    assert any(f"{OCID}:auction:{LOT}: transparency log" in c.subject for c in report.checks)


def test_an_event_rewritten_by_an_insider_is_detected() -> None:
    """A score changed in a stored event no longer hashes to the entry logged for it."""
    record = best_price_quality()
    events = served(record, "/transparency/events", aggregate_id=f"{OCID}:evaluation")["events"]
    scored = next(e for e in events if e["entry"]["type"] == "QualityScored")
    scored["document"]["payload"]["event"]["score"] = "100.00"
    problems = failures(audit_procedure(record, OCID))
    assert any("event altered" in p for p in problems)


def test_an_event_dropped_from_the_log_is_detected() -> None:
    """An event missing from an aggregate's logged events leaves a gap in its sequences."""
    record = best_price_quality()
    events = served(record, "/transparency/events", aggregate_id=f"{OCID}:evaluation")["events"]
    del events[3]
    problems = failures(audit_procedure(record, OCID))
    assert any("events missing from the log: sequences [4]" in p for p in problems)


def test_a_price_changed_in_the_evidence_is_detected() -> None:
    """A bid's price altered in the evidence fails the ranking and the match with the log."""
    record = tie()
    lot = served(record, f"/tenders/{OCID}/award-evidence")["lots"][0]
    lot["bids"][0]["opened_price"]["amount"] = "850.00"
    problems = failures(audit_procedure(record, OCID))
    assert any("ranking" in p for p in problems)
    assert any("in its BidOpened event" in p for p in problems)


def test_a_bid_dropped_from_the_evidence_is_detected() -> None:
    """A bid opened for the lot cannot vanish from the evidence unseen."""
    record = tie()
    lot = served(record, f"/tenders/{OCID}/award-evidence")["lots"][0]
    lot["bids"] = [b for b in lot["bids"] if b["bid_id"] != "late"]
    problems = failures(audit_procedure(record, OCID))
    assert any(
        "bid late was opened for the lot but is missing from the evidence" in p for p in problems
    )


def test_an_auction_price_changed_in_the_evidence_is_detected() -> None:
    """The evidence's price history must be the auction's logged prices."""
    record = auctioned()
    lot = served(record, f"/tenders/{OCID}/award-evidence")["lots"][0]
    lot["auction"]["history"][2]["price"] = "890.00"
    problems = failures(audit_procedure(record, OCID))
    assert any("is not its 3 logged prices" in p for p in problems)
    assert any("final price" in p for p in problems)


def test_missing_data_fails_and_says_what_is_missing() -> None:
    """Without the award evidence, the audit fails and names the route it could not read."""
    record = tie()
    del record.answers[str(answer_file(f"/tenders/{OCID}/award-evidence"))]
    problems = failures(audit_procedure(record, OCID))
    assert any(f"GET /tenders/{OCID}/award-evidence" in p for p in problems)


def test_kept_receipts_are_checked_and_their_current_bids_found_at_the_opening() -> None:
    """Each receipt given is the platform's, a leaf of the sealed log, and its bid opened."""
    bids = (bid("early", "900.00", minutes=2), bid("late", "900.00", minutes=7))
    kept = [KeptReceipt(f"r{i}.json", r) for i, r in enumerate(kept_receipts(bids))]
    report = audit_procedure(tie(), OCID, kept)
    assert failures(report) == []
    lines = [c.line for c in report.checks]
    assert sum("receipt r" in line for line in lines) == 2
    assert any("2 current bids: 2 opened, 0 rejected" in line for line in lines)


def test_a_bid_in_the_sealed_log_that_was_never_opened_is_detected() -> None:
    """A bidder's receipt whose bid neither opened nor was rejected: the bid was dropped."""
    record = tie()
    events = served(record, "/transparency/events", aggregate_id=f"{OCID}:bids")["events"]
    events[:] = [e for e in events if e["document"]["payload"]["event"].get("bid_id") != "late"]
    bids = (bid("early", "900.00", minutes=2), bid("late", "900.00", minutes=7))
    kept = [KeptReceipt(f"r{i}.json", r) for i, r in enumerate(kept_receipts(bids))]
    problems = failures(audit_procedure(record, OCID, kept))
    assert any(
        "bid late is its bidder's latest entry but was neither opened" in p for p in problems
    )


def test_an_aggregate_hidden_from_the_procedures_listing_is_detected() -> None:
    """The log must list the evaluation an award rests on, or the audit says it does not."""
    record = tie()
    listing = served(record, f"/transparency/procedures/{OCID}")
    listing["aggregates"].remove(f"{OCID}:evaluation")
    problems = failures(audit_procedure(record, OCID))
    assert any(f"does not list ['{OCID}:evaluation']" in p for p in problems)


def test_a_served_leaf_hash_other_than_the_entrys_is_detected() -> None:
    """The leaf hash served with an event must be the hash of its entry."""
    record = tie()
    events = served(record, "/transparency/events", aggregate_id=OCID)["events"]
    events[0]["leaf_hash"] = "00" * 32
    problems = failures(audit_procedure(record, OCID))
    assert any("served with leaf hash 000" in p for p in problems)


def test_a_lot_whose_evaluation_events_are_not_served_yet_waits_instead_of_failing() -> None:
    """A lot decided while another is not: the evaluation's events are served only once every
    lot is decided, so that check waits, saying until when, and nothing else is lost."""
    record = tie()
    for name, answer in record.answers.items():
        if name.startswith("transparency/events@") and name.endswith("%3Aevaluation.json"):
            for item in answer["events"]:
                if item["entry"]["type"] not in {"EvaluationStarted"}:
                    item["document"] = None
                    item["withheld_until"] = "once every lot is decided"
    report = audit_procedure(record, OCID)
    assert failures(report) == []
    [waiting] = report.waiting
    assert "evidence matches the logged events" in waiting.subject
    assert "once every lot is decided" in waiting.detail
    assert waiting.line.startswith("wait")
    assert "not checkable yet" in report.summary()
