"""Who may do what, route by route: the public reads; a supplier acts for itself only;
officers act only for their own buyer; committee work is the committee's; reviewers rule on
complaints, never about their own agency. Every state-changing route of the API is in the
matrix below, and a route that is not fails the test, so a new one cannot slip past.

For each route, the target is a resource of agency A's procedures in the state where the
route makes sense, and the body is one its rightful party could send (the supplier's own
signed bid, withdrawal or signature, a committee member's signed share): each other kind of
actor replays it and must be refused with 401, 403 or, where the design hides existence,
404, and the store must hold exactly what it held before.
"""

import asyncio
import base64
import json
import uuid
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.routing import APIRoute

from bidding import committee_material, reconfirmation, sealing
from entrypoints.http.app import create_api
from schemas.committee import CommitteeMaterial, MySealedShares
from schemas.contracts import Party as ContractParty
from sdk import committee as member_side
from sdk.keyfiles import KeyFile
from sdk.market import committee_keys_registration
from tests.integration.catalogue_world import catalogue_world, offer_terms
from tests.integration.conftest import register_officer, tender_body
from tests.integration.market import (
    Buyer,
    Party,
    add_officer,
    amend_quantity,
    bid_content,
    buyer_with_committee,
    hand_in,
    register_supplier,
    seal,
    submit,
    until_sealed,
)
from tests.integration.stack import OPERATOR_TOKEN, Stack, eventually, settings_for_tests
from tests.integration.test_contracts import b64sig

# The kinds of actor, each relative to agency A's procedures.
PUBLIC = "no token"
OPERATOR = "operator"
BUYER = "officer of the buyer"
MEMBER = "committee member"  # an officer of the buyer who sits on the committee
ADMIN = "administrator of the buyer's agency"  # registers its officers, nothing more
OTHER_OFFICER = "officer of another agency"
BUYERS_REVIEWER = "reviewer of the buyer's agency"
REVIEWER = "reviewer of a review body"
SUPPLIER = "the supplier itself"  # the bidder whose bid, contract or question it is
COMPETITOR = "another supplier"  # bid in the same procedures, but it is not its resource
OUTSIDER = "a supplier that did not bid"
ACTORS = (
    PUBLIC,
    OPERATOR,
    BUYER,
    MEMBER,
    ADMIN,
    OTHER_OFFICER,
    BUYERS_REVIEWER,
    REVIEWER,
    SUPPLIER,
    COMPETITOR,
    OUTSIDER,
)
OFFICERS_OF_THE_BUYER = frozenset({BUYER, MEMBER})
BIDDERS = frozenset({SUPPLIER, COMPETITOR})
ANYONE = frozenset(ACTORS)

AUCTION_RULES = {"minimum_decrement": "1.00", "ends": "inactivity", "inactivity_seconds": 5}
LOT = "lot-1"


@dataclass
class World:
    """Two agencies, three suppliers, and agency A's procedures at each state a route needs."""

    buyer: Buyer
    admin: Party
    buyers_reviewer: Party
    other_officer: Party
    reviewer: Party
    supplier: Party
    competitor: Party
    outsider: Party
    open: str = ""  # taking bids
    open_key: CommitteeMaterial | None = None  # its committee, named and confirmed
    sealed: str = ""  # past its deadline, one share of two handed in
    opened: str = ""  # bids opened, the evaluation started; a question put to the supplier
    ranked: str = ""  # ranked; the supplier asked to justify its price
    awarded: str = ""  # awarded to the supplier; the competitor complained: suspended
    contracted: str = ""  # awarded with no standstill, the contract drawn
    contract_id: str = ""
    contract_sha256: str = ""
    auction: str = ""  # both bids handed to an auction scheduled an hour ahead
    auction_ready: str = ""  # both bids handed to an auction not scheduled yet
    other_agencys: str = ""  # a tender of agency B
    share: str = ""  # the second member's signed share for ``sealed``, not yet handed in
    amended: str = ""  # the digest of ``open``'s requirements, amended after the bids came
    catalogue: dict[str, str] = field(default_factory=dict)  # offer, purchase, quotation
    bids: dict[tuple[str, str], str] = field(default_factory=dict)  # (ocid, bidder) -> bid id

    def bid(self, ocid: str) -> str:
        """The supplier's bid in the procedure."""
        return self.bids[ocid, self.supplier.id]

    def token(self, actor: str) -> str | None:
        tokens = {
            PUBLIC: None,
            OPERATOR: OPERATOR_TOKEN,
            BUYER: self.buyer.officer.token,
            MEMBER: self.buyer.members[0].token,
            ADMIN: self.admin.token,
            OTHER_OFFICER: self.other_officer.token,
            BUYERS_REVIEWER: self.buyers_reviewer.token,
            REVIEWER: self.reviewer.token,
            SUPPLIER: self.supplier.token,
            COMPETITOR: self.competitor.token,
            OUTSIDER: self.outsider.token,
        }
        return tokens[actor]

    def party(self, actor: str) -> Party | None:
        parties = {
            BUYER: self.buyer.officer,
            MEMBER: self.buyer.members[0],
            ADMIN: self.admin,
            OTHER_OFFICER: self.other_officer,
            BUYERS_REVIEWER: self.buyers_reviewer,
            REVIEWER: self.reviewer,
            SUPPLIER: self.supplier,
            COMPETITOR: self.competitor,
            OUTSIDER: self.outsider,
        }
        return parties.get(actor)


