"""Notices to parties on the real stack: each party's inbox, its private Atom feed, and the
same notices as e-mail through a real SMTP server (aiosmtpd, on a local port), which may be
down when they are written and still gets every one later."""

import email
import json
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from email import policy
from typing import Any
from xml.etree import ElementTree

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session

from adapters.embedded import free_port
from bidding import sealing
from readmodels import notices
from schemas.upcasting import read_envelope
from sdk.keyfiles import KeyFile
from sdk.market import supplier_registration
from tests.integration.conftest import running_stack, tender_body
from tests.integration.market import (
    Party,
    bid_content,
    buyer_with_committee,
    hand_in,
    seal,
    sealed_tender,
    submit,
    until_sealed,
)
from tests.integration.stack import OPERATOR_TOKEN, Stack, eventually
from tests.integration.test_cli import procurement

pytestmark = pytest.mark.integration

ATOM = "{http://www.w3.org/2005/Atom}"
MAIL_PORT = free_port()


class Mailbox:
    """What the SMTP server received: (envelope recipients, message text)."""

    def __init__(self) -> None:
        self.received: list[tuple[list[str], str]] = []

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        raw = envelope.original_content or b""
        message = email.message_from_bytes(raw, policy=policy.default)
        text = message.get_body().get_content()  # type: ignore[union-attr]
        self.received.append((list(envelope.rcpt_tos), text))
        return "250 OK"

    def to(self, address: str) -> list[str]:
        return [text for rcpt, text in self.received if rcpt == [address]]


@contextmanager
def smtp_server() -> Iterator[Mailbox]:
    """A real SMTP server on the port the platform was told, for the time of the block."""
    mailbox = Mailbox()
    controller = Controller(mailbox, hostname="127.0.0.1", port=MAIL_PORT)
    controller.start()
    try:
        yield mailbox
    finally:
        controller.stop()


