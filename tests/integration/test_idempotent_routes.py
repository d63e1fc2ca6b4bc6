"""Every state-changing route the roles matrix names, retried with its Idempotency-Key on the
real stack: a valid request sent twice under one key gets the first answer again (status
and body, ``replayed`` aside) and the store holds its effect once.

The requests are the roles matrix's own (tests/integration/test_roles.py), sent by a party
allowed to send them, in an order where none undoes what a later one needs; routes whose
matrix request only makes sense for a refusal get a valid one here. Two worlds are built,
so that two requests that exclude each other (qualifying and disqualifying a bid, accepting
and rejecting a justification, upholding and dismissing a complaint) each get a procedure.
"""

import asyncio
import base64
import json
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import httpx
import pytest
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey

from bidding import keys, quotes
from procurement.evaluation import QUALITY_SCORE, score_fields
from procurement.procedures.registry import CatalogueRules
from schemas.catalogue import Quote
from schemas.committee import CommitteeMaterial, CommitteeMember
from schemas.contracts import Party as ContractParty
from schemas.values import Value
from sdk.keyfiles import KeyFile
from sdk.market import b64, committee_keys_registration, supplier_registration
from tests.integration.conftest import running_stack
from tests.integration.market import (
    Party,
    add_officer,
    bid_content,
    buyer_with_committee,
    hand_in,
    register_supplier,
    seal,
    sealed_tender,
    submit,
    until_sealed,
)
from tests.integration.stack import Stack
from tests.integration.test_api_schema import RETRIED_WITHOUT_A_KEY
from tests.integration.test_contracts import b64sig
from tests.integration.test_roles import (
    BUYER,
    COMPETITOR,
    LOT,
    MEMBER,
    OPERATOR,
    OTHER_OFFICER,
    REVIEWER,
    ROUTES,
    SUPPLIER,
    Request,
    World,
    build_world,
    settled,
)

pytestmark = pytest.mark.integration

# Routes whose retry is tested elsewhere or whose answer cannot be a replay, and why.
NOT_REPLAYED = {
    route: reason
    for route, reason in RETRIED_WITHOUT_A_KEY.items()
    if route != "POST /parties/{party_id}/tokens"
} | {
    "POST /parties/{party_id}/tokens": "a token is shown once: a retry is refused as a used"
    " key, naming the token issued (tests/integration/test_token_reissue_retry.py)",
}