async def add_reviewer(stack: Stack, agency_id: str, role: str = "reviewer") -> Party:
    async with stack.client(OPERATOR_TOKEN) as operator:
        answer = await operator.post(
            "/officers",
            json={
                "agency_id": agency_id,
                "name": "Maria Ionescu",
                "email": "maria@cnsc.ro",
                "role": role,
            },
        )
    assert answer.status_code == 201, answer.text
    return Party(
        answer.json()["id"], answer.json()["token"], KeyFile.generate(committee=False), agency_id
    )


async def add_admin(stack: Stack, agency_id: str) -> Party:
    """The agency's administrator, registered by the operator."""
    return await add_reviewer(stack, agency_id, role="agency_admin")


async def step(stack: Stack, token: str, path: str, body: dict[str, Any]) -> dict[str, Any]:
    async with stack.client(token) as client:
        answer = await client.post(path, json=body)
    assert answer.status_code == 201, (path, answer.text)
    reply: dict[str, Any] = answer.json()
    return reply


async def signed_share(stack: Stack, member: Party, ocid: str) -> str:
    """The member's shares of every bid, decrypted and signed, ready to hand in."""
    async with stack.client(member.token) as client:
        mine = await client.get(f"/tenders/{ocid}/opening/my-shares")
        assert mine.status_code == 200, mine.text
        material = member_side.material_of((await client.get(f"/tenders/{ocid}/committee")).json())
    handed = member_side.hand_in(
        material,
        member.id,
        MySealedShares.model_validate(mine.json()).shares,
        member.keys.member_keys(),
        member.keys.signing_key,
    )
    return handed.model_dump_json()


# Agency A's procedures that pass their deadline, and what each asks for beyond a plain tender.
RATED = {
    "award_criteria": "ratedCriteria",
    "price_weight": "70",
    "quality_criteria": [{"id": "quality", "name": "Technical merit", "weight": "30"}],
}
PROCEDURES: dict[str, dict[str, Any]] = {
    "sealed": {},
    "opened": RATED,  # rated, so that scoring it is for the committee to do
    "ranked": {},
    "awarded": {},
    "contracted": {"standstill_days": 0},
    "auction": {"auction": AUCTION_RULES},
    "auction_ready": {"auction": AUCTION_RULES},
}


async def publish(
    stack: Stack, buyer: Buyer, deadline_in: timedelta, **requirements: Any
) -> tuple[str, CommitteeMaterial, datetime]:
    """Publish a tender of the buyer with its two members as a 2-of-2 committee, named and
    confirmed: its ocid, the committee's key material and the deadline."""
    body = tender_body(deadline_in=deadline_in)
    body["requirements"] |= requirements
    if "auction" in requirements:
        body["procedure_type"] = "open_with_auction"
    async with stack.client(buyer.officer.token) as client:
        published = await client.post("/tenders", json=body)
        assert published.status_code == 201, published.text
        ocid = published.json()["id"]
        nomination = {"members": [m.id for m in buyer.members], "threshold": 2}
        named = await client.post(f"/tenders/{ocid}/committee", json=nomination)
        assert named.status_code == 201, named.text
        material = member_side.material_of((await client.get(f"/tenders/{ocid}/committee")).json())
    for member in buyer.members:
        confirmation = committee_material.confirm(material, member.id, member.keys.signing_key)
        async with stack.client(member.token) as client:
            confirmed = await client.post(
                f"/tenders/{ocid}/committee/confirmations", content=confirmation.model_dump_json()
            )
        assert confirmed.status_code == 201, confirmed.text
    return ocid, material, datetime.fromisoformat(body["submission_deadline"])


