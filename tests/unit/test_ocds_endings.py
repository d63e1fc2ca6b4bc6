"""What OCDS publishes when a procedure ends other than by its first award: an annulled award
and the next one under a new id, the contracts linked to the right award, and a tender that
closed with no bid, each release valid against the standard and the platform's extensions."""

from datetime import date, timedelta

from contracts import contract as contracts
from procurement import tender as tenders
from publication import ocds
from schemas.commands import CloseTender
from schemas.contracts import DrawContract, Period
from schemas.evaluation import AnnulAward, AnnulmentReason, DecideAward
from schemas.events import BidLogSealed, TenderUnsuccessful
from tests.ocds_validation import assert_valid
from tests.unit.test_ocds import (
    OCID,
    OFFICER,
    PARTIES,
    RIVAL,
    SYSTEM,
    WINNER,
    Story,
    awarded,
    closed,
    evaluate,
    opened,
    packages,
    published,
)

PERIOD = Period(start_date=date(2030, 6, 1), end_date=date(2030, 12, 31))
ANNUL = AnnulAward(
    ocid=OCID,
    lot_id="lot-1",
    reason_code=AnnulmentReason.NO_SUPPORTING_DOCUMENTS,
    reason="No certificate of tax payments by the date set.",
)


def draw(story: Story, number: int) -> str:
    """The buyer draws the contract of lot-1's current award; its id."""
    contract_id = contracts.contract_id_for(OCID, "lot-1", number)
    events = contracts.decide(
        contracts.replay(story.events(contract_id)),
        DrawContract(ocid=OCID, lot_id="lot-1", period=PERIOD),
        OFFICER,
        story.now,
        award=contracts.award_facts(story.tender, story.evaluation, "lot-1"),
        contract_id=contract_id,
        may_be_signed=True,
    )
    story.record(contract_id, events, OFFICER)
    return contract_id


def annulled_and_awarded_again() -> tuple[Story, str, str]:
    story = published()
    closed(story)
    opened(story)
    awarded(story)
    story.now += timedelta(days=11)
    first = draw(story, 1)
    evaluate(story, ANNUL)
    # what the policy records with the annulment: the pending contract is cancelled with it
    cancelled = contracts.cancel_with_the_award(
        contracts.replay(story.events(first)), "AwardAnnulled", OFFICER.id
    )
    story.record(first, cancelled, OFFICER)
    evaluate(story, DecideAward(ocid=OCID, lot_id="lot-1"))
    story.now += timedelta(days=11)
    return story, first, draw(story, 2)


def test_an_annulled_award_is_cancelled_and_the_next_award_has_a_new_id() -> None:
    """The annulled award and its pending contract are cancelled; the next-ranked bidder's
    award has its own id, and its contract names it."""
    story, first, second = annulled_and_awarded_again()
    release_package, record_package = packages(story)
    assert_valid(release_package)
    assert_valid(record_package)
    compiled = record_package["records"][0]["compiledRelease"]
    awards = {award["id"]: award for award in compiled["awards"]}
    assert awards["lot-1:bid-0"]["status"] == "cancelled"
    assert "supporting documents" in awards["lot-1:bid-0"]["description"]
    assert awards["lot-1:bid-1:2"]["status"] == "active"
    assert awards["lot-1:bid-1:2"]["suppliers"][0]["id"] == RIVAL
    assert awards["lot-1:bid-0"]["suppliers"][0]["id"] == WINNER
    contracts_by_id = {c["id"]: c for c in compiled["contracts"]}
    assert (contracts_by_id[first]["awardID"], contracts_by_id[first]["status"]) == (
        "lot-1:bid-0",
        "cancelled",
    )
    assert (contracts_by_id[second]["awardID"], contracts_by_id[second]["status"]) == (
        "lot-1:bid-1:2",
        "pending",
    )


def test_a_tender_that_closed_with_no_bid_is_unsuccessful_with_its_reason() -> None:
    """No bid at the deadline: the tender and each lot are unsuccessful, and say why."""
    story = published()
    story.now = story.tender.submission_deadline
    story.record(f"{OCID}:bids", [BidLogSealed(tree_size=0, root="ab" * 32)])
    story.record(OCID, tenders.close(story.tender, CloseTender(ocid=OCID), SYSTEM, story.now))
    story.record(OCID, [TenderUnsuccessful(reason="The tender closed with no bid.")])
    release_package, record_package = packages(story)
    assert_valid(release_package)
    assert_valid(record_package)
    last = ocds.releases(story.history, PARTIES)[-1]
    assert last["tag"] == ["tenderUpdate", "award"]
    assert last["tender"]["status"] == "unsuccessful"
    assert {lot["status"] for lot in last["tender"]["lots"]} == {"unsuccessful"}
    assert {award["status"] for award in last["awards"]} == {"unsuccessful"}
    assert all("no bid" in award["description"] for award in last["awards"])
