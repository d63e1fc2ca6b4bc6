"""Notices to parties, pure: who is told what of each event, and the e-mail made of a notice."""

import uuid
from datetime import UTC, datetime, timedelta
from typing import Literal

import pytest

from adapters.mail import MailServer, compose, retry_after
from adapters.readiness import Figures, warnings
from procurement import enquiries
from publication.notices import Before, Parties, notices, parties
from readmodels.notices import recipients
from schemas.bids import Receipt
from schemas.commands import Actor, Role
from schemas.enquiries import EnquiryAnswered, EnquiryAsked
from schemas.evaluation import (
    AwardDecided,
    ClarificationAnswered,
    ComplaintFiled,
    DismissComplaint,
    FileComplaint,
    LotCancelled,
    LotUnsuccessful,
    ProcedureCancelled,
    UnsuccessfulReason,
)
from schemas.events import Envelope, Event, TenderCancelled, TenderUnsuccessful, envelope
from tests.unit.evaluation_examples import (
    BUYER,
    LOT,
    NOW,
    OCID,
    REVIEWER,
    awarded,
    bid,
    facts,
    supplier,
)

BIDS = f"{OCID}:bids"


def _stored(event: Event, aggregate_id: str) -> Envelope:
    return envelope(
        event,
        event_id=uuid.uuid4(),
        aggregate_id=aggregate_id,
        sequence=1,
        actor="officer-ion",
        occurred_at=NOW,
    )


def _receipt(
    bidder: str, kind: Literal["bid", "withdrawal"] = "bid", lots: tuple[str, ...] = ("lot-1",)
) -> Receipt:
    return Receipt(
        kind=kind,
        bid_id=f"bid-{uuid.uuid4().hex[:8]}",
        ocid=OCID,
        bidder_id=bidder,
        lots=lots if kind == "bid" else (),
        version=1,
        log_index=0,
        ciphertext_sha256="ab" * 32 if kind == "bid" else None,
        received_at=NOW,
    )


def test_the_tenderers_are_those_whose_bid_stands() -> None:
    """A withdrawal takes a bidder out, a later bid puts it back; lots follow its last bid."""
    found = parties(
        "agency-RO-1",
        [
            _receipt("supplier-a", lots=("lot-1", "lot-2")),
            _receipt("supplier-b"),
            _receipt("supplier-b", "withdrawal"),
            _receipt("supplier-c"),
            _receipt("supplier-c", "withdrawal"),
            _receipt("supplier-c", lots=("lot-2",)),
        ],
    )
    assert found.bidders == {"supplier-a", "supplier-c"}
    assert found.by_lot == {"lot-1": {"supplier-a"}, "lot-2": {"supplier-a", "supplier-c"}}


def test_an_award_reaches_every_bidder_of_the_lot_with_its_reasons_and_standstill() -> None:
    """The event's own messages become one notice per recipient, about the tender."""
    procedure = awarded(facts(), bid("a", "900.00"), bid("b", "950.00"))
    item = _stored(procedure.events[-1], f"{OCID}:evaluation")
    told = {n.recipient_id: n for n in notices(item)}
    assert set(told) == {"supplier-a", "supplier-b"}
    award = procedure.events[-1]
    assert isinstance(award, AwardDecided)
    ends = award.standstill_ends.isoformat()  # the end of its tenth day, in the buyer's zone
    assert award.standstill_ends > NOW + timedelta(days=10)
    assert all(ends in n.text and n.ocid == OCID for n in told.values())
    assert "won lot lot-1" in told["supplier-a"].text
    assert told["supplier-b"].kind == "AwardDecided"
    assert {n.event_id for n in told.values()} == {item.event_id}


@pytest.mark.parametrize(
    ("event", "aggregate", "told"),
    [
        (TenderCancelled(reason="Budget withdrawn"), OCID, {"supplier-a", "supplier-c"}),
        (
            ProcedureCancelled(officer_id="officer-ion", reason="Budget withdrawn"),
            f"{OCID}:evaluation",
            {"supplier-a", "supplier-c"},
        ),
        (
            LotCancelled(lot_id="lot-2", officer_id="officer-ion", reason="Budget withdrawn"),
            f"{OCID}:evaluation",
            {"supplier-c"},
        ),
    ],
)
def test_a_cancellation_reaches_every_tenderer_of_what_was_cancelled(
    event: Event, aggregate: str, told: set[str]
) -> None:
    """Tender and procedure: every bidder with a standing bid; a lot: its own bidders only;
    each notice gives the reason."""
    standing = Parties(
        "agency-RO-1",
        frozenset({"supplier-a", "supplier-c"}),
        {"lot-1": frozenset({"supplier-a"}), "lot-2": frozenset({"supplier-c"})},
    )
    made = notices(_stored(event, aggregate), standing)
    assert {n.recipient_id for n in made} == told
    assert all("Budget withdrawn" in n.text and n.ocid == OCID for n in made)


