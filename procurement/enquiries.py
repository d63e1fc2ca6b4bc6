"""A tender's procurement documents, questions and answers, as pure functions.

Their events are the tender's own (its aggregate, its topic), folded here into
``Clarifications``; ``procurement.tender`` keeps the status and the deadline they depend on.

The rules, from Directive 2014/24/EU: the documents are published for unrestricted, full
and free access (Article 53(1)); additional information asked for in good time is supplied
at the latest six days before the submission deadline (Article 53(2)), else the deadline is
extended (Article 47(3)(a)); a significant change to the documents extends it too
(Article 47(3)(b)), as any significant amendment does (``procurement.tender``).
"""

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from types import MappingProxyType

from procurement.errors import NotAllowed, NotFound, Rejected, WrongState
from procurement.rules import ProcedureRules, describe
from procurement.tender import (
    Tender,
    TenderStatus,
    officer_must_act_for_the_buyer,
    tender_must_accept_changes,
)
from schemas.commands import Actor, Role
from schemas.documents import MAX_DOCUMENTS, MAX_VERSIONS, PublishDocument, TenderDocumentPublished
from schemas.enquiries import (
    AnswerQuestion,
    AskQuestion,
    DocumentVersion,
    EnquiryAnswered,
    EnquiryAsked,
)
from schemas.events import Event, TenderDeadlineExtended, TenderPublished


@dataclass(frozen=True)
class Enquiry:
    asked: EnquiryAsked
    asked_at: datetime
    answer: EnquiryAnswered | None = None
    answered_at: datetime | None = None


@dataclass(frozen=True)
class Version:
    published: TenderDocumentPublished
    at: datetime


@dataclass(frozen=True)
class Clarifications:
    """What a tender published besides its notice: documents (every version, in order)
    and enquiries (by id, in the order asked)."""

    enquiry_period_end: datetime | None = None  # None: published before enquiries existed
    documents: Mapping[str, tuple[Version, ...]] = field(
        default_factory=lambda: MappingProxyType({})
    )
    enquiries: Mapping[str, Enquiry] = field(default_factory=lambda: MappingProxyType({}))


def enquiry_period_end(tender: Tender, known: Clarifications, rules: ProcedureRules) -> datetime:
    if known.enquiry_period_end is not None:
        return known.enquiry_period_end
    return tender.submission_deadline - rules.enquiry_period_before_deadline


# Rules, named as the sentences they enforce.


def only_a_registered_supplier_asks(actor: Actor) -> None:
    if actor.role is not Role.SUPPLIER:
        msg = f"questions are asked by registered suppliers; {actor.id} is {actor.role}"
        raise NotAllowed(msg)


def question_must_come_in_the_enquiry_period(
    tender: Tender, known: Clarifications, now: datetime, rules: ProcedureRules
) -> None:
    if tender.status is not TenderStatus.ACTIVE or now >= tender.submission_deadline:
        raise WrongState(f"tender {tender.ocid} is {tender.status}; it takes no questions")
    ends = enquiry_period_end(tender, known, rules)
    if now >= ends:
        msg = (
            f"the enquiry period of {tender.ocid} ended at {ends.isoformat()}; questions are "
            "taken until then (read the published answers and documents instead)"
        )
        raise WrongState(msg, code="enquiry_period_over")


def supplier_must_not_flood_the_buyer(
    known: Clarifications, actor: Actor, question: AskQuestion, rules: ProcedureRules
) -> None:
    mine = [e.asked for e in known.enquiries.values() if e.asked.asker_id == actor.id]
    if any((q.title, q.description) == (question.title, question.description) for q in mine):
        raise Rejected("this question was asked already", code="duplicate_question")
    if len(mine) >= rules.questions_per_supplier:
        msg = (
            f"a supplier may ask at most {rules.questions_per_supplier} questions about one "
            "tender; put several points in one question"
        )
        raise Rejected(msg, code="too_many_questions")


def related_lot_must_exist(tender: Tender, lot_id: str | None) -> None:
    if lot_id is not None and lot_id not in {lot.id for lot in tender.requirements.lots}:
        raise Rejected(f"tender {tender.ocid} has no lot {lot_id}", code="unknown_lot")


def answer_that_changes_documents_names_a_new_version(
    known: Clarifications, enquiry: Enquiry, command: AnswerQuestion
) -> DocumentVersion | None:
    """The document version an answer made: published after the question was asked."""
    if not command.changes_documents:
        return None
    assert command.document_id is not None  # schemas.enquiries checks it
    versions = known.documents.get(command.document_id, ())
    if not versions or versions[-1].at < enquiry.asked_at:
        msg = (
            f"the answer changes the documents, but document {command.document_id} has no "
            "version published since the question: publish the new version first, then "
            "answer naming it"
        )
        raise Rejected(msg, code="amendment_missing")
    latest = versions[-1].published
    return DocumentVersion(
        document_id=latest.document_id, version=latest.version, sha256=latest.sha256
    )


def _deadline_left_after(
    tender: Tender, now: datetime, lead: timedelta, reason: str
) -> list[Event]:
    """The deadline extended to leave ``lead`` after now, if it does not already."""
    required = now + lead
    if tender.submission_deadline >= required:
        return []
    return [
        TenderDeadlineExtended(
            previous_deadline=tender.submission_deadline,
            submission_deadline=required,
            reason=reason,
            required_by_rules=True,
        )
    ]