async def build_world(stack: Stack) -> World:
    """Register the parties and take agency A's procedures to the states the routes need.
    The procedures share one deadline, so the whole set up waits for it once."""
    buyer = await buyer_with_committee(stack, size=2)
    assert buyer.officer.agency_id is not None
    agency_b = await register_officer(stack)
    world = World(
        buyer=buyer,
        admin=await add_admin(stack, buyer.officer.agency_id),
        buyers_reviewer=await add_reviewer(stack, buyer.officer.agency_id),
        other_officer=await add_officer(stack, agency_b["agency_id"]),
        reviewer=await add_reviewer(stack, agency_b["agency_id"]),
        supplier=await register_supplier(stack, "Furnizorul SRL"),
        competitor=await register_supplier(stack, "Concurentul SRL"),
        outsider=await register_supplier(stack, "Străinul SRL"),
    )
    async with stack.client(agency_b["token"]) as officer_b:
        published = await officer_b.post("/tenders", json=tender_body())
        assert published.status_code == 201, published.text
        world.other_agencys = published.json()["id"]

    world.open, world.open_key, _ = await publish(stack, buyer, timedelta(days=1))
    timed = {
        name: await publish(stack, buyer, timedelta(seconds=20), **requirements)
        for name, requirements in PROCEDURES.items()
    }
    for name, (ocid, _, _) in timed.items():
        setattr(world, name, ocid)
    for ocid, key, _ in [(world.open, world.open_key, None), *timed.values()]:
        # The supplier's price in ``ranked`` is abnormally low, so it can be asked to justify it.
        low = "700.00" if ocid == world.ranked else "880.00"
        for bidder, amount in ((world.supplier, low), (world.competitor, "960.00")):
            answer = await submit(
                stack, bidder, seal(bid_content(ocid, bidder.id, amount), key, bidder)
            )
            assert answer.status_code == 201, answer.text
            world.bids[ocid, bidder.id] = answer.json()["receipt"]["bid_id"]
    await amend_quantity(stack, buyer.officer, world.open, "200")
    async with stack.client(world.supplier.token) as supplier:
        mine = (await supplier.get(f"/tenders/{world.open}/bids")).json()
    world.amended = mine["my_reconfirmation"]["requirements_sha256"]
    for ocid, _, deadline in timed.values():
        await until_sealed(stack, ocid, deadline)
    for ocid, _, _ in timed.values():
        for member in buyer.members[: 1 if ocid == world.sealed else 2]:
            assert (await hand_in(stack, member, ocid)).status_code == 200
    world.share = await signed_share(stack, buyer.members[1], world.sealed)

    member_token, officer = buyer.members[0].token, buyer.officer.token
    respond_by = (datetime.now(UTC) + timedelta(days=5)).isoformat()
    await step(
        stack,
        member_token,
        f"/tenders/{world.opened}/evaluation/clarifications",
        {"bid_id": world.bid(world.opened), "question": "Which mill?", "respond_by": respond_by},
    )
    for ocid in (world.ranked, world.awarded, world.contracted, world.auction, world.auction_ready):
        for bidder in (world.supplier, world.competitor):
            await step(
                stack,
                member_token,
                f"/tenders/{ocid}/evaluation/qualifications",
                {"bid_id": world.bids[ocid, bidder.id]},
            )
        await step(stack, officer, f"/tenders/{ocid}/evaluation/lot-completions", {"lot_id": LOT})
    await step(
        stack,
        officer,
        f"/tenders/{world.ranked}/evaluation/justification-requests",
        {
            "lot_id": LOT,
            "bid_id": world.bid(world.ranked),
            "question": "How is the price so low?",
            "respond_by": respond_by,
        },
    )
    for ocid in (world.awarded, world.contracted):
        await step(stack, officer, f"/tenders/{ocid}/evaluation/awards", {"lot_id": LOT})
    await step(
        stack,
        world.competitor.token,
        f"/tenders/{world.awarded}/evaluation/complaints",
        {"lot_id": LOT, "grounds": "The winner's price is abnormally low"},
    )
    await step(stack, world.outsider.token, f"/tenders/{world.open}/complaints", CONDITIONS_GROUNDS)
    period = {"start_date": "2027-01-01", "end_date": "2027-12-31"}
    drawn = await step(
        stack,
        member_token,
        f"/tenders/{world.contracted}/contracts",
        {"lot_id": LOT, "period": period},
    )
    world.contract_id = drawn["id"]
    async with stack.client() as public:
        document = (await public.get(f"/contracts/{world.contract_id}")).json()
    world.contract_sha256 = document["document_sha256"]
    starts_at = (datetime.now(UTC) + timedelta(hours=1)).isoformat()
    await step(
        stack,
        officer,
        f"/tenders/{world.auction}/auctions",
        {"lot_id": LOT, "starts_at": starts_at},
    )
    world.catalogue = await catalogue_world(stack, world.supplier.token, world.competitor.token, officer)  # fmt: skip
    await settled(stack)
    return world


async def store_state(stack: Stack) -> tuple[Any, ...]:
    """What a refused request must leave as it was. A refused auction price is the one
    refusal the platform records, by design, as evidence of what was sent: it is counted
    apart (see test_a_refused_auction_price_is_recorded_and_nothing_else)."""
    row = await stack.pool.fetchrow(
        "SELECT (SELECT count(*) FROM events WHERE type <> 'AuctionPriceRejected') AS events,"
        " (SELECT count(*) FROM bid_entries) AS entries,"
        " (SELECT count(*) FROM handled_commands) AS handled,"
        " (SELECT count(*) FROM credentials) AS credentials,"
        " (SELECT count(*) FROM party_keys) AS keys"
    )
    return tuple(row.values())


async def settled(stack: Stack) -> None:
    """Wait until nothing more is being recorded (the opening starts evaluations by itself)."""

    async def still() -> bool:
        before = await stack.pool.fetchval("SELECT max(position) FROM events")
        await asyncio.sleep(0.5)
        return bool(before == await stack.pool.fetchval("SELECT max(position) FROM events"))

    await eventually(still)


# The matrix: each state-changing route, who may call it, and the request to send.

Request = tuple[str, Any]  # the path, and the JSON body (a str is sent as it is)


@dataclass(frozen=True)
class Rule:
    allowed: frozenset[str]
    request: Callable[[World, str], Request]


def _later(**delta: float) -> str:
    return (datetime.now(UTC) + timedelta(**delta)).isoformat()


