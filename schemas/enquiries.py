"""Questions about a tender and the buyer's answers (enquiries, or clarifications).

Questions and answers are public; who asked is not. ``EnquiryAsked`` names the asker, so it
is not a public event: the public reads the question from it without the asker (the OCDS
mapping, ``GET /tenders/{ocid}/enquiries``), and ``EnquiryAnswered`` repeats the question
so that the public event reads on its own.
"""

from typing import Annotated, Literal

from pydantic import AwareDatetime, Field, model_validator

from schemas.base import Message, TenderEvent
from schemas.bids import Sha256Hex
from schemas.commands import Command
from schemas.documents import MAX_VERSIONS
from schemas.values import Identifier, Text, Title

MAX_QUESTION_CHARS = 5_000


Question = Annotated[Text, Field(max_length=MAX_QUESTION_CHARS)]


class EnquiryQuestion(Command):
    """What a supplier asks, as sent to the route."""

    title: Title
    description: Question
    related_lot: Identifier | None = None


class AskQuestion(EnquiryQuestion):
    ocid: Identifier


class EnquiryReply(Command):
    """The buyer's answer, as sent to the route. An answer that changes the procurement
    documents names the document whose new version carries the change."""

    answer: Text
    changes_documents: bool = False
    document_id: Identifier | None = None

    @model_validator(mode="after")
    def _a_change_names_its_document(self) -> "EnquiryReply":
        if self.changes_documents and self.document_id is None:
            msg = (
                "an answer that changes the documents must name the document_id whose new "
                "version carries the change: publish that version first"
            )
            raise ValueError(msg)
        return self


class AnswerQuestion(EnquiryReply):
    ocid: Identifier
    enquiry_id: Identifier


class DocumentVersion(Message):
    """Which version of which document an answer points to, and its digest."""

    document_id: Identifier
    version: Annotated[int, Field(ge=1, le=MAX_VERSIONS)]
    sha256: Sha256Hex


class EnquiryAsked(TenderEvent):
    public = False  # it names the asker
    type: Literal["EnquiryAsked"] = "EnquiryAsked"
    enquiry_id: Identifier
    asker_id: Identifier
    title: Title
    description: Question
    related_lot: Identifier | None = None


class EnquiryAnswered(TenderEvent):
    public = True
    type: Literal["EnquiryAnswered"] = "EnquiryAnswered"
    enquiry_id: Identifier
    title: Title
    description: Question
    answer: Text
    asked_at: AwareDatetime
    amended_document: DocumentVersion | None = None  # the amendment the answer made
