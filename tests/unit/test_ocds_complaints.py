"""Complaints, the review body's decisions and the award period in OCDS, validated by the
standard's validator with the platform's ``complaints`` extension."""

from typing import Any

from schemas.commands import Actor, Role
from schemas.evaluation import (
    CancelLot,
    ComplaintSubject,
    DismissComplaint,
    FileComplaint,
    Remedy,
    UpholdComplaint,
)
from tests.ocds_validation import assert_valid
from tests.unit.test_ocds import (
    OCID,
    RIVAL,
    Story,
    awarded,
    closed,
    evaluate,
    opened,
    packages,
    published,
    types_and_tags,
)

REVIEWER = Actor(id="reviewer-cnsc-1", role=Role.REVIEWER, agency_id="agency-CNSC")


def complained() -> Story:
    story = published()
    closed(story)
    opened(story)
    awarded(story)
    rival = Actor(id=RIVAL, role=Role.SUPPLIER)
    evaluate(
        story, FileComplaint(ocid=OCID, lot_id="lot-1", grounds="The price is too low."), rival
    )
    return story


def compiled(story: Story) -> dict[str, Any]:
    release_package, record_package = packages(story)
    assert_valid(release_package)
    assert_valid(record_package)
    record: dict[str, Any] = record_package["records"][0]["compiledRelease"]
    return record


def lot_1_award(record: dict[str, Any]) -> dict[str, Any]:
    """The award of lot-1 (lot-2, with no bid, ends unsuccessful by itself)."""
    [award] = [
        a
        for a in record["awards"]
        if a["relatedLots"] == ["lot-1"] and a["status"] != "unsuccessful"
    ]
    found: dict[str, Any] = award
    return found


def test_a_dismissed_complaint_is_published_with_the_review_bodys_reasons() -> None:
    """The complaint on its award, pending and then dismissed with the reasons; the review
    body is a party with the role reviewBody; the award period runs to the standstill's end."""
    story = complained()
    pending = lot_1_award(compiled(story))["complaints"][0]
    assert (pending["status"], pending["author"]["id"]) == ("pending", RIVAL)
    assert pending["description"] == "The price is too low."
    dismissal = DismissComplaint(ocid=OCID, complaint_id="complaint-1", reason="Justified.")
    evaluate(story, dismissal, REVIEWER)
    record = compiled(story)
    [award] = [a for a in record["awards"] if a["status"] == "pending"]
    [complaint] = award["complaints"]
    assert (complaint["status"], complaint["decision"]) == ("dismissed", "Justified.")
    assert complaint["reviewBody"]["id"] == "agency-CNSC"
    assert "dateDecision" in complaint
    roles = {party["id"]: party["roles"] for party in record["parties"]}
    assert roles["agency-CNSC"] == ["reviewBody"]
    period = record["tender"]["awardPeriod"]
    assert period == {
        "startDate": award["date"],
        "endDate": award["awardEvidence"]["standstillEnds"],
    }
    tags = [tags for kind, tags in types_and_tags(story) if kind.startswith("Complaint")]
    assert tags == [["awardUpdate"], ["awardUpdate"]]


def test_an_upheld_complaint_is_published_with_its_remedy_and_the_award_cancelled() -> None:
    """Upheld for re-evaluation: the complaint says so, the award is cancelled, and the award
    period has no end until a new award stands."""
    story = complained()
    upheld = UpholdComplaint(
        ocid=OCID, complaint_id="complaint-1", remedy=Remedy.RE_EVALUATE, reason="Founded."
    )
    evaluate(story, upheld, REVIEWER)
    record = compiled(story)
    award = lot_1_award(record)
    assert award["status"] == "cancelled"
    [complaint] = award["complaints"]
    assert (complaint["status"], complaint["resolutionType"]) == ("upheld", "reEvaluate")
    assert "endDate" not in record["tender"]["awardPeriod"]  # null in the release: dropped


def test_an_annulled_cancellation_publishes_the_award_standing_again() -> None:
    """The buyer cancels the awarded lot, a tenderer complains about the cancellation and the
    review body annuls it: the award, cancelled, is pending again, with the complaint on it."""
    story = published()
    closed(story)
    opened(story)
    awarded(story)
    evaluate(story, CancelLot(ocid=OCID, lot_id="lot-1", reason="Budget cut."))
    rival = Actor(id=RIVAL, role=Role.SUPPLIER)
    complaint = FileComplaint(
        ocid=OCID,
        lot_id="lot-1",
        grounds="The budget was not cut.",
        subject=ComplaintSubject.CANCELLATION,
    )
    evaluate(story, complaint, rival)
    assert lot_1_award(compiled(story))["status"] == "cancelled"
    annulled = UpholdComplaint(
        ocid=OCID,
        complaint_id="complaint-1",
        remedy=Remedy.ANNUL_CANCELLATION,
        reason="The budget stands.",
    )
    evaluate(story, annulled, REVIEWER)
    record = compiled(story)
    award = lot_1_award(record)
    assert award["status"] == "pending"
    [published_complaint] = award["complaints"]
    assert published_complaint["subject"] == "cancellation"
    assert published_complaint["resolutionType"] == "annulCancellation"
    assert record["tender"]["awardPeriod"]["endDate"] == award["awardEvidence"]["standstillEnds"]