@pytest.fixture(scope="module")
async def stack(
    postgres_server: str, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[Stack]:
    """The platform, sending mail to MAIL_PORT, where no server listens unless a test starts one."""
    async with running_stack(
        postgres_server,
        tmp_path_factory,
        smtp_url=f"smtp://127.0.0.1:{MAIL_PORT}",
        mail_from="notices@sicap.test",
    ) as platform:
        yield platform


async def supplier(stack: Stack, name: str) -> tuple[Party, str]:
    """A supplier registered with an address of its own: the party and its address."""
    key_file = KeyFile.generate(committee=False)
    number = uuid.uuid4().int % 10**9
    address = f"oferte-{number}@example.ro"
    body = supplier_registration(
        key_file, name=name, identifier=f"RO-CUI-{number}", email=address, is_sme=True
    )
    async with stack.client() as client:
        answer = await client.post("/suppliers", json=body)
    assert answer.status_code == 201, answer.text
    party_id = answer.json()["id"]
    return Party(party_id, answer.json()["token"], key_file.named(party_id)), address


async def inbox(stack: Stack, token: str, **params: Any) -> dict[str, Any]:
    async with stack.client(token) as client:
        answer = await client.get("/inbox", params=params)
    assert answer.status_code == 200, answer.text
    found: dict[str, Any] = answer.json()
    return found


async def notice_of(stack: Stack, party: Party, kind: str) -> dict[str, Any]:
    async def arrived() -> dict[str, Any] | None:
        found = [n for n in (await inbox(stack, party.token))["notices"] if n["kind"] == kind]
        return found[0] if found else None

    return await eventually(arrived)


async def test_an_award_reaches_both_bidders_inboxes_feeds_and_mail(stack: Stack) -> None:
    """Each bidder is told the award with its reasons and the end of the standstill, in its
    inbox, its private Atom feed and by e-mail; nobody reads another's notices."""
    buyer = await buyer_with_committee(stack, size=2)
    ocid, material, deadline = await sealed_tender(stack, buyer)
    (cheap, cheap_mail), (dear, dear_mail) = (
        await supplier(stack, "Ieftin SRL"),
        await supplier(stack, "Scump SA"),
    )
    bids = {}
    for bidder, amount in ((cheap, "880.00"), (dear, "960.00")):
        answer = await submit(
            stack, bidder, seal(bid_content(ocid, bidder.id, amount), material, bidder)
        )
        bids[bidder.id] = answer.json()["receipt"]["bid_id"]
    await until_sealed(stack, ocid, deadline)
    for member in buyer.members:
        assert (await hand_in(stack, member, ocid)).status_code == 200
    with smtp_server() as mailbox:
        async with stack.client(buyer.members[0].token) as committee:
            for bid_id in bids.values():
                answer = await committee.post(
                    f"/tenders/{ocid}/evaluation/qualifications", json={"bid_id": bid_id}
                )
                assert answer.status_code == 201, answer.text
        async with stack.client(buyer.officer.token) as officer:
            for step in ("lot-completions", "awards"):
                answer = await officer.post(
                    f"/tenders/{ocid}/evaluation/{step}", json={"lot_id": "lot-1"}
                )
                assert answer.status_code == 201, answer.text

            async def award() -> list[dict[str, Any]]:
                found = await officer.get(f"/tenders/{ocid}/awards")
                awarded: list[dict[str, Any]] = found.json()["awards"]
                return awarded

            awards = await eventually(award)
        ends = datetime.fromisoformat(awards[0]["standstill_ends"]).isoformat()

        won, lost = (
            await notice_of(stack, cheap, "AwardDecided"),
            await notice_of(stack, dear, "AwardDecided"),
        )
        assert won["ocid"] == lost["ocid"] == ocid
        assert f"Bid {bids[cheap.id]} won lot lot-1" in won["text"]
        assert ends in won["text"]
        assert f"Bid {bids[dear.id]} did not win lot lot-1" in lost["text"]
        assert "ranked 2 of 2" in lost["text"]  # the reason, with the ranking
        assert f"You may complain until {ends}" in lost["text"]

        async def mailed() -> bool:
            return bool(mailbox.to(cheap_mail) and mailbox.to(dear_mail))

        await eventually(mailed)
        assert len(mailbox.received) == 2  # one each, to its own address alone
        assert mailbox.to(cheap_mail)[0].startswith(won["text"])
        assert mailbox.to(dear_mail)[0].startswith(lost["text"])

        # A complaint goes to the buyer's agency: each of its officers reads it and is mailed.
        async with stack.client(dear.token) as client:
            grounds = {"lot_id": "lot-1", "grounds": "The winner's price is abnormally low"}
            answer = await client.post(f"/tenders/{ocid}/evaluation/complaints", json=grounds)
            assert answer.status_code == 201, answer.text
        for reader in (buyer.officer, buyer.members[0]):
            complaint = await notice_of(stack, reader, "ComplaintFiled")
            assert complaint["recipient_id"] == buyer.officer.agency_id
            assert "abnormally low" in complaint["text"]

        async def officers_mailed() -> bool:
            return bool(mailbox.to("ana.pop@example.ro") and mailbox.to("ion@primarie.ro"))

        await eventually(officers_mailed)
        assert len(mailbox.to("ion@primarie.ro")) == 1  # two members, one address: one mail
        assert mailbox.to(dear_mail) == [mailbox.to(dear_mail)[0]]  # the complainant: not told

    # Nobody reads another's notices: each inbox holds its own party's alone.
    for party, other in ((cheap, dear), (dear, cheap)):
        mine = (await inbox(stack, party.token))["notices"]
        assert {n["recipient_id"] for n in mine} == {party.id}
        assert all(f"Bid {bids[other.id]}" not in n["text"] for n in mine)
    officers = (await inbox(stack, buyer.officer.token))["notices"]
    assert all(n["recipient_id"] in {buyer.officer.id, buyer.officer.agency_id} for n in officers)

    # Read: the unread count falls to nothing once the newest is marked read.
    before = await inbox(stack, cheap.token)
    assert before["unread"] == 1
    assert before["notices"][0]["read"] is False
    async with stack.client(cheap.token) as client:
        marked = await client.post("/inbox/read", json={"through": won["position"]})
        assert marked.status_code == 200, marked.text
        assert marked.json() == {"unread": 0}
    after = await inbox(stack, cheap.token)
    assert after["unread"] == 0
    assert after["notices"][0]["read"] is True

    # The private Atom feed: the link's owner's notices alone, and a new link ends the old.
    async with stack.client(cheap.token) as client:
        first = (await client.post("/inbox/feed-links")).json()["url"]
    async with stack.client(dear.token) as client:
        others = (await client.post("/inbox/feed-links")).json()["url"]
    async with stack.client() as public:
        answer = await public.get(first)
        assert answer.status_code == 200, answer.text
        assert answer.headers["content-type"].startswith("application/atom+xml")
        feed = ElementTree.fromstring(answer.content)
        assert feed.tag == f"{ATOM}feed"
        entries = feed.findall(f"{ATOM}entry")
        assert [e.findtext(f"{ATOM}content") for e in entries] == [won["text"]]
        assert all(e.findtext(f"{ATOM}id", "").startswith("urn:uuid:") for e in entries)
        other_feed = ElementTree.fromstring((await public.get(others)).content)
        assert [e.findtext(f"{ATOM}content") for e in other_feed.findall(f"{ATOM}entry")] == [
            lost["text"]
        ]
    async with stack.client(cheap.token) as client:
        second = (await client.post("/inbox/feed-links")).json()["url"]
    async with stack.client() as public:
        assert (await public.get(first)).status_code == 404
        assert (await public.get(second)).status_code == 200
        assert (await public.get(first[:-3] + "AAA")).status_code in {404, 422}

    # The same from the command line: the inbox, and a new feed link that ends the second.
    listed = await procurement(stack, "inbox", "--json", token=cheap.token)
    assert listed.exit_code == 0, listed.output
    assert [n["text"] for n in json.loads(listed.output)["notices"]] == [won["text"]]
    linked = await procurement(stack, "inbox", "feed-link", token=cheap.token)
    assert linked.exit_code == 0, linked.output
    third = linked.output.split()[0]
    assert third.startswith(f"{stack.api_url}/inbox/feeds/")
    async with stack.client() as public:
        assert (await public.get(second)).status_code == 404
        assert (await public.get(third)).status_code == 200


async def test_mail_sent_while_the_server_is_down_arrives_once_it_is_up(stack: Stack) -> None:
    """A cancellation reaches its tenderers at once in their inboxes; its e-mail is tried,
    fails while the mail server is down (a readiness warning, still ready), and arrives
    once the server is up. A bidder that withdrew is no tenderer and is not told."""
    buyer = await buyer_with_committee(stack, size=2)
    ocid, material, _ = await sealed_tender(stack, buyer, deadline_in=timedelta(minutes=10))
    (staying, staying_mail), (leaving, leaving_mail) = (
        await supplier(stack, "Rămâne SRL"),
        await supplier(stack, "Pleacă SRL"),
    )
    for bidder in (staying, leaving):
        sent = await submit(stack, bidder, seal(bid_content(ocid, bidder.id), material, bidder))
        assert sent.status_code == 201, sent.text
    withdrawal = sealing.withdraw_bid(ocid, leaving.id, 2, leaving.keys.signing_key)
    async with stack.client(leaving.token) as client:
        answer = await client.post(
            f"/tenders/{ocid}/bids/withdrawal", content=withdrawal.model_dump_json()
        )
        assert answer.status_code == 201, answer.text
    async with stack.client(buyer.officer.token) as officer:
        answer = await officer.post(
            f"/tenders/{ocid}/cancellation", json={"reason": "The budget was withdrawn"}
        )
        assert answer.status_code == 200, answer.text

    told = await notice_of(stack, staying, "TenderCancelled")
    assert "The budget was withdrawn" in told["text"]
    assert told["ocid"] == ocid

    async def retrying() -> dict[str, Any] | None:
        async with stack.client() as client:
            ready = await client.get("/health/ready")
        body: dict[str, Any] = ready.json()
        return body if ready.status_code == 200 and "mail" in body.get("warnings", {}) else None

    await eventually(retrying)
    row = await stack.pool.fetchrow(
        "SELECT attempts, last_error, sent_at FROM mail_outbox WHERE address = $1", staying_mail
    )
    assert row["attempts"] >= 1
    assert row["last_error"]
    assert row["sent_at"] is None

    with smtp_server() as mailbox:

        async def delivered() -> bool:
            return bool(mailbox.to(staying_mail))

        await eventually(delivered, within=60)
        assert "The budget was withdrawn" in mailbox.to(staying_mail)[0]
        assert mailbox.to(leaving_mail) == []

        async def warning_gone() -> bool:  # readiness answers are reused for a second
            async with stack.client() as client:
                ready = (await client.get("/health/ready")).json()
            return "mail" not in ready.get("warnings", {})

        await eventually(warning_gone)
    assert (await inbox(stack, leaving.token))["notices"] == []
    sent_at = await stack.pool.fetchval(
        "SELECT sent_at FROM mail_outbox WHERE address = $1", staying_mail
    )
    assert sent_at is not None


async def test_notices_applied_again_are_written_and_mailed_once(stack: Stack) -> None:
    """A replay of the whole store (a broker lost, a restore) writes no notice twice and
    queues no mail again."""
    buyer = await buyer_with_committee(stack, size=2)
    ocid, material, _ = await sealed_tender(stack, buyer, deadline_in=timedelta(minutes=10))
    bidder, _ = await supplier(stack, "Reluat SRL")
    sent = await submit(stack, bidder, seal(bid_content(ocid, bidder.id), material, bidder))
    assert sent.status_code == 201, sent.text
    async with stack.client(buyer.officer.token) as officer:
        answer = await officer.post(f"/tenders/{ocid}/cancellation", json={"reason": "Replayed"})
        assert answer.status_code == 200, answer.text
    await notice_of(stack, bidder, "TenderCancelled")
    counts = "SELECT (SELECT count(*) FROM notices), (SELECT count(*) FROM mail_outbox)"
    before = tuple(await stack.pool.fetchrow(counts))
    rows = await stack.pool.fetch("SELECT envelope FROM events ORDER BY position")
    async with stack.pool.acquire() as connection, connection.transaction():
        assert await notices.record(connection, [read_envelope(r["envelope"]) for r in rows]) == 0
    assert tuple(await stack.pool.fetchrow(counts)) == before


async def kinds_of(stack: Stack, token: str, ocid: str) -> dict[str, str]:
    """The kinds of notice about ``ocid`` in the party's inbox, with their texts."""
    found = (await inbox(stack, token, limit=100))["notices"]
    return {n["kind"]: n["text"] for n in found if n["ocid"] == ocid}


async def told(stack: Stack, token: str, ocid: str, *kinds: str) -> dict[str, str]:
    async def arrived() -> dict[str, str] | None:
        found = await kinds_of(stack, token, ocid)
        return found if set(kinds) <= set(found) else None

    return await eventually(arrived)


async def test_questions_rulings_annulments_and_unsuccessful_lots_reach_their_parties(
    stack: Stack,
) -> None:
    """The asker alone is told its question was received and answered; the review body's
    ruling on a complaint reaches the complainant, the buyer and the winner; an annulled
    award its bidder; a lot that ends without an award every bidder of the lot, with why."""
    buyer = await buyer_with_committee(stack, size=2)
    ocid, material, deadline = await sealed_tender(stack, buyer, deadline_in=timedelta(seconds=8))
    (cheap, _), (dear, _) = await supplier(stack, "Ieftin SRL"), await supplier(stack, "Scump SA")
    bids = {}
    for bidder, amount in ((cheap, "880.00"), (dear, "960.00")):
        answer = await submit(
            stack, bidder, seal(bid_content(ocid, bidder.id, amount), material, bidder)
        )
        bids[bidder.id] = answer.json()["receipt"]["bid_id"]
    await until_sealed(stack, ocid, deadline)
    for member in buyer.members:
        assert (await hand_in(stack, member, ocid)).status_code == 200
    officer = buyer.members[0]
    async with stack.client(officer.token) as client:
        for step, body in (
            *[("qualifications", {"bid_id": bid}) for bid in bids.values()],
            ("lot-completions", {"lot_id": "lot-1"}),
            ("awards", {"lot_id": "lot-1"}),
        ):
            done = await client.post(f"/tenders/{ocid}/evaluation/{step}", json=body)
            assert done.status_code == 201, (step, done.text)
    async with stack.client(dear.token) as client:
        complaint = await client.post(
            f"/tenders/{ocid}/evaluation/complaints",
            json={"lot_id": "lot-1", "grounds": "The winner's price is abnormally low"},
        )
        assert complaint.status_code == 201, complaint.text
    async with stack.client(OPERATOR_TOKEN) as operator:
        agency = await operator.post(
            "/agencies", json={"name": "CNSC", "identifier": f"RO-CNSC-{uuid.uuid4().hex[:8]}"}
        )
        assert agency.status_code == 201, agency.text
        reviewer = await operator.post(
            "/officers",
            json={
                "agency_id": agency.json()["id"],
                "name": "Maria Ionescu",
                "email": "maria@cnsc.ro",
                "role": "reviewer",
            },
        )
        assert reviewer.status_code == 201, reviewer.text
    async with stack.client(reviewer.json()["token"]) as review:
        ruled = await review.post(
            f"/tenders/{ocid}/evaluation/complaint-dismissals",
            json={"complaint_id": "complaint-1", "reason": "The price was justified"},
        )
        assert ruled.status_code == 201, ruled.text
    for party in (dear, cheap, buyer.officer):
        ruling = (await told(stack, party.token, ocid, "ComplaintDismissed"))["ComplaintDismissed"]
        assert "The price was justified" in ruling

    async with stack.client(officer.token) as client:
        for reason_code, reason in (
            ("refused_to_sign", "Its letter of 3 June"),
            ("exclusion_ground", "Insolvent"),
        ):
            if reason_code == "exclusion_ground":
                again = await client.post(
                    f"/tenders/{ocid}/evaluation/awards", json={"lot_id": "lot-1"}
                )
                assert again.status_code == 201, again.text
            annulled = await client.post(
                f"/tenders/{ocid}/evaluation/award-annulments",
                json={"lot_id": "lot-1", "reason_code": reason_code, "reason": reason},
            )
            assert annulled.status_code == 201, annulled.text
    assert (
        "Its letter of 3 June"
        in (await told(stack, cheap.token, ocid, "AwardAnnulled"))["AwardAnnulled"]
    )
    for bidder in (cheap, dear):
        ended = (await told(stack, bidder.token, ocid, "LotUnsuccessful"))["LotUnsuccessful"]
        assert "lot-1" in ended
        assert "no bid is left that can win it" in ended

    # A question, in another tender still in its enquiry period: only its asker is told.
    async with stack.client(buyer.officer.token) as client:
        published = await client.post(
            "/tenders", json=tender_body(deadline_in=timedelta(minutes=1))
        )
        assert published.status_code == 201, published.text
    asked_in = published.json()["id"]
    async with stack.client(cheap.token) as client:
        question = {"title": "Paper weight", "description": "Is 75 g/m2 paper acceptable?"}
        asked = await client.post(f"/tenders/{asked_in}/enquiries", json=question)
        assert asked.status_code == 201, asked.text
    await told(stack, cheap.token, asked_in, "EnquiryAsked")
    async with stack.client(buyer.officer.token) as client:
        enquiry_id = (await client.get(f"/tenders/{asked_in}/enquiries")).json()["enquiries"][0][
            "id"
        ]
        answered = await client.post(
            f"/tenders/{asked_in}/enquiries/{enquiry_id}/answer", json={"answer": "No: 80 g/m2."}
        )
        assert answered.status_code == 201, answered.text
    told_answer = (await told(stack, cheap.token, asked_in, "EnquiryAnswered"))["EnquiryAnswered"]
    assert "No: 80 g/m2." in told_answer
    assert await kinds_of(stack, dear.token, asked_in) == {}  # nobody else hears who asked