def _evaluation(
    attr: str, path: str, body: Callable[[World], dict[str, Any]]
) -> Callable[[World, str], Request]:
    return lambda w, _: (f"/tenders/{getattr(w, attr)}/evaluation/{path}", body(w))


def _contract(path: str, body: dict[str, Any]) -> Callable[[World, str], Request]:
    return lambda w, _: (f"/contracts/{w.contract_id}/{path}", body)


def _committee_keys(w: World, actor: str) -> Request:
    party = w.party(actor)
    officer_id = party.id if party else "officer-0000000000000000"
    key_file = KeyFile.generate(committee=True).named(officer_id)
    return "/officers/me/committee-keys", committee_keys_registration(key_file, officer_id)


def _committee(w: World, _: str) -> Request:
    nomination = {"members": [m.id for m in w.buyer.members], "threshold": 2}
    return f"/tenders/{w.open}/committee", nomination


def _confirmation(w: World, _: str) -> Request:
    assert w.open_key is not None
    member = w.buyer.members[0]
    confirmation = committee_material.confirm(w.open_key, member.id, member.keys.signing_key)
    return f"/tenders/{w.open}/committee/confirmations", confirmation.model_dump_json()


def _own_bid(w: World, _: str) -> Request:
    assert w.open_key is not None
    content = bid_content(w.open, w.supplier.id, "870.00")
    return f"/tenders/{w.open}/bids", seal(
        content, w.open_key, w.supplier, version=2
    ).model_dump_json()


def _own_withdrawal(w: World, _: str) -> Request:
    withdrawal = sealing.withdraw_bid(w.open, w.supplier.id, 2, w.supplier.keys.signing_key)
    return f"/tenders/{w.open}/bids/withdrawal", withdrawal.model_dump_json()


def _own_reconfirmation(w: World, _: str) -> Request:
    reconfirmed = reconfirmation.reconfirm_bid(
        w.open, w.supplier.id, w.bid(w.open), w.amended, w.supplier.keys.signing_key
    )
    return f"/tenders/{w.open}/bids/reconfirmations", reconfirmed.model_dump_json()


def _signature(w: World, actor: str) -> Request:
    """Each actor signs the contract's hash with its own key, as the party it would be."""
    party = w.party(actor) or w.supplier
    side = (
        ContractParty.SUPPLIER if actor in (SUPPLIER, COMPETITOR, OUTSIDER) else ContractParty.BUYER
    )
    signature = b64sig(party, w.contract_id, w.contract_sha256, side)
    return f"/contracts/{w.contract_id}/signatures", {"signature": signature}


SIGNATURE = base64.b64encode(bytes(64)).decode()
KEY = base64.b64encode(bytes(32)).decode()  # a raw X25519 key
REASON = {"reason": "The need has changed"}
CONDITIONS_GROUNDS = {"grounds": "The grammage names one brand's paper"}
LOT_BODY = {"lot_id": LOT}
DOCUMENT_QUERY = "title=Technical+specification&file_name=spec.txt"
QUESTION = {"title": "Paper weight", "description": "Is 75 g/m2 paper acceptable?"}