def test_a_cancellation_without_tenderers_tells_nobody() -> None:
    """Cancelled before any bid: nobody to tell, and nothing is invented."""
    assert notices(_stored(TenderCancelled(reason="Budget withdrawn"), OCID)) == []


def test_events_that_tell_nobody_make_no_notice() -> None:
    """A registration or a publication names no recipient."""
    procedure = awarded(facts(), bid("a", "900.00"))
    assert notices(_stored(procedure.events[0], f"{OCID}:evaluation")) == []


_ROW = {
    "event_id": uuid.UUID(int=7),
    "recipient_id": "supplier-RO-1",
    "ocid": OCID,
    "kind": "AwardDecided",
    "text": "Bid b-1 won lot lot-1.\n.\nThe standstill ends 2030-05-14.",
    "occurred_at": datetime(2030, 5, 4, tzinfo=UTC),
}


def test_the_mail_of_a_notice_carries_its_text_to_one_address() -> None:
    """One To address, a subject naming the event and tender, a Message-ID that a repeat
    keeps (so a mail client shows it once), and the notice's text."""
    message = compose("notices@sicap.example.ro", _ROW | {"address": "oferte@hartia.ro"})
    assert message["To"] == "oferte@hartia.ro"
    assert message["Subject"] == f"Award decided: {OCID}"
    assert message["Auto-Submitted"] == "auto-generated"
    assert "The standstill ends 2030-05-14." in message.get_content()
    again = compose("notices@sicap.example.ro", _ROW | {"address": "oferte@hartia.ro"})
    assert message["Message-ID"] == again["Message-ID"]


@pytest.mark.parametrize("address", ["a,victim@example.ro", "a>b@example.ro", '"x@y"@z.ro,w@v.ro'])
def test_an_address_that_would_name_others_is_refused(address: str) -> None:
    """An address the registration let through but that a header would read as several
    addresses, or break, is no address to send to."""
    with pytest.raises(ValueError, match=r"addr_spec|address"):
        compose("notices@sicap.example.ro", _ROW | {"address": address})


def test_the_mail_server_url() -> None:
    """smtp:// on port 25 by default, smtps:// with TLS and credentials; a password is
    never in the server's repr; anything else is refused."""
    plain = MailServer.parse("smtp://mail.example.ro", "notices@example.ro")
    assert (plain.host, plain.port, plain.implicit_tls, plain.username) == (
        "mail.example.ro",
        25,
        False,
        None,
    )
    tls = MailServer.parse("smtps://user%40x:s3cr%2Ft@mail.example.ro:465", "notices@example.ro")
    assert (tls.port, tls.implicit_tls, tls.username, tls.password) == (
        465,
        True,
        "user@x",
        "s3cr/t",
    )
    assert "s3cr" not in repr(tls)
    for wrong in ("http://mail.example.ro", "smtp://", "mail.example.ro:25"):
        with pytest.raises(ValueError, match="PROCUREMENT_SMTP_URL"):
            MailServer.parse(wrong, "notices@example.ro")


def test_retries_back_off_to_a_ceiling() -> None:
    """1 s after the first failure, doubling, never more than 15 minutes apart."""
    assert [retry_after(n) for n in (1, 2, 3, 4)] == [1.0, 2.0, 4.0, 8.0]
    assert retry_after(40) == 900.0


def test_mail_that_waits_or_failed_is_a_warning_not_a_failure() -> None:
    """The operator sees it under warnings; the notices are in the inboxes all the same."""
    quiet = Figures(None, 0, 0.0, 0, 0.0, 0, 0)
    assert "mail" not in warnings(quiet)
    figures = Figures(None, 0, 0.0, 0, 0.0, 0, 0, mail_retrying=2, mail_failed=1)
    assert "2 notice e-mails wait" in warnings(figures)["mail"]


