"""What suppliers are told about their questions: the asker privately, since the public
questions and answers never name it."""

from procurement.enquiries import Clarifications
from schemas.enquiries import EnquiryAnswered, EnquiryAsked
from schemas.events import Event


def notices(known: Clarifications, event: Event) -> list[tuple[str, str]]:
    """What each party is told, as (party id, message); ``known`` is the tender's
    documents and enquiries before ``event``, which hold the asker of an answered question."""
    match event:
        case EnquiryAsked():
            return [
                (
                    event.asker_id,
                    f"Your question {event.enquiry_id} ({event.title}) was received. It is "
                    "published without your name, and so will its answer be.",
                )
            ]
        case EnquiryAnswered():
            enquiry = known.enquiries.get(event.enquiry_id)
            if enquiry is None:
                return []
            changed = (
                f" The answer amended document {event.amended_document.document_id} "
                f"(version {event.amended_document.version})."
                if event.amended_document
                else ""
            )
            return [
                (
                    enquiry.asked.asker_id,
                    f"Your question {event.enquiry_id} ({event.title}) was answered: "
                    f"{event.answer}{changed}",
                )
            ]
    return []