ROUTES: dict[str, Rule] = {
    "POST /agencies": Rule(
        frozenset({OPERATOR}),
        lambda w, _: (
            "/agencies",
            {"name": "Agenția X", "identifier": f"RO-{uuid.uuid4().hex[:10]}"},
        ),
    ),
    # The operator adds officers to any agency, and an agency's administrator to its own;
    # an officer may not add colleagues, whose tokens and committee seats it would hold.
    "POST /officers": Rule(
        frozenset({OPERATOR, ADMIN}),
        lambda w, _: (
            "/officers",
            {"agency_id": w.buyer.officer.agency_id, "name": "Ion Pop", "email": "ion@pop.ro"},
        ),
    ),
    # Registering is how a supplier gets a token at all: anyone may.
    "POST /suppliers": Rule(ANYONE, lambda w, _: ("/suppliers", {})),
    "POST /officers/me/committee-keys": Rule(
        frozenset({BUYER, MEMBER, OTHER_OFFICER}), _committee_keys
    ),
    # Any officer publishes, for its own agency: the buyer is the officer's, never the body's.
    "POST /tenders": Rule(
        frozenset({BUYER, MEMBER, OTHER_OFFICER}), lambda w, _: ("/tenders", tender_body())
    ),
    "PATCH /tenders/{ocid}": Rule(
        OFFICERS_OF_THE_BUYER,
        lambda w, _: (
            f"/tenders/{w.open}",
            {"reason": "Clearer", "description": "A4 paper, white."},
        ),
    ),
    "POST /tenders/{ocid}/cancellation": Rule(
        OFFICERS_OF_THE_BUYER, lambda w, _: (f"/tenders/{w.open}/cancellation", REASON)
    ),
    "POST /tenders/{ocid}/documents": Rule(
        OFFICERS_OF_THE_BUYER,
        lambda w, _: (f"/tenders/{w.open}/documents?{DOCUMENT_QUERY}", "A4, 80 g/m2"),
    ),
    "POST /tenders/{ocid}/documents/{document_id}": Rule(
        OFFICERS_OF_THE_BUYER,
        lambda w, _: (
            f"/tenders/{w.open}/documents/doc-0000000000000000?{DOCUMENT_QUERY}&reason=Typo",
            "A4, 80 g/m2, white",
        ),
    ),
    "POST /tenders/{ocid}/enquiries": Rule(
        frozenset({SUPPLIER, COMPETITOR, OUTSIDER}),
        lambda w, _: (f"/tenders/{w.open}/enquiries", QUESTION),
    ),
    "POST /tenders/{ocid}/enquiries/{enquiry_id}/answer": Rule(
        OFFICERS_OF_THE_BUYER,
        lambda w, _: (
            f"/tenders/{w.open}/enquiries/enquiry-0000000000000000/answer",
            {"answer": "Yes, 80 g/m2."},
        ),
    ),
    "POST /tenders/{ocid}/committee": Rule(OFFICERS_OF_THE_BUYER, _committee),
    "POST /tenders/{ocid}/committee/confirmations": Rule(frozenset({MEMBER}), _confirmation),
    "POST /tenders/{ocid}/bids": Rule(frozenset({SUPPLIER}), _own_bid),
    "POST /tenders/{ocid}/bids/withdrawal": Rule(frozenset({SUPPLIER}), _own_withdrawal),
    "POST /tenders/{ocid}/bids/reconfirmations": Rule(frozenset({SUPPLIER}), _own_reconfirmation),
    "POST /tenders/{ocid}/opening/shares": Rule(
        frozenset({MEMBER}), lambda w, _: (f"/tenders/{w.sealed}/opening/shares", w.share)
    ),
    "POST /tenders/{ocid}/evaluation/clarifications": Rule(
        frozenset({MEMBER}),
        _evaluation(
            "opened",
            "clarifications",
            lambda w: {
                "bid_id": w.bid(w.opened),
                "question": "Which mill?",
                "respond_by": _later(days=3),
            },
        ),
    ),
    "POST /tenders/{ocid}/evaluation/clarification-answers": Rule(
        frozenset({SUPPLIER}),
        _evaluation(
            "opened",
            "clarification-answers",
            lambda w: {"request_id": "clarification-1", "answer": "The one in Brăila."},
        ),
    ),
    "POST /tenders/{ocid}/evaluation/qualifications": Rule(
        frozenset({MEMBER}),
        _evaluation("opened", "qualifications", lambda w: {"bid_id": w.bid(w.opened)}),
    ),
    "POST /tenders/{ocid}/evaluation/disqualifications": Rule(
        frozenset({MEMBER}),
        _evaluation("opened", "disqualifications", lambda w: {"bid_id": w.bid(w.opened)} | REASON),
    ),
    "POST /tenders/{ocid}/evaluation/scores": Rule(
        frozenset({MEMBER}),
        _evaluation(
            "opened",
            "scores",
            lambda w: {
                "lot_id": LOT,
                "bid_id": w.bid(w.opened),
                "criterion_id": "quality",
                "score": "80",
                "revision": 1,
                "signature": SIGNATURE,
            },
        ),
    ),
    "POST /tenders/{ocid}/evaluation/lot-completions": Rule(
        OFFICERS_OF_THE_BUYER, _evaluation("opened", "lot-completions", lambda w: LOT_BODY)
    ),
    "POST /tenders/{ocid}/evaluation/justification-requests": Rule(
        OFFICERS_OF_THE_BUYER,
        _evaluation(
            "ranked",
            "justification-requests",
            lambda w: {
                "lot_id": LOT,
                "bid_id": w.bid(w.ranked),
                "question": "Why so low?",
                "respond_by": _later(days=3),
            },
        ),
    ),
    "POST /tenders/{ocid}/evaluation/justifications": Rule(
        frozenset({SUPPLIER}),
        _evaluation(
            "ranked",
            "justifications",
            lambda w: {"lot_id": LOT, "bid_id": w.bid(w.ranked), "justification": "Own mill."},
        ),
    ),
    "POST /tenders/{ocid}/evaluation/justification-acceptances": Rule(
        OFFICERS_OF_THE_BUYER,
        _evaluation(
            "ranked",
            "justification-acceptances",
            lambda w: {"lot_id": LOT, "bid_id": w.bid(w.ranked)} | REASON,
        ),
    ),
    "POST /tenders/{ocid}/evaluation/justification-rejections": Rule(
        OFFICERS_OF_THE_BUYER,
        _evaluation(
            "ranked",
            "justification-rejections",
            lambda w: {"lot_id": LOT, "bid_id": w.bid(w.ranked)} | REASON,
        ),
    ),
    "POST /tenders/{ocid}/evaluation/awards": Rule(
        OFFICERS_OF_THE_BUYER, _evaluation("ranked", "awards", lambda w: LOT_BODY)
    ),
    "POST /tenders/{ocid}/evaluation/award-annulments": Rule(
        OFFICERS_OF_THE_BUYER,
        _evaluation(
            "contracted",
            "award-annulments",
            lambda w: LOT_BODY | {"reason_code": "refused_to_sign"} | REASON,
        ),
    ),
    # Any bidder of the procedure may complain about the award.
    "POST /tenders/{ocid}/evaluation/complaints": Rule(
        BIDDERS,
        _evaluation("awarded", "complaints", lambda w: {"lot_id": LOT, "grounds": "Unfair"}),
    ),
    "POST /tenders/{ocid}/evaluation/complaint-upholdings": Rule(
        frozenset({REVIEWER}),
        _evaluation(
            "awarded",
            "complaint-upholdings",
            lambda w: {"complaint_id": "complaint-1", "remedy": "re_evaluate"} | REASON,
        ),
    ),
    "POST /tenders/{ocid}/evaluation/complaint-dismissals": Rule(
        frozenset({REVIEWER}),
        _evaluation(
            "awarded", "complaint-dismissals", lambda w: {"complaint_id": "complaint-1"} | REASON
        ),
    ),
    # Any registered supplier may complain about the conditions before the deadline; the
    # outsider's complaint about the open tender awaits a review body.
    "POST /tenders/{ocid}/complaints": Rule(
        frozenset({SUPPLIER, COMPETITOR, OUTSIDER}),
        lambda w, _: (f"/tenders/{w.open}/complaints", CONDITIONS_GROUNDS),
    ),
    "POST /tenders/{ocid}/complaints/{complaint_id}/upholding": Rule(
        frozenset({REVIEWER}),
        lambda w, _: (f"/tenders/{w.open}/complaints/conditions-complaint-1/upholding", REASON),
    ),
    "POST /tenders/{ocid}/complaints/{complaint_id}/dismissal": Rule(
        frozenset({REVIEWER}),
        lambda w, _: (f"/tenders/{w.open}/complaints/conditions-complaint-1/dismissal", REASON),
    ),
    "POST /tenders/{ocid}/evaluation/lot-cancellations": Rule(
        OFFICERS_OF_THE_BUYER,
        _evaluation("opened", "lot-cancellations", lambda w: LOT_BODY | REASON),
    ),
    "POST /tenders/{ocid}/evaluation/cancellation": Rule(
        OFFICERS_OF_THE_BUYER, _evaluation("opened", "cancellation", lambda w: REASON)
    ),
    "POST /tenders/{ocid}/auctions": Rule(
        OFFICERS_OF_THE_BUYER,
        lambda w, _: (
            f"/tenders/{w.auction_ready}/auctions",
            {"lot_id": LOT, "starts_at": _later(hours=2)},
        ),
    ),
    # Both bidders were invited to the auction.
    "POST /tenders/{ocid}/auctions/{lot_id}/prices": Rule(
        BIDDERS, lambda w, _: (f"/tenders/{w.auction}/auctions/{LOT}/prices", {"price": "850.00"})
    ),
    "POST /tenders/{ocid}/auctions/{lot_id}/cancellation": Rule(
        OFFICERS_OF_THE_BUYER,
        lambda w, _: (f"/tenders/{w.auction}/auctions/{LOT}/cancellation", REASON),
    ),
    "POST /tenders/{ocid}/contracts": Rule(
        OFFICERS_OF_THE_BUYER,
        lambda w, _: (
            f"/tenders/{w.contracted}/contracts",
            {"lot_id": LOT, "period": {"start_date": "2027-01-01", "end_date": "2027-12-31"}},
        ),
    ),
    # The buyer's officers and the supplier each sign as their own party.
    "POST /contracts/{contract_id}/signatures": Rule(
        OFFICERS_OF_THE_BUYER | {SUPPLIER}, _signature
    ),
    "POST /contracts/{contract_id}/amendments": Rule(
        OFFICERS_OF_THE_BUYER, _contract("amendments", {"end_date": "2028-06-30"} | REASON)
    ),
    "POST /contracts/{contract_id}/milestones": Rule(
        OFFICERS_OF_THE_BUYER,
        _contract(
            "milestones",
            {"milestone_id": "m-1", "title": "First delivery", "due_date": "2027-02-01"},
        ),
    ),
    "POST /contracts/{contract_id}/payments": Rule(
        OFFICERS_OF_THE_BUYER,
        _contract(
            "payments",
            {
                "payment_id": "p-1",
                "value": {"amount": "100.00", "currency": "RON"},
                "paid_at": "2027-02-01T10:00:00Z",
            },
        ),
    ),
    "POST /contracts/{contract_id}/completion": Rule(
        OFFICERS_OF_THE_BUYER, _contract("completion", REASON)
    ),
    "POST /contracts/{contract_id}/termination": Rule(
        OFFICERS_OF_THE_BUYER, _contract("termination", REASON)
    ),
    # Any holder of a token rotates or revokes its own; the operator manages anyone's.
    "POST /tokens": Rule(ANYONE - {PUBLIC}, lambda w, _: ("/tokens", None)),
    "DELETE /tokens/current": Rule(ANYONE - {PUBLIC}, lambda w, _: ("/tokens/current", None)),
    "DELETE /parties/{party_id}/tokens": Rule(
        frozenset({OPERATOR}), lambda w, _: (f"/parties/{w.supplier.id}/tokens", None)
    ),
    "POST /parties/{party_id}/tokens": Rule(
        frozenset({OPERATOR}), lambda w, _: (f"/parties/{w.supplier.id}/tokens", None)
    ),
    # Each party reads its own inbox and makes its own feed link; the operator has neither.
    "POST /inbox/read": Rule(ANYONE - {PUBLIC}, lambda w, _: ("/inbox/read", {"through": 1})),
    "POST /inbox/feed-links": Rule(
        ANYONE - {PUBLIC, OPERATOR}, lambda w, _: ("/inbox/feed-links", None)
    ),
    # Replaying a dead letter re-applies an event to a read model: the operator's work.
    "POST /operations/dead-letters/{letter_id}/replay": Rule(
        frozenset({OPERATOR}), lambda w, _: ("/operations/dead-letters/1/replay", None)
    ),
    # The catalogue: suppliers offer for themselves, officers buy for their own agency.
    "POST /catalogue/offers": Rule(
        BIDDERS | {OUTSIDER}, lambda w, _: ("/catalogue/offers", {"terms": offer_terms("9.00")})
    ),
    "POST /catalogue/offers/{offer_id}/updates": Rule(
        frozenset({SUPPLIER}),
        lambda w, _: (
            f"/catalogue/offers/{w.catalogue['offer']}/updates",
            {"terms": offer_terms("99.00")},
        ),
    ),
    "POST /catalogue/offers/{offer_id}/withdrawal": Rule(
        frozenset({SUPPLIER}),
        lambda w, _: (f"/catalogue/offers/{w.catalogue['offer']}/withdrawal", REASON),
    ),
    "POST /catalogue/purchases": Rule(
        frozenset({BUYER, MEMBER, OTHER_OFFICER}),
        lambda w, _: ("/catalogue/purchases", {"offer_id": w.catalogue["offer"], "quantity": "1"}),
    ),
    "POST /catalogue/purchases/{ocid}/acceptance": Rule(
        frozenset({SUPPLIER}),
        lambda w, _: (f"/catalogue/purchases/{w.catalogue['purchase']}/acceptance", {}),
    ),
    "POST /catalogue/purchases/{ocid}/refusal": Rule(
        frozenset({SUPPLIER}),
        lambda w, _: (f"/catalogue/purchases/{w.catalogue['purchase']}/refusal", REASON),
    ),
    "POST /catalogue/quotations": Rule(
        frozenset({BUYER, MEMBER, OTHER_OFFICER}),
        lambda w, _: (
            "/catalogue/quotations",
            {
                "title": "Paper",
                "cpv": "30197630-1",
                "quantity": "5000",
                "unit": "top",
                "currency": "RON",
                "deadline": _later(days=3),
                "opening_key": KEY,
            },
        ),
    ),
    # Both suppliers were asked to quote.
    "POST /catalogue/quotations/{ocid}/quotes": Rule(
        BIDDERS,
        lambda w, _: (
            f"/catalogue/quotations/{w.catalogue['quotation']}/quotes",
            {"sealed": SIGNATURE},
        ),
    ),
    "POST /catalogue/quotations/{ocid}/opening": Rule(
        OFFICERS_OF_THE_BUYER,
        lambda w, _: (
            f"/catalogue/quotations/{w.catalogue['quotation']}/opening",
            {"opening_key": KEY},
        ),
    ),
    # Who holds a registration number is the operator's decision alone.
    "POST /operations/registration-claims/{claim_id}/decision": Rule(
        frozenset({OPERATOR}),
        lambda w, _: (
            "/operations/registration-claims/claim-0/decision",
            {"decision": "accept", "reason": "The trade register names the claimant"},
        ),
    ),
}

