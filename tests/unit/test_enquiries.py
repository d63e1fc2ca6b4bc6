"""The rules of a tender's documents, questions and answers, on the pure domain."""

import hashlib
from datetime import datetime, timedelta

import pytest

from app.command_bus import fingerprint
from procurement import enquiries, enquiry_messages, tender
from procurement.errors import NotAllowed, NotFound, Rejected, WrongState
from schemas.commands import Actor, Role
from schemas.documents import PublishDocument, TenderDocumentPublished, safe_file_name
from schemas.enquiries import AnswerQuestion, AskQuestion, EnquiryAnswered, EnquiryAsked
from schemas.events import Event, TenderDeadlineExtended, TenderPublished
from tests.unit.examples import DEADLINE, NOW, OCID, OFFICER, OTHER_OFFICER, RULES, publish_command

SUPPLIER = Actor(id="supplier-RO-CUI-14399840", role=Role.SUPPLIER)
OTHER_SUPPLIER = Actor(id="supplier-RO-CUI-1", role=Role.SUPPLIER)


class Procedure:
    """A published tender and its events, each recorded at the time given."""

    def __init__(self, **publish: object) -> None:
        command = publish_command().model_copy(update=publish)
        self.history: list[tuple[Event, datetime]] = [
            (event, NOW)
            for event in tender.publish(command, OFFICER, NOW, RULES, tender_id="t-1", ocid=OCID)
        ]

    @property
    def state(self) -> tender.Tender:
        found = tender.replay([event for event, _ in self.history])
        assert found is not None
        return found

    @property
    def known(self) -> enquiries.Clarifications:
        return enquiries.replay(self.history)

    def record(self, events: list[Event], at: datetime) -> list[Event]:
        self.history += [(event, at) for event in events]
        return events

    def document(self, at: datetime = NOW, **fields: object) -> list[Event]:
        command = PublishDocument(**(DOCUMENT | fields))
        decided = enquiries.publish_document(
            self.state, self.known, command, OFFICER, at, RULES, new_document_id="doc-1"
        )
        return self.record(decided, at)

    def ask(self, at: datetime = NOW, actor: Actor = SUPPLIER, **fields: object) -> list[Event]:
        command = AskQuestion(**(QUESTION | fields))
        number = len(self.known.enquiries) + 1
        decided = enquiries.ask(
            self.state, self.known, command, actor, at, RULES, enquiry_id=f"enquiry-{number}"
        )
        return self.record(decided, at)

    def answer(self, at: datetime = NOW, actor: Actor = OFFICER, **fields: object) -> list[Event]:
        command = AnswerQuestion(**(ANSWER | fields))
        decided = enquiries.answer(self.state, self.known, command, actor, at, RULES)
        return self.record(decided, at)


DOCUMENT = {
    "ocid": OCID,
    "title": "Technical specification",
    "file_name": "caiet.pdf",
    "media_type": "application/pdf",
    "content": b"%PDF-1.7 version 1",
}
V2 = b"%PDF-1.7 version 2"
V2_SHA256 = hashlib.sha256(V2).hexdigest()
QUESTION = {"ocid": OCID, "title": "Paper weight", "description": "Is 75 g/m2 acceptable?"}
ANSWER = {"ocid": OCID, "enquiry_id": "enquiry-1", "answer": "No, 80 g/m2."}


# The enquiry period


def test_the_enquiry_period_ends_by_default_the_rules_period_before_the_deadline() -> None:
    """Questions close ten days before the submission deadline unless the buyer says sooner."""
    procedure = Procedure()
    ends = enquiries.enquiry_period_end(procedure.state, procedure.known, RULES)
    assert ends == DEADLINE - timedelta(days=10)


def test_a_buyer_may_close_questions_sooner_but_not_later() -> None:
    """An enquiry period ending less than ten days before the deadline is refused."""
    sooner = NOW + timedelta(days=5)
    procedure = Procedure(enquiry_period_end=sooner)
    assert enquiries.enquiry_period_end(procedure.state, procedure.known, RULES) == sooner
    with pytest.raises(Rejected) as refused:
        Procedure(enquiry_period_end=DEADLINE - timedelta(days=9))
    assert refused.value.code == "enquiry_period_too_late"


