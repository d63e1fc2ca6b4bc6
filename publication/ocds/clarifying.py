"""The tender's documents, enquiry period and enquiries in its releases.

**Documents** (with the ``documentHash`` extension): one entry per version, ``id``
``<document>-v<version>``, with its ``sha256``, ``version`` and ``downloadPath`` (under the
platform's address; anyone downloads it without a token). A version after the first, or
one that changes the requirements, is also an entry of ``tender.amendments``.

**Enquiries** (the ``enquiries`` extension, the community extension's shape): each question
with its date, and its answer once given; never who asked. ``enquiryPeriod`` runs from the
publication to when questions close; ``hasEnquiries`` says whether any was asked.
"""

from typing import Any

from procurement import enquiries
from procurement import tender as tenders
from publication.ocds.procedure import Procedure, release_id
from publication.ocds.standard import iso
from schemas.documents import TenderDocumentPublished
from schemas.events import Envelope


def document_published(procedure: Procedure, envelope: Envelope) -> list[str]:
    event = envelope.event
    assert isinstance(event, TenderDocumentPublished)
    procedure.tender = tenders.evolve(procedure.published, event)
    if not event.is_amendment:
        return ["tenderUpdate"]
    change = "changes the requirements" if event.changes_requirements else "was amended"
    amendment = {
        "id": str(envelope.event_id),
        "date": iso(envelope.occurred_at),
        "rationale": event.reason or f"document {event.title} {change}",
        "description": (
            f"Document {event.document_id} ({event.title}), version {event.version}, {change}; "
            f"its SHA-256 is {event.sha256}."
        ),
        "releaseID": release_id(procedure, envelope),
    }
    if procedure.last_release is not None:
        amendment["amendsReleaseID"] = procedure.last_release
    procedure.amendments.append(amendment)
    return ["tenderAmendment"]


def enquired(procedure: Procedure, envelope: Envelope) -> list[str]:
    """A question asked or answered."""
    procedure.tender = tenders.evolve(procedure.published, envelope.event)
    return ["tenderUpdate"]


def clarifications_section(procedure: Procedure) -> dict[str, Any]:
    """The tender's fields for its documents, enquiry period and enquiries."""
    known = procedure.clarifications
    section: dict[str, Any] = {}
    if known.enquiry_period_end is not None and procedure.published_at is not None:
        section["enquiryPeriod"] = {
            "startDate": iso(procedure.published_at),
            "endDate": iso(max(known.enquiry_period_end, procedure.published_at)),
        }
    section["hasEnquiries"] = bool(known.enquiries)
    if known.enquiries:
        section["enquiries"] = [_enquiry(i, e) for i, e in known.enquiries.items()]
    documents = [
        _document(procedure.ocid, document_id, version)
        for document_id, versions in known.documents.items()
        for version in versions
    ]
    if documents:
        section["documents"] = documents
    return section


def _enquiry(enquiry_id: str, enquiry: enquiries.Enquiry) -> dict[str, Any]:
    shown: dict[str, Any] = {
        "id": enquiry_id,
        "date": iso(enquiry.asked_at),
        "title": enquiry.asked.title,
        "description": enquiry.asked.description,
    }
    if enquiry.asked.related_lot is not None:
        shown["relatedLot"] = enquiry.asked.related_lot
    if enquiry.answer is not None and enquiry.answered_at is not None:
        shown |= {"answer": enquiry.answer.answer, "dateAnswered": iso(enquiry.answered_at)}
    return shown


def _document(ocid: str, document_id: str, version: enquiries.Version) -> dict[str, Any]:
    published = version.published
    return {
        "id": f"{document_id}-v{published.version}",
        "documentType": str(published.document_type),
        "title": published.title,
        "datePublished": iso(version.at),
        "format": published.media_type,
        "sha256": published.sha256,
        "version": published.version,
        "downloadPath": f"/tenders/{ocid}/documents/{document_id}/versions/{published.version}",
    }