@pytest.fixture(scope="module")
async def stack(
    postgres_server: str, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[Stack]:
    """The platform, with quotations that may close within seconds."""
    rules = CatalogueRules(minimum_quotation_period=timedelta(0))
    async with running_stack(postgres_server, tmp_path_factory, catalogue=rules) as platform:
        yield platform


@dataclass(frozen=True)
class Procedure:
    """A procedure built apart from the worlds: its ocid, its buyer's officer's token and
    its bid ids, lowest price first."""

    ocid: str
    buyer_token: str
    bids: list[str]


@dataclass
class Worlds:
    first: World
    second: World
    awarded: Procedure  # its lot awarded with no standstill and no contract drawn yet
    qualified: Procedure  # both bids qualified, one abnormally low, the lot not completed
    keyless: Party  # an officer that has not registered committee keys
    claim_id: str = ""  # a registration number claimed by a second supplier
    quotation_key: X25519PrivateKey = field(default_factory=X25519PrivateKey.generate)
    answers: dict[str, Any] = field(default_factory=dict)  # each step's first answer, by route

    def token(self, which: str, actor: str) -> str | None:
        if which in ("awarded", "qualified"):
            procedure: Procedure = getattr(self, which)
            return procedure.buyer_token
        if which == "keyless":
            return self.keyless.token
        world: World = getattr(self, which)
        return world.token(actor)


Build = Callable[[Worlds], Awaitable[Request]]


def matrix(route: str, which: str, actor: str) -> Build:
    """The roles matrix's own request for ``route``, in world ``which``."""

    async def build(worlds: Worlds) -> Request:
        return ROUTES[route].request(getattr(worlds, which), actor)

    return build


def fixed(make: Callable[[Worlds], Request]) -> Build:
    async def build(worlds: Worlds) -> Request:
        return make(worlds)

    return build


def _in_days(days: float) -> str:
    return (datetime.now(UTC) + timedelta(days=days)).isoformat()


async def _supplier(_: Worlds) -> Request:
    body = supplier_registration(
        KeyFile.generate(committee=False),
        name="Retrimis SRL",
        identifier=f"RO-CUI-{uuid.uuid4().int % 10**9}",
        email="oferte@retrimis.ro",
        is_sme=True,
    )
    return "/suppliers", body


async def _committee_keys(worlds: Worlds) -> Request:
    officer_id = worlds.keyless.id
    key_file = KeyFile.generate(committee=True).named(officer_id)
    return "/officers/me/committee-keys", committee_keys_registration(key_file, officer_id)


def _fresh(worlds: Worlds) -> World:
    """The first world with the tender the tender step published as its open one."""
    return World(**{**worlds.first.__dict__, "open": worlds.answers["POST /tenders"]["id"]})


async def _committee(worlds: Worlds) -> Request:
    """A committee for the tender the tender step published (the matrix's has one)."""
    return ROUTES["POST /tenders/{ocid}/committee"].request(_fresh(worlds), BUYER)


async def _confirmation(worlds: Worlds) -> Request:
    """The first member's confirmation of that committee, its material as the platform
    makes it from the members' registered keys."""
    fresh = _fresh(worlds)
    members = sorted(fresh.buyer.members, key=lambda member: member.id)
    material = CommitteeMaterial(
        ocid=fresh.open,
        suite="x25519",
        threshold=2,
        members=[
            CommitteeMember(
                officer_id=m.id,
                encryption_key=m.keys.member_keys().public("x25519"),
                signing_key=keys.raw_public(m.keys.signing_key),
            )
            for m in members
        ],
    )
    fresh.open_key = material
    return ROUTES["POST /tenders/{ocid}/committee/confirmations"].request(fresh, MEMBER)


async def _score(worlds: Worlds) -> Request:
    """The first member's signed score of the competitor's bid, which the qualification
    step qualified."""
    world = worlds.first
    member, bid_id = world.buyer.members[0], world.bids[world.opened, world.competitor.id]
    points = Decimal("80")
    fields = score_fields(world.opened, LOT, bid_id, "quality", member.id, points, 1)
    signature = keys.sign(member.keys.signing_key, QUALITY_SCORE, fields)
    body = {
        "lot_id": LOT,
        "bid_id": bid_id,
        "criterion_id": "quality",
        "score": str(points),
        "revision": 1,
        "signature": b64(signature),
    }
    return f"/tenders/{world.opened}/evaluation/scores", body


def _signature(which: str, side: str) -> Build:
    async def build(worlds: Worlds) -> Request:
        world: World = getattr(worlds, which)
        party = world.buyer.members[0] if side == "buyer" else world.supplier
        role = ContractParty.BUYER if side == "buyer" else ContractParty.SUPPLIER
        signature = b64sig(party, world.contract_id, world.contract_sha256, role)
        return f"/contracts/{world.contract_id}/signatures", {"signature": signature}

    return build


def _decide_on(which: str, step: str, bid_of: str, **more: str) -> Build:
    """An evaluation step about a bid of the ``opened`` procedure of world ``which``."""

    async def build(worlds: Worlds) -> Request:
        world: World = getattr(worlds, which)
        bid_id = world.bids[world.opened, getattr(world, bid_of).id]
        return f"/tenders/{world.opened}/evaluation/{step}", {"bid_id": bid_id, **more}

    return build


async def _document_version(worlds: Worlds) -> Request:
    """A new version of the document the document step published."""
    document_id = worlds.answers["POST /tenders/{ocid}/documents"]["document_id"]
    return f"/tenders/{worlds.first.open}/documents/{document_id}?" + (
        "title=Technical+specification&file_name=spec.txt&reason=Paper+weight+added"
    ), "A4, 80 g/m2, white"


async def _answer(worlds: Worlds) -> Request:
    """The buyer's answer to the question the enquiry step asked."""
    enquiry_id = worlds.answers["POST /tenders/{ocid}/enquiries"]["enquiry_id"]
    return f"/tenders/{worlds.first.open}/enquiries/{enquiry_id}/answer", {"answer": "Yes."}


QUOTATION_OPEN_FOR = timedelta(seconds=15)


async def _quotation(worlds: Worlds) -> Request:
    """A quotation open for a few seconds, asking every supplier offering its CPV code (the
    first world's supplier among them)."""
    public = keys.raw_public(worlds.quotation_key)
    body = {
        "title": "Hârtie pentru școli",
        "cpv": "30197630-1",
        "quantity": "5000",
        "unit": "top",
        "currency": "RON",
        "deadline": (datetime.now(UTC) + QUOTATION_OPEN_FOR).isoformat(),
        "opening_key": base64.b64encode(public).decode(),
    }
    return "/catalogue/quotations", body


async def _quote(worlds: Worlds) -> Request:
    ocid, supplier = worlds.answers["POST /catalogue/quotations"]["id"], worlds.first.supplier
    price = Value(amount=Decimal("9.50"), currency="RON")
    quote = Quote(ocid=ocid, supplier_id=supplier.id, unit_price=price)
    sealed = quotes.seal_quote(quote, keys.raw_public(worlds.quotation_key))
    return f"/catalogue/quotations/{ocid}/quotes", {"sealed": base64.b64encode(sealed).decode()}


async def _quotation_opening(worlds: Worlds) -> Request:
    """The opening of the quotation, once its deadline has passed."""
    asked = worlds.answers["POST /catalogue/quotations"]
    await asyncio.sleep(QUOTATION_OPEN_FOR.total_seconds() + 0.5)  # at most; usually long past
    private = worlds.quotation_key.private_bytes_raw()
    path = f"/catalogue/quotations/{asked['id']}/opening"
    return path, {"opening_key": base64.b64encode(private).decode()}


@dataclass(frozen=True)
class Step:
    route: str
    actor: str
    build: Build
    which: str = "first"  # whose party sends it: a world, or a procedure built apart


def in_matrix(route: str, actor: str, which: str = "first") -> Step:
    return Step(route, actor, matrix(route, which, actor), which)


CONTRACT_PERIOD = {"start_date": "2027-01-01", "end_date": "2027-12-31"}
REASON = "The need has changed"

# Each route once, in an order where none undoes what a later one needs: who sends it, and
# how its request is made. Terminal steps (cancellations, completion) come last.
STEPS: list[Step] = [
    in_matrix("POST /agencies", OPERATOR),
    in_matrix("POST /officers", OPERATOR),
    Step("POST /suppliers", SUPPLIER, _supplier),
    Step("POST /officers/me/committee-keys", OTHER_OFFICER, _committee_keys, "keyless"),
    in_matrix("POST /tenders", BUYER),
    in_matrix("PATCH /tenders/{ocid}", BUYER),
    Step("POST /tenders/{ocid}/committee", BUYER, _committee),
    in_matrix("POST /tenders/{ocid}/documents", BUYER),
    Step("POST /tenders/{ocid}/documents/{document_id}", BUYER, _document_version),
    in_matrix("POST /tenders/{ocid}/enquiries", SUPPLIER),
    Step("POST /tenders/{ocid}/enquiries/{enquiry_id}/answer", BUYER, _answer),
    Step("POST /tenders/{ocid}/committee/confirmations", MEMBER, _confirmation),
    in_matrix("POST /tenders/{ocid}/bids/reconfirmations", SUPPLIER),
    Step("POST /catalogue/quotations", BUYER, _quotation),
    Step("POST /catalogue/quotations/{ocid}/quotes", SUPPLIER, _quote),
    in_matrix("POST /tenders/{ocid}/evaluation/clarification-answers", SUPPLIER),
    in_matrix("POST /tenders/{ocid}/evaluation/clarifications", MEMBER),
    Step(
        "POST /tenders/{ocid}/evaluation/qualifications",
        MEMBER,
        _decide_on("first", "qualifications", "competitor"),
    ),
    Step(
        "POST /tenders/{ocid}/evaluation/disqualifications",
        MEMBER,
        _decide_on("second", "disqualifications", "competitor", reason=REASON),
        "second",
    ),
    Step("POST /tenders/{ocid}/evaluation/scores", MEMBER, _score),
    in_matrix("POST /tenders/{ocid}/evaluation/justifications", SUPPLIER),
    in_matrix("POST /tenders/{ocid}/evaluation/justification-acceptances", BUYER),
    in_matrix("POST /tenders/{ocid}/evaluation/justification-rejections", BUYER, "second"),
    in_matrix("POST /tenders/{ocid}/evaluation/awards", BUYER),
    Step(
        "POST /tenders/{ocid}/evaluation/complaints",
        COMPETITOR,
        fixed(
            lambda w: (
                f"/tenders/{w.first.ranked}/evaluation/complaints",
                {"lot_id": LOT, "grounds": "The winner's price is abnormally low"},
            )
        ),
    ),
    in_matrix("POST /tenders/{ocid}/evaluation/complaint-upholdings", REVIEWER),
    in_matrix("POST /tenders/{ocid}/evaluation/complaint-dismissals", REVIEWER, "second"),
    in_matrix("POST /tenders/{ocid}/complaints", COMPETITOR),
    in_matrix("POST /tenders/{ocid}/complaints/{complaint_id}/upholding", REVIEWER),
    in_matrix("POST /tenders/{ocid}/complaints/{complaint_id}/dismissal", REVIEWER, "second"),
    Step(
        "POST /tenders/{ocid}/evaluation/lot-completions",
        BUYER,
        fixed(
            lambda w: (f"/tenders/{w.qualified.ocid}/evaluation/lot-completions", {"lot_id": LOT})
        ),
        "qualified",
    ),
    Step(
        "POST /tenders/{ocid}/evaluation/justification-requests",
        BUYER,
        fixed(
            lambda w: (
                f"/tenders/{w.qualified.ocid}/evaluation/justification-requests",
                {
                    "lot_id": LOT,
                    "bid_id": w.qualified.bids[0],
                    "question": "How is the price so low?",
                    "respond_by": _in_days(3),
                },
            )
        ),
        "qualified",
    ),
    in_matrix("POST /tenders/{ocid}/auctions", BUYER),
    Step(
        "POST /tenders/{ocid}/contracts",
        BUYER,
        fixed(
            lambda w: (
                f"/tenders/{w.awarded.ocid}/contracts",
                {"lot_id": LOT, "period": CONTRACT_PERIOD},
            )
        ),
        "awarded",
    ),
    Step(  # the winner refuses to sign: its award and the contract just drawn are annulled
        "POST /tenders/{ocid}/evaluation/award-annulments",
        BUYER,
        fixed(
            lambda w: (
                f"/tenders/{w.awarded.ocid}/evaluation/award-annulments",
                {"lot_id": LOT, "reason_code": "refused_to_sign", "reason": REASON},
            )
        ),
        "awarded",
    ),
    Step("POST /contracts/{contract_id}/signatures", MEMBER, _signature("first", "buyer")),
    Step("POST /contracts/{contract_id}/signatures", SUPPLIER, _signature("first", "supplier")),
    in_matrix("POST /contracts/{contract_id}/amendments", BUYER),
    in_matrix("POST /contracts/{contract_id}/milestones", BUYER),
    Step(
        "POST /contracts/{contract_id}/payments",
        BUYER,
        fixed(
            lambda w: (
                f"/contracts/{w.first.contract_id}/payments",
                {
                    "payment_id": "p-1",
                    "value": {"amount": "100.00", "currency": "RON"},
                    "paid_at": _in_days(-1),
                },
            )
        ),
    ),
    in_matrix("POST /contracts/{contract_id}/termination", BUYER),
    in_matrix("POST /contracts/{contract_id}/completion", BUYER, "second"),
    in_matrix("POST /catalogue/offers", SUPPLIER),
    in_matrix("POST /catalogue/offers/{offer_id}/updates", SUPPLIER),
    Step(
        "POST /catalogue/purchases",
        BUYER,
        fixed(
            lambda w: (
                "/catalogue/purchases",
                {
                    "offer_id": w.first.catalogue["offer"],
                    "quantity": "1",
                    "reason_not_cheapest": "Delivered within a day",
                },
            )
        ),
    ),
    in_matrix("POST /catalogue/purchases/{ocid}/acceptance", SUPPLIER),
    in_matrix("POST /catalogue/purchases/{ocid}/refusal", SUPPLIER, "second"),
    in_matrix("POST /catalogue/offers/{offer_id}/withdrawal", SUPPLIER),
    Step(
        "POST /operations/registration-claims/{claim_id}/decision",
        OPERATOR,
        fixed(
            lambda w: (
                f"/operations/registration-claims/{w.claim_id}/decision",
                {"decision": "refuse", "reason": "The trade register names the holder"},
            )
        ),
    ),
    Step("POST /catalogue/quotations/{ocid}/opening", BUYER, _quotation_opening),
    in_matrix("POST /tenders/{ocid}/auctions/{lot_id}/cancellation", BUYER),
    Step(
        "POST /tenders/{ocid}/evaluation/lot-cancellations",
        BUYER,
        fixed(
            lambda w: (
                f"/tenders/{w.second.auction_ready}/evaluation/lot-cancellations",
                {"lot_id": LOT, "reason": REASON},
            )
        ),
        "second",
    ),
    in_matrix("POST /tenders/{ocid}/evaluation/cancellation", BUYER, "second"),
    in_matrix("POST /tenders/{ocid}/cancellation", BUYER),
]


async def evaluated(
    stack: Stack, prices: list[str], steps: list[str], standstill_days: int = 10
) -> Procedure:
    """A procedure with a bid at each price, opened, its bids qualified, then the lot
    ``steps`` (lot-completions, awards) taken."""
    buyer = await buyer_with_committee(stack, size=2)
    ocid, tender_key, deadline = await sealed_tender(
        stack, buyer, deadline_in=timedelta(seconds=10), standstill_days=standstill_days
    )
    bids = []
    for price in prices:
        bidder = await register_supplier(stack, f"Ofertantul {price} SRL")
        sealed = seal(bid_content(ocid, bidder.id, price), tender_key, bidder)
        bids.append((await submit(stack, bidder, sealed)).json()["receipt"]["bid_id"])
    await until_sealed(stack, ocid, deadline)
    for member in buyer.members:
        assert (await hand_in(stack, member, ocid)).status_code == 200
    async with stack.client(buyer.members[0].token) as officer:
        asked = [("qualifications", {"bid_id": bid_id}) for bid_id in bids]
        for step, body in [*asked, *((step, {"lot_id": LOT}) for step in steps)]:
            done = await officer.post(f"/tenders/{ocid}/evaluation/{step}", json=body)
            assert done.status_code == 201, (step, done.text)
    return Procedure(ocid, buyer.officer.token, bids)


async def registration_claim(stack: Stack) -> str:
    """A registration number held by one supplier and claimed by another: the claim's id."""
    identifier = f"RO-CUI-10{uuid.uuid4().int % 10**8:08d}"
    for name, status in (("Deținătorul SRL", 201), ("Pretendentul SRL", 202)):
        body = supplier_registration(
            KeyFile.generate(committee=False),
            name=name,
            identifier=identifier,
            email="oferte@hartia.ro",
            is_sme=True,
        )
        async with stack.client() as client:
            answer = await client.post("/suppliers", json=body)
        assert answer.status_code == status, answer.text
    claim_id: str = answer.json()["claim_id"]
    return claim_id


async def sent(stack: Stack, token: str, path: str, body: dict[str, Any]) -> None:
    async with stack.client(token) as client:
        answer = await client.post(path, json=body)
    assert answer.status_code == 201, (path, answer.text)


@pytest.fixture(scope="module")
async def worlds(stack: Stack) -> Worlds:
    first, second, awarded, qualified = await asyncio.gather(
        build_world(stack),
        build_world(stack),
        evaluated(stack, ["900.00"], ["lot-completions", "awards"], standstill_days=0),
        evaluated(stack, ["700.00", "960.00"], []),
    )
    assert first.buyer.officer.agency_id is not None
    keyless = await add_officer(stack, first.buyer.officer.agency_id, with_keys=False)
    worlds = Worlds(first, second, awarded, qualified, keyless, await registration_claim(stack))
    # The second world's contract is signed by both, so that it can be completed, and its
    # supplier justifies its price, so that the justification can be rejected.
    for side, party in (("buyer", second.buyer.members[0]), ("supplier", second.supplier)):
        path, body = await _signature("second", side)(worlds)
        await sent(stack, party.token, path, body)
    path, body = ROUTES["POST /tenders/{ocid}/evaluation/justifications"].request(second, SUPPLIER)
    await sent(stack, second.supplier.token, path, body)
    await settled(stack)
    return worlds


async def event_count(stack: Stack) -> int:
    count: int = await stack.pool.fetchval("SELECT count(*) FROM events")
    return count


def without_replay_marks(answer: httpx.Response) -> Any:
    """The answer's body with what only a first answer or only a replay holds taken out:
    ``replayed``, and a new party's token, which is shown once."""
    if not answer.content:
        return None
    body = answer.json()
    if isinstance(body, dict):
        body = {k: v for k, v in body.items() if k not in {"replayed", "token"}}
    return body


async def retried(
    stack: Stack, token: str | None, method: str, path: str, body: Any
) -> tuple[str, httpx.Response]:
    """Send the request twice under one key: what is wrong with the retry ('' if nothing),
    and the first answer."""
    content = body if isinstance(body, str) else json.dumps(body)
    headers = {"Idempotency-Key": str(uuid.uuid4()), "Content-Type": "application/json"}
    async with stack.client(token) as client:
        first = await client.request(method, path, content=content, headers=headers)
        if first.status_code >= 300:
            return f"the first request was refused: {first.status_code} {first.text[:300]}", first
        await settled(stack)
        before = await event_count(stack)
        retry = await client.request(method, path, content=content, headers=headers)
        await settled(stack)
        after = await event_count(stack)
    wrong = []
    if retry.status_code != first.status_code:
        wrong.append(f"the retry answered {retry.status_code}: {retry.text[:300]}")
    elif without_replay_marks(retry) != without_replay_marks(first):
        wrong.append(f"the retry answered {retry.text[:300]}, not {first.text[:300]}")
    elif isinstance(retry.json(), dict) and retry.json().get("replayed") is not True:
        wrong.append("the retry is not marked as replayed")
    if after != before:
        wrong.append(f"the retry recorded {after - before} events")
    return "; ".join(wrong), first


def test_every_route_of_the_matrix_is_retried_or_exempt_with_a_reason() -> None:
    """Each state-changing route is either retried below or named exempt with its reason,
    so that a new route is retried too."""
    retried_routes = {step.route for step in STEPS}
    assert sorted(ROUTES.keys() - retried_routes - NOT_REPLAYED.keys()) == []
    assert retried_routes & NOT_REPLAYED.keys() == set()


async def test_every_command_route_answers_a_retry_with_its_first_answer(
    stack: Stack, worlds: Worlds
) -> None:
    """Each route, sent twice under one Idempotency-Key by a party allowed to send it, is
    answered the same twice, and the retry records nothing."""
    failures: list[str] = []
    for step in STEPS:
        method = step.route.split(" ", 1)[0]
        try:
            path, body = await step.build(worlds)
        except KeyError as missing:  # the step it builds on failed, and says so above
            failures.append(f"{step.route} as {step.actor}: no answer of {missing} to build on")
            continue
        token = worlds.token(step.which, step.actor)
        wrong, first = await retried(stack, token, method, path, body)
        if first.status_code < 300 and first.content:
            worlds.answers[step.route] = first.json()
        if wrong:
            failures.append(f"{step.route} as {step.actor}: {wrong}")
    assert failures == [], "\n".join(failures)