def test_a_tender_published_before_enquiries_takes_the_rules_period() -> None:
    """An old TenderPublished without an enquiry period reads with the rules' default."""
    procedure = Procedure()
    published, at = procedure.history[0]
    assert isinstance(published, TenderPublished)
    procedure.history[0] = (published.model_copy(update={"enquiry_period_end": None}), at)
    ends = enquiries.enquiry_period_end(procedure.state, procedure.known, RULES)
    assert ends == DEADLINE - RULES.enquiry_period_before_deadline


def test_extending_the_deadline_moves_the_enquiry_period_with_it() -> None:
    """The gap between the last question and the deadline is kept."""
    procedure = Procedure()
    later = DEADLINE + timedelta(days=7)
    procedure.record(
        [
            TenderDeadlineExtended(
                previous_deadline=DEADLINE,
                submission_deadline=later,
                reason="More time",
                required_by_rules=False,
            )
        ],
        NOW,
    )
    ends = enquiries.enquiry_period_end(procedure.state, procedure.known, RULES)
    assert ends == later - timedelta(days=10)


# Questions


def test_a_supplier_asks_in_the_enquiry_period() -> None:
    """The question is recorded with its asker, privately."""
    [asked] = Procedure().ask()
    assert isinstance(asked, EnquiryAsked)
    assert asked.asker_id == SUPPLIER.id
    assert not EnquiryAsked.public


def test_a_question_after_the_enquiry_period_is_refused() -> None:
    """At or after the enquiry period's end the answer is 409 enquiry_period_over."""
    procedure = Procedure()
    with pytest.raises(WrongState) as refused:
        procedure.ask(at=DEADLINE - timedelta(days=10))
    assert refused.value.code == "enquiry_period_over"


@pytest.mark.parametrize("actor", [OFFICER, OTHER_OFFICER], ids=str)
def test_only_suppliers_ask(actor: Actor) -> None:
    """Officers answer; they do not ask."""
    with pytest.raises(NotAllowed):
        Procedure().ask(actor=actor)


def test_a_supplier_cannot_flood_the_buyer() -> None:
    """The same question twice, or more than the rules' number, is refused."""
    procedure = Procedure()
    procedure.ask()
    with pytest.raises(Rejected) as repeated:
        procedure.ask()
    assert repeated.value.code == "duplicate_question"
    for number in range(2, RULES.questions_per_supplier + 1):
        procedure.ask(title=f"Question {number}")
    with pytest.raises(Rejected) as flooded:
        procedure.ask(title="One more")
    assert flooded.value.code == "too_many_questions"
    procedure.ask(actor=OTHER_SUPPLIER)  # the others still ask


def test_a_question_about_an_unknown_lot_is_refused() -> None:
    with pytest.raises(Rejected, match="no lot"):
        Procedure().ask(related_lot="lot-9")


# Answers


def test_the_buyer_answers_and_the_answer_repeats_the_question_without_the_asker() -> None:
    """The public event reads on its own and names nobody."""
    procedure = Procedure()
    procedure.ask()
    [answered] = procedure.answer(at=NOW + timedelta(days=1))
    assert isinstance(answered, EnquiryAnswered)
    assert answered.description == QUESTION["description"]
    assert answered.asked_at == NOW
    assert "asker_id" not in EnquiryAnswered.model_fields
    with pytest.raises(WrongState, match="answered"):
        procedure.answer()


def test_only_the_buyers_officers_answer() -> None:
    procedure = Procedure()
    procedure.ask()
    with pytest.raises(NotAllowed):
        procedure.answer(actor=OTHER_OFFICER)
    with pytest.raises(NotFound):
        procedure.answer(enquiry_id="enquiry-9")


def test_an_answer_less_than_six_days_before_the_deadline_extends_it() -> None:
    """Article 47(3)(a): information supplied late leaves six days after it."""
    procedure = Procedure()
    procedure.ask()
    late = DEADLINE - timedelta(days=2)
    _, extended = procedure.answer(at=late)
    assert isinstance(extended, TenderDeadlineExtended)
    assert extended.required_by_rules
    assert extended.submission_deadline == late + timedelta(days=6)
    assert procedure.state.submission_deadline == late + timedelta(days=6)


