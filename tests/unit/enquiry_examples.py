"""One example of each event of a tender's documents and enquiries."""

from datetime import UTC, datetime

from schemas.documents import DocumentType, TenderDocumentPublished
from schemas.enquiries import DocumentVersion, EnquiryAnswered, EnquiryAsked
from schemas.events import Event

SPECIFICATION = TenderDocumentPublished(
    document_id="doc-1",
    version=1,
    title="Technical specification",
    document_type=DocumentType.TECHNICAL_SPECIFICATIONS,
    file_name="caiet-de-sarcini.pdf",
    media_type="application/pdf",
    size=1234,
    sha256="ab" * 32,
    changes_requirements=False,
)


def enquiry_events() -> list[Event]:
    return [
        SPECIFICATION,
        EnquiryAsked(
            enquiry_id="enquiry-1",
            asker_id="supplier-RO-CUI-14399840",
            title="Paper weight",
            description="Is 75 g/m2 paper acceptable?",
        ),
        EnquiryAnswered(
            enquiry_id="enquiry-1",
            title="Paper weight",
            description="Is 75 g/m2 paper acceptable?",
            answer="No: 80 g/m2, as the specification says.",
            asked_at=datetime(2030, 3, 2, 9, 0, tzinfo=UTC),
            amended_document=DocumentVersion(document_id="doc-1", version=2, sha256="cd" * 32),
        ),
    ]