def test_a_complaint_and_a_bidders_answers_reach_the_buyers_agency() -> None:
    """The buyer must act on them: the notice goes to its agency, whose officers read it;
    nobody is told when the buyer is unknown."""
    filed = ComplaintFiled(
        complaint_id="complaint-1", lot_id="lot-1", bidder_id="supplier-b", grounds="Too cheap"
    )
    answered = ClarificationAnswered(
        request_id="clarification-1",
        bid_id="b-1",
        bidder_id="supplier-b",
        lot_ids=("lot-1",),
        answer="Our price holds: see the attached quote.",
    )
    buyer = Parties("agency-RO-1")
    [complaint] = notices(_stored(filed, f"{OCID}:evaluation"), buyer)
    assert (complaint.recipient_id, complaint.kind) == ("agency-RO-1", "ComplaintFiled")
    assert "Too cheap" in complaint.text
    assert "suspended" in complaint.text
    [answer] = notices(_stored(answered, f"{OCID}:evaluation"), buyer)
    assert answer.recipient_id == "agency-RO-1"
    assert "see the attached quote" not in answer.text  # read where the committee reads it
    assert notices(_stored(filed, f"{OCID}:evaluation")) == []


@pytest.mark.parametrize(
    ("actor", "reads"),
    [
        (Actor(id="officer-1", role=Role.OFFICER, agency_id="agency-A"), ["officer-1", "agency-A"]),
        (Actor(id="reviewer-1", role=Role.REVIEWER, agency_id="cnsc"), ["reviewer-1", "cnsc"]),
        (Actor(id="admin-1", role=Role.AGENCY_ADMIN, agency_id="agency-A"), ["admin-1"]),
        (Actor(id="supplier-1", role=Role.SUPPLIER), ["supplier-1"]),
    ],
)
def test_who_reads_which_notices(actor: Actor, reads: list[str]) -> None:
    """Officers and reviewers read their own and their agency's; an agency's administrator,
    who only registers officers, and a supplier read their own."""
    assert recipients(actor) == reads


@pytest.mark.parametrize(
    ("event", "aggregate", "told"),
    [
        (TenderUnsuccessful(reason="every bid was rejected at the opening"), OCID, {"supplier-a", "supplier-c"}),
        (
            LotUnsuccessful(lot_id="lot-2", reason_code=UnsuccessfulReason.NO_ADMISSIBLE_BIDS, reason="its only bid was rejected"),
            f"{OCID}:evaluation",
            {"supplier-c"},
        ),
    ],
)  # fmt: skip
def test_an_unsuccessful_lot_or_tender_reaches_its_tenderers_with_the_reason(
    event: TenderUnsuccessful | LotUnsuccessful, aggregate: str, told: set[str]
) -> None:
    """Article 55(1): the tenderers learn why no contract is awarded; a lot's own only."""
    standing = Parties(
        "agency-RO-1",
        frozenset({"supplier-a", "supplier-c"}),
        {"lot-1": frozenset({"supplier-a"}), "lot-2": frozenset({"supplier-c"})},
    )
    made = notices(_stored(event, aggregate), standing)
    assert {n.recipient_id for n in made} == told
    assert all(event.reason in n.text for n in made)


def test_a_ruling_on_a_complaint_reaches_the_complainant_the_buyer_and_the_winner() -> None:
    """The decision event names the complaint only; the evaluation before it names who
    complained and who won, so each of them is told the ruling and its reasons."""
    procedure = awarded(facts(), bid("a", "900.00"), bid("b", "950.00"))
    procedure.do(FileComplaint(ocid=OCID, lot_id=LOT, grounds="Too cheap"), supplier("supplier-b"))
    before = procedure.evaluation
    [ruling] = procedure.do(
        DismissComplaint(ocid=OCID, complaint_id="complaint-1", reason="The price holds"),
        REVIEWER,
    )
    stored = _stored(ruling, f"{OCID}:evaluation")
    assert notices(stored) == []  # without the evaluation, nobody is known
    made = notices(stored, Parties(BUYER), Before(evaluation=before))
    assert {n.recipient_id for n in made} == {"supplier-b", BUYER, "supplier-a"}
    assert all("The price holds" in n.text for n in made)


def test_a_question_is_told_to_its_asker_alone_when_received_and_answered() -> None:
    """The public answer names nobody; the asker's own notice is found from the question."""
    asked = EnquiryAsked(
        enquiry_id="enquiry-1", asker_id="supplier-a", title="Weight", description="75 g/m2?"
    )
    answered = EnquiryAnswered(
        enquiry_id="enquiry-1",
        title="Weight",
        description="75 g/m2?",
        answer="No: 80.",
        asked_at=NOW,
    )
    [received] = notices(_stored(asked, OCID))
    assert received.recipient_id == "supplier-a"
    known = Before(clarifications=enquiries.replay([(asked, NOW)]))
    [told] = notices(_stored(answered, OCID), Parties(BUYER), known)
    assert told.recipient_id == "supplier-a"
    assert "No: 80." in told.text