# Decisions


def publish_document(
    tender: Tender,
    known: Clarifications,
    command: PublishDocument,
    actor: Actor,
    now: datetime,
    rules: ProcedureRules,
    *,
    new_document_id: str,
) -> list[Event]:
    officer_must_act_for_the_buyer(actor, tender.buyer_id)
    tender_must_accept_changes(tender, now)
    document_id = command.document_id or new_document_id
    versions = known.documents.get(document_id, ())
    if command.document_id is not None and not versions:
        raise NotFound(f"tender {tender.ocid} has no document {command.document_id}")
    if not versions and len(known.documents) >= MAX_DOCUMENTS:
        msg = f"a tender holds at most {MAX_DOCUMENTS} documents; publish new versions instead"
        raise Rejected(msg, code="too_many_documents")
    if len(versions) >= MAX_VERSIONS:
        msg = f"a document has at most {MAX_VERSIONS} versions; publish a new document"
        raise Rejected(msg, code="too_many_versions")
    if versions and versions[-1].published.sha256 == command.sha256:
        raise Rejected(
            f"version {len(versions)} of {document_id} has these bytes", code="no_change"
        )
    if versions and command.reason is None:
        msg = "a new version of a document amends the tender: give the reason for the public"
        raise Rejected(msg, code="reason_missing")
    published = TenderDocumentPublished(
        document_id=document_id,
        version=len(versions) + 1,
        title=command.title,
        document_type=command.document_type,
        file_name=command.file_name,
        media_type=command.media_type,
        size=len(command.content),
        sha256=command.sha256,
        changes_requirements=command.changes_requirements,
        reason=command.reason,
    )
    if not command.changes_requirements:
        return [published]
    reason = command.reason or f"document {command.title} changes the requirements"
    lead = rules.minimum_period_after_significant_amendment
    return [published, *_deadline_left_after(tender, now, lead, reason)]


def ask(
    tender: Tender,
    known: Clarifications,
    command: AskQuestion,
    actor: Actor,
    now: datetime,
    rules: ProcedureRules,
    *,
    enquiry_id: str,
) -> list[Event]:
    only_a_registered_supplier_asks(actor)
    question_must_come_in_the_enquiry_period(tender, known, now, rules)
    related_lot_must_exist(tender, command.related_lot)
    supplier_must_not_flood_the_buyer(known, actor, command, rules)
    return [
        EnquiryAsked(
            enquiry_id=enquiry_id,
            asker_id=actor.id,
            title=command.title,
            description=command.description,
            related_lot=command.related_lot,
        )
    ]


def answer(
    tender: Tender,
    known: Clarifications,
    command: AnswerQuestion,
    actor: Actor,
    now: datetime,
    rules: ProcedureRules,
) -> list[Event]:
    officer_must_act_for_the_buyer(actor, tender.buyer_id)
    tender_must_accept_changes(tender, now)
    enquiry = known.enquiries.get(command.enquiry_id)
    if enquiry is None:
        raise NotFound(f"tender {tender.ocid} has no question {command.enquiry_id}")
    if enquiry.answer is not None:
        raise WrongState(f"question {command.enquiry_id} is answered", code="already_answered")
    amended = answer_that_changes_documents_names_a_new_version(known, enquiry, command)
    answered = EnquiryAnswered(
        enquiry_id=command.enquiry_id,
        title=enquiry.asked.title,
        description=enquiry.asked.description,
        answer=command.answer,
        asked_at=enquiry.asked_at,
        amended_document=amended,
    )
    lead = rules.answer_before_deadline
    reason = (
        f"question {command.enquiry_id} was answered less than {describe(lead)} before "
        "the submission deadline"
    )
    return [answered, *_deadline_left_after(tender, now, lead, reason)]


# Evolution


def evolve(known: Clarifications, event: Event, at: datetime) -> Clarifications:
    """Apply one of the tender's events (recorded at ``at``); the others change nothing."""
    if isinstance(event, TenderPublished):
        return replace(known, enquiry_period_end=event.enquiry_period_end)
    if isinstance(event, TenderDeadlineExtended) and known.enquiry_period_end is not None:
        moved = event.submission_deadline - event.previous_deadline
        return replace(known, enquiry_period_end=known.enquiry_period_end + moved)
    if isinstance(event, TenderDocumentPublished):
        versions = (*known.documents.get(event.document_id, ()), Version(event, at))
        documents = MappingProxyType({**known.documents, event.document_id: versions})
        return replace(known, documents=documents)
    if isinstance(event, EnquiryAsked):
        asked = Enquiry(event, at)
        return replace(
            known, enquiries=MappingProxyType({**known.enquiries, event.enquiry_id: asked})
        )
    if isinstance(event, EnquiryAnswered):
        answered = replace(known.enquiries[event.enquiry_id], answer=event, answered_at=at)
        enquiries = MappingProxyType({**known.enquiries, event.enquiry_id: answered})
        return replace(known, enquiries=enquiries)
    return known


def replay(history: Iterable[tuple[Event, datetime]]) -> Clarifications:
    known = Clarifications()
    for event, at in history:
        known = evolve(known, event, at)
    return known