FORBIDDEN = [
    pytest.param(route, actor, id=f"{route} as {actor}")
    for route, rule in ROUTES.items()
    for actor in ACTORS
    if actor not in rule.allowed
]


@pytest.fixture(scope="module")
async def world(stack: Stack) -> World:
    return await build_world(stack)


def routes_of(routes: Sequence[Any], prefix: str = "") -> Iterator[tuple[str, str]]:
    """Every (method, path) the app serves. FastAPI keeps an included router as one entry
    that holds the router, so it is walked into."""
    for route in routes:
        if isinstance(route, APIRoute):
            for method in route.methods or ():
                yield method, prefix + route.path
        elif hasattr(route, "original_router"):
            included = prefix + route.include_context.prefix
            yield from routes_of(route.original_router.routes, included)


def test_every_state_changing_route_is_in_the_matrix(tmp_path: Path) -> None:
    """A route that changes state and is not classified above fails here, so it cannot
    escape the matrix; nor can the matrix name a route that is gone."""
    app = create_api(settings_for_tests(tmp_path), "postgresql://unused")
    changing = {
        f"{method} {path}"
        for method, path in routes_of(app.routes)
        if method in {"POST", "PUT", "PATCH", "DELETE"}
    }
    assert len(changing) > 30  # the walk found the routers' routes too
    assert sorted(changing - ROUTES.keys()) == [], "classify these routes in ROUTES"
    assert sorted(ROUTES.keys() - changing) == [], "these routes are gone"


