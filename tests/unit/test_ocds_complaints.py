"""Complaints, the review body's decisions and the award period in OCDS, validated by the
standard's validator with the platform's ``complaints`` extension."""

from typing import Any

from procurement import conditions_complaints
from schemas.commands import Actor, Role
from schemas.conditions_complaints import (
    AnyConditionsComplaintCommand,
    FileConditionsComplaint,
    UpholdConditionsComplaint,
)
from schemas.evaluation import (
    CancelLot,
    ComplaintSubject,
    DismissComplaint,
    FileComplaint,
    Remedy,
    UpholdComplaint,
)
from schemas.events import TenderCancelled
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


def complain_about_conditions(
    story: Story, command: AnyConditionsComplaintCommand, actor: Actor
) -> None:
    aggregate = conditions_complaints.complaints_id(OCID)
    state = conditions_complaints.replay(OCID, story.events(aggregate))
    events = conditions_complaints.decide(state, command, actor, story.now, story.tender)
    story.record(aggregate, events, actor)


def test_a_complaint_about_the_conditions_is_published_on_the_tender() -> None:
    """Filed before the deadline by a supplier, it sits on the tender with its grounds;
    upheld, with the review body's reasons and the resolution amendConditions; the review
    body is a party; the tender's cancellation moots another one still pending."""
    story = published()
    supplier, other = (Actor(id=who, role=Role.SUPPLIER) for who in (RIVAL, "supplier-RO-9"))
    filing = FileConditionsComplaint(ocid=OCID, grounds="The grammage names one brand.")
    complain_about_conditions(story, filing, supplier)
    [pending] = compiled(story)["tender"]["complaints"]
    assert (pending["status"], pending["subject"], pending["author"]["id"]) == (
        "pending",
        "conditions",
        RIVAL,
    )
    assert "relatedLot" not in pending
    upholding = UpholdConditionsComplaint(
        ocid=OCID, complaint_id="conditions-complaint-1", reason="Equivalents must be accepted."
    )
    complain_about_conditions(story, upholding, REVIEWER)
    complain_about_conditions(story, filing, other)
    story.record(OCID, [TenderCancelled(reason="The conditions are being rewritten")])
    record = compiled(story)
    upheld, moot = record["tender"]["complaints"]
    assert (upheld["status"], upheld["resolutionType"]) == ("upheld", "amendConditions")
    assert upheld["reviewBody"]["id"] == "agency-CNSC"
    assert moot["status"] == "moot"
    roles = {party["id"]: party["roles"] for party in record["parties"]}
    assert roles["agency-CNSC"] == ["reviewBody"]
    tags = [tags for kind, tags in types_and_tags(story) if kind.startswith("Conditions")]
    assert tags == [["tenderUpdate"]] * 3