def test_an_answer_that_changes_the_documents_needs_their_new_version() -> None:
    """Without a version published after the question, it is refused; with one, the
    answer names it."""
    procedure = Procedure()
    procedure.document()
    procedure.ask(at=NOW + timedelta(hours=1))
    with pytest.raises(Rejected) as refused:
        procedure.answer(at=NOW + timedelta(hours=2), changes_documents=True, document_id="doc-1")
    assert refused.value.code == "amendment_missing"
    procedure.document(at=NOW + timedelta(hours=3), document_id="doc-1", content=V2, reason="Q1")
    [answered] = procedure.answer(
        at=NOW + timedelta(hours=4), changes_documents=True, document_id="doc-1"
    )
    assert isinstance(answered, EnquiryAnswered)
    assert answered.amended_document is not None
    assert answered.amended_document.version == 2
    assert answered.amended_document.sha256 == V2_SHA256


# Documents


def test_documents_are_versioned_and_a_new_version_is_an_amendment_with_a_reason() -> None:
    procedure = Procedure()
    [first] = procedure.document()
    assert isinstance(first, TenderDocumentPublished)
    assert (first.document_id, first.version, first.is_amendment) == ("doc-1", 1, False)
    with pytest.raises(Rejected) as unchanged:
        procedure.document(document_id="doc-1", reason="Same")
    assert unchanged.value.code == "no_change"
    with pytest.raises(Rejected) as no_reason:
        procedure.document(document_id="doc-1", content=V2)
    assert no_reason.value.code == "reason_missing"
    [second] = procedure.document(document_id="doc-1", content=V2, reason="Typo fixed")
    assert isinstance(second, TenderDocumentPublished)
    assert (second.version, second.is_amendment) == (2, True)
    with pytest.raises(NotFound):
        procedure.document(document_id="doc-9", reason="?")


def test_a_document_that_changes_the_requirements_extends_the_deadline() -> None:
    """Article 47(3)(b): a significant change leaves the rules' period after it."""
    procedure = Procedure()
    late = DEADLINE - timedelta(days=1)
    _, extended = procedure.document(at=late, changes_requirements=True, reason="New lot")
    assert isinstance(extended, TenderDeadlineExtended)
    assert extended.required_by_rules
    assert extended.submission_deadline == late + RULES.minimum_period_after_significant_amendment


def test_only_the_buyer_publishes_documents_and_only_while_it_takes_changes() -> None:
    procedure = Procedure()
    command = PublishDocument(**DOCUMENT)
    with pytest.raises(NotAllowed):
        enquiries.publish_document(
            procedure.state,
            procedure.known,
            command,
            OTHER_OFFICER,
            NOW,
            RULES,
            new_document_id="d",
        )
    with pytest.raises(WrongState):
        procedure.document(at=DEADLINE)


@pytest.mark.parametrize(
    ("sent", "kept"),
    [
        ("../../etc/passwd", "passwd"),
        ("C:\\Windows\\..\\evil.exe", "evil.exe"),
        ("a\x00b\u202ec.pdf", "abc.pdf"),
        ('x"; filename="y.html', "x_ filename_y.html"),
        ("..", "document"),
        (".bashrc", "bashrc"),
        ("Caiet de sarcini.pdf", "Caiet de sarcini.pdf"),
        ("x" * 300 + ".pdf", "x" * 116 + ".pdf"),
    ],
)
def test_hostile_file_names_are_made_safe(sent: str, kept: str) -> None:
    """Only the last path component, no control or format character, no quote, no
    leading dot, a bounded length that keeps the extension."""
    assert safe_file_name(sent) == kept


def test_the_asker_alone_is_told_of_its_question_and_answer() -> None:
    """The receipt and the answer go to the asker, privately."""
    procedure = Procedure()
    [asked] = procedure.ask()
    [(to, text)] = enquiry_messages.notices(procedure.known, asked)
    assert (to, "received" in text) == (SUPPLIER.id, True)
    before = procedure.known
    [answered] = procedure.answer()
    [(to, text)] = enquiry_messages.notices(before, answered)
    assert to == SUPPLIER.id
    assert "No, 80 g/m2." in text


def test_a_key_reused_for_other_bytes_is_another_request() -> None:
    """The upload's digest is in the command's JSON, though its bytes are not: a retry with
    other bytes under the same Idempotency-Key is refused, never answered as the first."""
    first = PublishDocument(**DOCUMENT)
    other = first.model_copy(update={"content": V2})
    assert "content" not in first.model_dump()
    assert fingerprint(first, OFFICER) != fingerprint(other, OFFICER)