async def send(stack: Stack, token: str | None, method: str, path: str, body: Any) -> Any:
    content = body if isinstance(body, str) else json.dumps(body)
    async with stack.client(token) as client:
        return await client.request(method, path, content=content)


@pytest.mark.parametrize(("route", "actor"), FORBIDDEN)
async def test_a_forbidden_actor_is_refused_and_nothing_changes(
    stack: Stack, world: World, route: str, actor: str
) -> None:
    """Each actor that may not call a route is refused, and nothing is recorded."""
    method = route.split(" ", 1)[0]
    path, body = ROUTES[route].request(world, actor)
    before = await store_state(stack)
    answer = await send(stack, world.token(actor), method, path, body)
    expected = {401} if actor == PUBLIC else {403, 404}
    assert answer.status_code in expected, answer.text
    assert answer.headers["content-type"] == "application/problem+json"
    assert await store_state(stack) == before


async def test_a_refused_auction_price_is_recorded_and_nothing_else(
    stack: Stack, world: World
) -> None:
    """A supplier that was not invited is refused, and the refusal is kept as evidence of
    what was sent; nothing else is recorded."""
    path = f"/tenders/{world.auction}/auctions/{LOT}/prices"
    rejected = "SELECT count(*) FROM events WHERE type = 'AuctionPriceRejected'"
    recorded, before = await stack.pool.fetchval(rejected), await store_state(stack)
    answer = await send(stack, world.outsider.token, "POST", path, {"price": "1.00"})
    assert answer.status_code == 403, answer.text
    assert answer.json()["code"] == "not_a_participant"
    assert await stack.pool.fetchval(rejected) == recorded + 1
    assert await store_state(stack) == before


