"""Parties with real keys for the sealed-bid tests: suppliers, a buyer with its evaluation
committee, tenders that take sealed bids, and bids sealed exactly as a client seals them."""

import base64
import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

import httpx

from bidding import committee_material, committee_sealing, keys
from contracts.contract import CONTRACT_SIGNATURE, signature_fields
from schemas.bids import BidContent, SealedBid
from schemas.committee import CommitteeMaterial, MySealedShares
from schemas.contracts import Party as ContractParty
from sdk import committee as member_side
from sdk.keyfiles import KeyFile
from sdk.market import committee_keys_registration, supplier_registration
from tests.integration.conftest import register_officer, tender_body
from tests.integration.stack import OPERATOR_TOKEN, Stack, eventually


@dataclass(frozen=True)
class Party:
    id: str
    token: str
    keys: KeyFile
    agency_id: str | None = None


async def register_supplier(stack: Stack, name: str = "Hârtia Nouă SRL") -> Party:
    key_file = KeyFile.generate(committee=False)
    identifier = f"RO-CUI-{uuid.uuid4().int % 10**9}"
    body = supplier_registration(
        key_file, name=name, identifier=identifier, email="oferte@hartia.ro", is_sme=True
    )
    async with stack.client() as client:
        response = await client.post("/suppliers", json=body)
    assert response.status_code == 201, response.text
    body = response.json()
    return Party(body["id"], body["token"], key_file.named(body["id"]))


async def add_officer(stack: Stack, agency_id: str, with_keys: bool = True) -> Party:
    async with stack.client(OPERATOR_TOKEN) as operator:
        response = await operator.post(
            "/officers",
            json={"agency_id": agency_id, "name": "Ion Ionescu", "email": "ion@primarie.ro"},
        )
    assert response.status_code == 201, response.text
    officer_id, token = response.json()["id"], response.json()["token"]
    key_file = KeyFile.generate(committee=True).named(officer_id)
    if with_keys:
        async with stack.client(token) as client:
            registered = await client.post(
                "/officers/me/committee-keys",
                json=committee_keys_registration(key_file, officer_id),
            )
        assert registered.status_code == 201, registered.text
    return Party(officer_id, token, key_file, agency_id)


@dataclass(frozen=True)
class Buyer:
    officer: Party
    members: list[Party]


async def buyer_with_committee(stack: Stack, size: int = 3) -> Buyer:
    first = await register_officer(stack)
    officer = Party(
        first["officer_id"], first["token"], KeyFile.generate(committee=True), first["agency_id"]
    )
    members = [await add_officer(stack, first["agency_id"]) for _ in range(size)]
    return Buyer(officer, members)


async def sealed_tender(
    stack: Stack,
    buyer: Buyer,
    deadline_in: timedelta = timedelta(seconds=6),
    threshold: int = 2,
    lots: int = 1,
    standstill_days: int = 10,
    standstill_ground: str | None = None,
    auction: dict[str, Any] | None = None,
    suite: str = "x25519",
    confirming: int | None = None,
) -> tuple[str, CommitteeMaterial, datetime]:
    """Publish a tender, name its committee and have the members confirm it (all, or the
    first ``confirming``): its ocid, the committee's key material and the deadline. With
    ``auction`` rules, the procedure has an auction."""
    body = tender_body(deadline_in=deadline_in)
    body["requirements"]["standstill_days"] = standstill_days
    body["requirements"]["standstill_ground"] = standstill_ground
    if auction is not None:
        body["procedure_type"] = "open_with_auction"
        body["requirements"]["auction"] = auction
    lot = body["requirements"]["lots"][0]
    body["requirements"]["lots"] = [
        lot | {"id": f"lot-{n}", "items": [lot["items"][0] | {"id": f"paper-{n}"}]}
        for n in range(1, lots + 1)
    ]
    async with stack.client(buyer.officer.token) as client:
        published = await client.post("/tenders", json=body)
        assert published.status_code == 201, published.text
        ocid = published.json()["id"]
        nomination = {"members": [m.id for m in buyer.members], "threshold": threshold}
        named = await client.post(f"/tenders/{ocid}/committee", json=nomination | {"suite": suite})
        assert named.status_code == 201, named.text
        material = member_side.material_of((await client.get(f"/tenders/{ocid}/committee")).json())
    for member in buyer.members[:confirming]:
        await confirm(stack, member, material)
    return ocid, material, datetime.fromisoformat(body["submission_deadline"])


async def confirm(stack: Stack, member: Party, material: CommitteeMaterial) -> httpx.Response:
    """The member's confirmation of the committee's material, signed on its side."""
    confirmation = committee_material.confirm(material, member.id, member.keys.signing_key)
    async with stack.client(member.token) as client:
        answer = await client.post(
            f"/tenders/{material.ocid}/committee/confirmations",
            content=confirmation.model_dump_json(),
        )
    assert answer.status_code == 201, answer.text
    return answer


