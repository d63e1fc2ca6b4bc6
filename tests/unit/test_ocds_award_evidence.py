"""The awardEvidence OCDS extension: with a decided lot's bids, their times of receipt,
disqualification reasons and abnormally-low checks with the justification's decision; with
each award, its ranking and the sealed bid log. Valid by the standard's validator."""

from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest

from publication import ocds
from publication.ocds import awarding, bidders, history
from publication.ocds.procedure import Handler
from schemas.commands import Actor, Role
from schemas.evaluation import (
    AbnormallyLowFlagged,
    AcceptJustification,
    CompleteLotEvaluation,
    DecideAward,
    DisqualifyBid,
    EvaluationStarted,
    JustificationAccepted,
    RequestJustification,
    SubmitJustification,
)
from schemas.events import Event
from tests.ocds_validation import assert_valid
from tests.unit.test_ocds import (
    LATE,
    OCID,
    PARTIES,
    RIVAL,
    WINNER,
    Story,
    bids_submitted,
    closed,
    evaluate,
    evaluated,
    opened,
    packages,
    published,
    ron,
)


def flagged_and_accepted() -> Story:
    """WINNER's 5,000 is below 80 % of RIVAL's 9,900: flagged, justified, accepted, awarded;
    LATE's bid is qualified then disqualified with a reason."""
    story = published()
    bids_submitted(story)
    closed(story)
    opened(
        story,
        {
            WINNER: {"lot-1": ron("5000.00")},
            RIVAL: {"lot-1": ron("9900.00")},
            LATE: {"lot-1": ron("9950.00")},
        },
        rejected=(),
    )
    evaluated(story)
    evaluate(story, DisqualifyBid(ocid=OCID, bid_id="bid-2", reason="no bank guarantee"))
    evaluate(story, CompleteLotEvaluation(ocid=OCID, lot_id="lot-1"))
    request = RequestJustification(
        ocid=OCID,
        lot_id="lot-1",
        bid_id="bid-0",
        question="How is 5,000 possible?",
        respond_by=story.now + timedelta(days=3),
    )
    evaluate(story, request)
    answer = SubmitJustification(
        ocid=OCID, lot_id="lot-1", bid_id="bid-0", justification="Stock bought last year"
    )
    evaluate(story, answer, Actor(id=WINNER, role=Role.SUPPLIER))
    evaluate(
        story,
        AcceptJustification(ocid=OCID, lot_id="lot-1", bid_id="bid-0", reason="Invoices shown"),
    )
    evaluate(story, DecideAward(ocid=OCID, lot_id="lot-1"))
    return story


@pytest.fixture
def evidence_events_read(monkeypatch: pytest.MonkeyPatch) -> None:
    """The evaluation's events that only the award evidence reads, routed to its handlers."""
    routes: dict[type[Event], Handler] = {
        EvaluationStarted: bidders.evaluation_started,
        AbnormallyLowFlagged: bidders.abnormally_low_flagged,
        JustificationAccepted: bidders.bid_judged,
    }
    for event_type, handler in routes.items():
        monkeypatch.setitem(history._HANDLERS, event_type, handler)


def last_release(story: Story) -> dict[str, Any]:
    return ocds.releases(story.history, PARTIES)[-1]


def details(release: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {detail["id"]: detail for detail in release["bids"]["details"]}


@pytest.mark.usefixtures("evidence_events_read")
def test_a_flagged_bid_that_won_shows_its_check_and_the_accepted_justification() -> None:
    """The winner reads as valid with its abnormally-low numbers and the decision beside it."""
    bids = details(last_release(flagged_and_accepted()))
    winner = bids["bid-0:lot-1"]
    assert winner["status"] == "valid"
    assert winner["abnormallyLowPrice"] == {
        "basis": "othersAverage",
        "reference": {"amount": Decimal("9900.00"), "currency": "RON"},
        "sharePercent": Decimal(80),
        "threshold": {"amount": Decimal("7920.00"), "currency": "RON"},
        "justification": {"decision": "accepted", "reason": "Invoices shown"},
    }
    assert "receivedAt" in winner
    assert "abnormallyLowPrice" not in bids["bid-1:lot-1"]


def test_a_disqualified_bid_says_why_and_an_award_carries_its_ranking() -> None:
    """The committee's reason is the bid's statusDetails; the award lists each ranked bid's
    points and time of receipt, and the sealed log's root, from events read today."""
    release = last_release(flagged_and_accepted())
    late = details(release)["bid-2:lot-1"]
    assert (late["status"], late["statusDetails"]) == ("disqualified", "no bank guarantee")
    (award,) = [a for a in release["awards"] if a["id"] == "lot-1:bid-0"]
    evidence = award["awardEvidence"]
    assert evidence["evidencePath"] == awarding.evidence_path(OCID)
    assert evidence["bidLog"] == {"treeSize": 3, "root": "ab" * 32}
    ranking = [(row["id"], row["rank"], row["total"]) for row in evidence["ranking"]]
    assert ranking == [
        ("bid-0:lot-1", 1, Decimal("100.0000")),
        ("bid-1:lot-1", 2, Decimal("50.5051")),  # 100 * 5000 / 9900
    ]
    ranked = {row["id"]: row["receivedAt"] for row in evidence["ranking"]}
    assert details(release)["bid-1:lot-1"]["receivedAt"] == ranked["bid-1:lot-1"]


@pytest.mark.usefixtures("evidence_events_read")
def test_the_award_evidence_passes_the_validator() -> None:
    """Every field the extension adds is declared, each code in its closed codelist."""
    release_package, record_package = packages(flagged_and_accepted())
    assert any(
        url.endswith("/awardEvidence/extension.json") for url in release_package["extensions"]
    )
    assert_valid(release_package)
    assert_valid(record_package)
