"""A tender's documents and enquiries as the public reads them, folded on request from the
tender's own events in the store (only these types: they are few, and never the bids).

Nothing here names who asked a question."""

from datetime import datetime
from typing import Any

from pydantic import BaseModel

from procurement import enquiries
from procurement.rules import ProcedureRules
from procurement.tender import replay
from schemas.enquiries import DocumentVersion
from schemas.upcasting import read_envelope

_TYPES = [
    "TenderPublished",
    "TenderDeadlineExtended",
    "TenderDocumentPublished",
    "EnquiryAsked",
    "EnquiryAnswered",
]


async def clarifications(
    pool: Any, ocid: str, rules: ProcedureRules
) -> tuple[enquiries.Clarifications, datetime] | None:
    """The tender's documents and enquiries, and when its enquiry period ends; None for
    no published tender."""
    rows = await pool.fetch(
        "SELECT envelope FROM events WHERE aggregate_id = $1 AND type = ANY($2) ORDER BY sequence",
        ocid,
        _TYPES,
    )
    history = [read_envelope(row["envelope"]) for row in rows]
    if not history:
        return None
    known = enquiries.replay((e.event, e.occurred_at) for e in history)
    deadlines = [
        e.event for e in history if e.type in ("TenderPublished", "TenderDeadlineExtended")
    ]
    published = replay(deadlines)
    assert published is not None
    return known, enquiries.enquiry_period_end(published, known, rules)


class DocumentVersionShown(BaseModel):
    version: int
    file_name: str
    media_type: str  # as uploaded; served as it only if on the download route's allow-list
    size: int
    sha256: str
    changes_requirements: bool
    reason: str | None
    published_at: datetime
    url: str


class DocumentShown(BaseModel):
    id: str
    title: str
    document_type: str
    versions: list[DocumentVersionShown]


class TenderDocuments(BaseModel):
    documents: list[DocumentShown]


class EnquiryShown(BaseModel):
    id: str
    title: str
    description: str
    date: datetime
    related_lot: str | None
    answer: str | None
    date_answered: datetime | None
    amended_document: DocumentVersion | None


class TenderEnquiries(BaseModel):
    enquiry_period_end: datetime
    enquiries: list[EnquiryShown]


def documents_shown(known: enquiries.Clarifications, base: str) -> TenderDocuments:
    """Every document with each of its versions: digest, size, type and where to get it."""
    return TenderDocuments(
        documents=[
            DocumentShown(
                id=document_id,
                title=versions[-1].published.title,
                document_type=str(versions[-1].published.document_type),
                versions=[
                    DocumentVersionShown(
                        version=v.published.version,
                        file_name=v.published.file_name,
                        media_type=v.published.media_type,
                        size=v.published.size,
                        sha256=v.published.sha256,
                        changes_requirements=v.published.changes_requirements,
                        reason=v.published.reason,
                        published_at=v.at,
                        url=f"{base}/{document_id}/versions/{v.published.version}",
                    )
                    for v in versions
                ],
            )
            for document_id, versions in known.documents.items()
        ]
    )


def enquiries_shown(known: enquiries.Clarifications, period_end: datetime) -> TenderEnquiries:
    """Each question and its answer, if any, without the asker."""
    return TenderEnquiries(
        enquiry_period_end=period_end,
        enquiries=[
            EnquiryShown(
                id=enquiry_id,
                title=enquiry.asked.title,
                description=enquiry.asked.description,
                date=enquiry.asked_at,
                related_lot=enquiry.asked.related_lot,
                answer=enquiry.answer.answer if enquiry.answer else None,
                date_answered=enquiry.answered_at,
                amended_document=enquiry.answer.amended_document if enquiry.answer else None,
            )
            for enquiry_id, enquiry in known.enquiries.items()
        ],
    )
