"""The public timeline's sentences for the documents, the answered questions and the ends of
a lot, an award and a tender: each says what happened from the event's own public fields."""

from datetime import UTC, datetime
from uuid import uuid4

from entrypoints.portal.timeline import sentence
from schemas.documents import DocumentType, TenderDocumentPublished
from schemas.enquiries import EnquiryAnswered
from schemas.evaluation import (
    AnnulmentReason,
    AwardAnnulled,
    ContractConcluded,
    LotUnsuccessful,
    UnsuccessfulReason,
)
from schemas.events import Envelope, Event, TenderUnsuccessful

NOW = datetime(2027, 3, 1, 10, 0, tzinfo=UTC)
DIGEST = "ab" * 32


def told(event: Event, names: dict[str, str] | None = None) -> str:
    item = Envelope(
        event_id=uuid4(),
        schema_version=1,
        occurred_at=NOW,
        aggregate_id="ocds-b5fd17-1",
        sequence=1,
        actor="officer-1",
        event=event,
    )
    said = sentence(item, names or {})
    assert said is not None, f"{event.type} has no sentence"
    return said


def test_a_document_version_names_its_title_version_and_digest() -> None:
    """Anyone can check the bytes they downloaded against the digest the timeline shows."""
    said = told(
        TenderDocumentPublished(
            document_id="doc-1",
            version=2,
            title="Caiet de sarcini",
            document_type=DocumentType.TECHNICAL_SPECIFICATIONS,
            file_name="caiet.pdf",
            media_type="application/pdf",
            size=1000,
            sha256=DIGEST,
            changes_requirements=True,
            reason="Quantity corrected",
        )
    )
    for part in ("Caiet de sarcini", "version 2", DIGEST, "requirements", "Quantity corrected"):
        assert part in said, part


def test_an_answered_question_shows_the_question_and_answer_never_the_asker() -> None:
    """The answer is for every bidder; who asked stays private."""
    said = told(
        EnquiryAnswered(
            enquiry_id="enquiry-1",
            title="Paper weight",
            description="Is 80 g/m2 acceptable?",
            answer="Yes, 80 g/m2 or more.",
            asked_at=NOW,
        )
    )
    assert "Is 80 g/m2 acceptable?" in said
    assert "Yes, 80 g/m2 or more." in said


def test_the_ends_of_an_award_a_lot_and_a_tender_are_told_with_their_reasons() -> None:
    """An annulled award names its bidder and reason; an unsuccessful lot or tender its
    reason; a concluded contract its lot."""
    annulled = told(
        AwardAnnulled(
            lot_id="lot-1",
            bid_id="bid-1",
            bidder_id="supplier-1",
            award_number=1,
            reason_code=AnnulmentReason.REFUSED_TO_SIGN,
            reason="The winner would not sign",
            officer_id="officer-1",
        ),
        {"supplier-1": "Hârtia Nouă SRL"},
    )
    assert "lot-1" in annulled
    assert "Hârtia Nouă SRL" in annulled
    assert "The winner would not sign" in annulled
    lot = told(
        LotUnsuccessful(
            lot_id="lot-2", reason_code=UnsuccessfulReason.NO_BIDS, reason="No bid was opened"
        )
    )
    assert "lot-2" in lot
    assert "No bid was opened" in lot
    tender = told(TenderUnsuccessful(reason="No bid arrived by the deadline"))
    assert "No bid arrived by the deadline" in tender
    contracted = told(ContractConcluded(lot_id="lot-1", contract_id="contract-9"))
    assert "lot-1" in contracted
    assert "contract-9" in contracted