# Reads: the public sees what is public; the rest only the parties it concerns.

READERS_OF_THE_EVALUATION = OFFICERS_OF_THE_BUYER


@pytest.mark.parametrize("actor", ACTORS)
async def test_only_the_committee_and_the_buyer_see_the_evaluation(
    stack: Stack, world: World, actor: str
) -> None:
    """The evaluation view (rankings before the award) is the committee's and the buyer's."""
    answer = await send(
        stack, world.token(actor), "GET", f"/tenders/{world.ranked}/evaluation", None
    )
    if actor in READERS_OF_THE_EVALUATION:
        assert answer.status_code == 200, answer.text
        assert answer.json()["lots"][0]["ranking"]
    else:
        assert answer.status_code == (401 if actor == PUBLIC else 403), answer.text


@pytest.mark.parametrize("actor", ACTORS)
async def test_a_bidder_sees_its_own_receipts_and_opened_bid_only(
    stack: Stack, world: World, actor: str
) -> None:
    """Everyone sees the counts; a supplier its own receipts and, once opened, its own bid;
    the committee and the buyer's officers every opened bid; nobody else any bid."""
    answer = await send(stack, world.token(actor), "GET", f"/tenders/{world.opened}/bids", None)
    assert answer.status_code == 200, answer.text
    shown = answer.json()
    assert shown["bidders"] == 2
    party = world.party(actor)
    receipts = shown.get("my_receipts", [])
    opened = {bid["bidder_id"] for bid in shown.get("opened", [])}
    if actor in (SUPPLIER, COMPETITOR):
        assert party is not None
        assert [r["bidder_id"] for r in receipts] == [party.id]
        assert opened == {party.id}
    elif actor in OFFICERS_OF_THE_BUYER:
        assert opened == {world.supplier.id, world.competitor.id}
    else:
        assert receipts == []
        assert opened == set()
    raw = answer.text
    for bidder in (world.supplier, world.competitor):
        if party is None or bidder.id != party.id:
            assert (actor in OFFICERS_OF_THE_BUYER) or world.bids[
                world.opened, bidder.id
            ] not in raw


@pytest.mark.parametrize("actor", ACTORS)
async def test_only_a_committee_member_gets_its_share(
    stack: Stack, world: World, actor: str
) -> None:
    """After the seal a member gets its own sealed share of each bid; nobody else gets any."""
    answer = await send(
        stack, world.token(actor), "GET", f"/tenders/{world.sealed}/opening/my-shares", None
    )
    if actor == MEMBER:
        assert answer.status_code == 200, answer.text
        shares = answer.json()["shares"]
        assert shares
        assert len({share["x"] for share in shares}) == 1  # the member's own share of each bid
    else:
        assert answer.status_code == (401 if actor == PUBLIC else 403), answer.text


@pytest.mark.parametrize("actor", ACTORS)
async def test_the_auction_shows_each_party_its_own_part(
    stack: Stack, world: World, actor: str
) -> None:
    """Anyone sees the auction's facts; an invited bidder also its own view, the buyer the
    ranking; the live stream is for invited bidders only."""
    path = f"/tenders/{world.auction}/auctions/{LOT}"
    shown = await send(stack, world.token(actor), "GET", path, None)
    assert shown.status_code == 200, shown.text
    assert ("view" in shown.json()) == (actor in BIDDERS)
    assert ("ranking" in shown.json()) == (actor in OFFICERS_OF_THE_BUYER)
    if actor in BIDDERS:  # its stream is open until the auction closes: take the first view
        async with (
            stack.client(world.token(actor)) as client,
            client.stream("GET", f"{path}/live") as stream,
        ):
            assert stream.status_code == 200
            async for line in stream.aiter_lines():
                if line.startswith("data: "):
                    assert json.loads(line.removeprefix("data: "))["your_rank"] >= 1
                    break
    else:
        live = await send(stack, world.token(actor), "GET", f"{path}/live", None)
        assert live.status_code == (401 if actor == PUBLIC else 403), live.text