def bid_content(
    ocid: str, bidder: str, amount: str = "870.00", lot: str = "lot-1", note: str = ""
) -> BidContent:
    return BidContent.model_validate(
        {
            "ocid": ocid,
            "bidder_id": bidder,
            "offers": [
                {
                    "lot_id": lot,
                    "price": {"amount": amount, "currency": "RON"},
                    "items": [{"item_id": "paper-1", "unit_price": str(float(amount) / 100)}],
                }
            ],
            "valid_until": (date.today() + timedelta(days=90)).isoformat(),
            "declaration": {
                "no_exclusion_grounds": True,
                "meets_selection_criteria": True,
                "is_sme": True,
                "statement": note or None,
            },
            "documents": [{"title": "Technical offer", "sha256": "ab" * 32}],
        }
    )


def seal(
    content: BidContent, material: CommitteeMaterial, bidder: Party, version: int = 1
) -> SealedBid:
    return committee_sealing.seal_bid(content, version, material, bidder.keys.signing_key)


async def submit(
    stack: Stack, bidder: Party, sealed: SealedBid | str, ocid: str | None = None
) -> httpx.Response:
    body = sealed if isinstance(sealed, str) else sealed.model_dump_json()
    target = ocid or (sealed.ocid if isinstance(sealed, SealedBid) else "")
    async with stack.client(bidder.token) as client:
        return await client.post(f"/tenders/{target}/bids", content=body)


async def hand_in(stack: Stack, member: Party, ocid: str) -> httpx.Response:
    async with stack.client(member.token) as client:
        mine = await client.get(f"/tenders/{ocid}/opening/my-shares")
        if mine.status_code != 200:  # too early, not a member: the same refusal as a hand-in
            return mine
        material = member_side.material_of((await client.get(f"/tenders/{ocid}/committee")).json())
        handed = member_side.hand_in(
            material,
            member.id,
            MySealedShares.model_validate(mine.json()).shares,
            member.keys.member_keys(),
            member.keys.signing_key,
        )
        return await client.post(
            f"/tenders/{ocid}/opening/shares", content=handed.model_dump_json()
        )


async def until_sealed(stack: Stack, ocid: str, deadline: datetime) -> None:
    async def sealed() -> bool:
        status = await stack.pool.fetchval("SELECT status FROM bid_logs WHERE ocid = $1", ocid)
        return bool(status == "sealed")

    await eventually(sealed, within=(deadline - datetime.now(UTC)).total_seconds() + 15)


async def store_counts(stack: Stack) -> tuple[Any, ...]:
    """What a refused request must leave unchanged."""
    row = await stack.pool.fetchrow(
        "SELECT (SELECT count(*) FROM events) AS events, (SELECT max(position) FROM events) AS last,"
        " (SELECT count(*) FROM bid_entries) AS entries, (SELECT count(*) FROM handled_commands) AS handled"
    )
    return tuple(row.values())


async def amend_quantity(
    stack: Stack, officer: Party, ocid: str, quantity: str, lots: int = 1
) -> None:
    """A significant amendment: the first item's quantity changes, and only the first
    ``lots`` lots are kept. The bids already sent then wait for their reconfirmation."""
    async with stack.client() as public:
        published = (await public.get(f"/tenders/{ocid}")).json()
    requirements = {k: published[k] for k in ("cpv", "lots", "award_criteria", "price_weight")}
    kept = requirements["lots"][:lots]
    kept[0]["items"] = [kept[0]["items"][0] | {"quantity": quantity}, *kept[0]["items"][1:]]
    body = {
        "reason": f"{quantity} of the first item",
        "requirements": requirements | {"lots": kept},
    }
    async with stack.client(officer.token) as client:
        answer = await client.patch(f"/tenders/{ocid}", json=body)
    assert answer.status_code == 200, answer.text


async def conclude_contract(
    stack: Stack, officer: Party, winner: Party, ocid: str, lot_id: str = "lot-1"
) -> str:
    """Draw the awarded lot's contract and have both parties sign it, once its standstill
    has ended: the contract's id, once the lot is recorded as contracted."""
    async with stack.client(officer.token) as client:
        period = {"start_date": "2027-01-01", "end_date": "2027-12-31"}
        drawn = await client.post(
            f"/tenders/{ocid}/contracts", json={"lot_id": lot_id, "period": period}
        )
        assert drawn.status_code == 201, drawn.text
        contract_id = str(drawn.json()["id"])
        digest = (await client.get(f"/contracts/{contract_id}")).json()["document_sha256"]
    for signer, side in ((officer, ContractParty.BUYER), (winner, ContractParty.SUPPLIER)):
        fields = signature_fields(contract_id, digest, side)
        signature = keys.sign(signer.keys.signing_key, CONTRACT_SIGNATURE, fields)
        async with stack.client(signer.token) as client:
            signed = await client.post(
                f"/contracts/{contract_id}/signatures",
                json={"signature": base64.b64encode(signature).decode()},
            )
            assert signed.status_code == 201, signed.text

    async def contracted() -> bool:
        status = (
            "SELECT count(*) FROM events WHERE aggregate_id = $1 AND type = 'ContractConcluded'"
        )
        return bool(await stack.pool.fetchval(status, f"{ocid}:evaluation"))

    assert await eventually(contracted)
    return contract_id
