"""A market driver: the parties of a procurement market, each with its own keys, acting on a
running platform through its HTTP API exactly as their own tools would.

Everything secret stays on the party's side: suppliers seal their bids here, committee
members decrypt their shares here and sign their scores here, and both contract parties
sign the contract's hash here. The demo (``entrypoints.demo.run``), the full-procedure
benchmark and the integration tests all drive the platform through it.

    async with httpx.AsyncClient(base_url=url) as http:
        market = Market(http, operator_token)
        agency = await market.register_agency("Primăria Cluj-Napoca", "RO-CUI-4305857")
        officer = await market.register_officer(agency, "Ana Pop", "ana.pop@example.ro")
"""

import asyncio
import base64
import hashlib
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import Any, TypeVar

import httpx

from bidding import committee_material, committee_sealing, keys, sealing
from contracts.contract import CONTRACT_SIGNATURE, signature_fields
from procurement.evaluation import QUALITY_SCORE, score_fields
from schemas.bids import BidContent
from schemas.committee import CommitteeConfirmation, CommitteeMaterial, MySealedShares
from schemas.contracts import Party as ContractParty
from sdk import committee as committee_client
from sdk.keyfiles import KeyFile

T = TypeVar("T")


class ApiRefused(Exception):
    """The API refused a request: its status and the problem document's code and detail."""

    def __init__(self, method: str, path: str, status: int, problem: dict[str, Any]) -> None:
        self.status = status
        self.code = str(problem.get("code", "http_error"))
        self.detail = str(problem.get("detail", problem))
        super().__init__(f"{method} {path} answered {status} {self.code}: {self.detail}")


@dataclass(frozen=True)
class Party:
    """A party with its token and its private keys; ``agency_id`` for officers."""

    id: str
    name: str
    token: str
    keys: KeyFile
    agency_id: str | None = None
    is_sme: bool = True


def b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode()


# The bodies a party signs before sending: pure functions of its keys


def supplier_registration(
    key_file: KeyFile, *, name: str, identifier: str, email: str, is_sme: bool
) -> dict[str, Any]:
    """``POST /suppliers``: the public signing key, and the proof of holding it."""
    public = keys.raw_public(key_file.signing_key)
    proof = keys.sign(
        key_file.signing_key,
        keys.SUPPLIER_REGISTRATION,
        keys.supplier_registration_fields(identifier, public),
    )
    return {
        "name": name,
        "identifier": identifier,
        "is_sme": is_sme,
        "email": email,
        "signing_key": b64(public),
        "proof": b64(proof),
    }


def committee_keys_registration(key_file: KeyFile, officer_id: str) -> dict[str, Any]:
    """``POST /officers/me/committee-keys``: the X25519 and ML-KEM-768+X25519 encryption
    keys and the signing key, and the member's own signature binding them to it."""
    if key_file.encryption_key is None:
        raise ValueError("committee keys need an encryption key: KeyFile.generate(committee=True)")
    member = key_file.member_keys()
    encryption, hybrid = member.public("x25519"), member.public("mlkem768-x25519")
    signing = keys.raw_public(key_file.signing_key)
    proof = keys.sign(
        key_file.signing_key,
        keys.COMMITTEE_KEYS,
        keys.committee_keys_fields(officer_id, encryption, signing, hybrid),
    )
    return {
        "encryption_key": b64(encryption),
        "hybrid_encryption_key": b64(hybrid),
        "signing_key": b64(signing),
        "proof": b64(proof),
    }


def bid_content(
    ocid: str,
    bidder: Party,
    prices: dict[str, Decimal],
    items: dict[str, list[tuple[str, Decimal]]],
    statement: str | None = None,
    valid_for: timedelta = timedelta(days=90),
) -> BidContent:
    """A bid offering ``prices`` per lot id; ``items`` gives each lot's (item id, quantity),
    priced in proportion, to the hundredth of a unit."""
    offers = []
    for lot_id, price in prices.items():
        quantity = sum((q for _, q in items[lot_id]), Decimal(0))
        unit = max((price / quantity).quantize(Decimal("0.0001")), Decimal("0.0001"))
        lines = [{"item_id": item_id, "unit_price": str(unit)} for item_id, _ in items[lot_id]]
        offers.append(
            {"lot_id": lot_id, "price": {"amount": str(price), "currency": "RON"}, "items": lines}
        )
    return BidContent.model_validate(
        {
            "ocid": ocid,
            "bidder_id": bidder.id,
            "offers": offers,
            "valid_until": (date.today() + valid_for).isoformat(),
            "declaration": {
                "no_exclusion_grounds": True,
                "meets_selection_criteria": True,
                "is_sme": bidder.is_sme,
                "statement": statement,
            },
            "documents": [{"title": "Technical offer", "sha256": _digest(ocid, bidder.id)}],
        }
    )


def _digest(*parts: str) -> str:
    """Stands for the SHA-256 of a document the bidder keeps: bids carry digests only."""
    return hashlib.sha256("/".join(parts).encode()).hexdigest()


async def until(probe: Callable[[], Awaitable[T | None]], within: float, what: str) -> T:
    """The first truthy answer of ``probe``, asked every 0.2 s for ``within`` seconds."""
    deadline = time.monotonic() + within
    while True:
        answer = await probe()
        if answer:
            return answer
        if time.monotonic() > deadline:
            raise TimeoutError(f"{what} did not happen within {within:.0f}s")
        await asyncio.sleep(0.2)


class Market:
    """The parties' side of the API: every call sends the acting party's token."""

    def __init__(self, http: httpx.AsyncClient, operator_token: str) -> None:
        self.http = http
        self.operator_token = operator_token

    async def call(
        self,
        method: str,
        path: str,
        token: str | None = None,
        *,
        json: Any = None,
        content: str | None = None,
        params: dict[str, Any] | None = None,
    ) -> Any:
        headers = {"Content-Type": "application/json"}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        response = await self.http.request(
            method, path, json=json, content=content, params=params, headers=headers
        )
        if response.is_error:
            try:
                problem = response.json()
            except ValueError:
                problem = {"detail": response.text[:500]}
            raise ApiRefused(method, path, response.status_code, problem)
        return response.json()

    async def read(self, path: str, party: Party | None = None) -> Any:
        return await self.call("GET", path, party.token if party else None)

    async def platform_key(self) -> bytes:
        """The public key that signs bid receipts."""
        served = (await self.read("/platform/keys"))["receipt_keys"][0]
        return base64.b64decode(served["public_key"])

    # Parties

    async def register_agency(self, name: str, identifier: str) -> str:
        body = {"name": name, "identifier": identifier}
        answer = await self.call("POST", "/agencies", self.operator_token, json=body)
        return str(answer["id"])

    async def register_officer(
        self,
        agency_id: str,
        name: str,
        email: str,
        *,
        reviewer: bool = False,
        committee_keys: bool = True,
    ) -> Party:
        """An officer (or reviewer) of the agency; with committee keys it can sit on
        committees, score bids and sign contracts for the buyer."""
        body = {
            "agency_id": agency_id,
            "name": name,
            "email": email,
            "role": "reviewer" if reviewer else "officer",
        }
        answer = await self.call("POST", "/officers", self.operator_token, json=body)
        key_file = KeyFile.generate(committee=True).named(answer["id"])
        officer = Party(answer["id"], name, answer["token"], key_file, agency_id)
        if committee_keys:
            registration = committee_keys_registration(key_file, officer.id)
            await self.call("POST", "/officers/me/committee-keys", officer.token, json=registration)
        return officer

    async def register_supplier(
        self, name: str, identifier: str, email: str, *, is_sme: bool = True
    ) -> Party:
        key_file = KeyFile.generate(committee=False)
        body = supplier_registration(
            key_file, name=name, identifier=identifier, email=email, is_sme=is_sme
        )
        answer = await self.call("POST", "/suppliers", json=body)
        return Party(
            answer["id"], name, answer["token"], key_file.named(answer["id"]), None, is_sme
        )

    # Tenders and sealed bids

    async def publish_tender(self, officer: Party, tender: dict[str, Any]) -> str:
        answer = await self.call("POST", "/tenders", officer.token, json=tender)
        return str(answer["id"])

    async def cancel_tender(self, officer: Party, ocid: str, reason: str) -> None:
        body = {"reason": reason}
        await self.call("POST", f"/tenders/{ocid}/cancellation", officer.token, json=body)

    async def name_committee(
        self,
        officer: Party,
        ocid: str,
        members: list[Party],
        threshold: int,
        suite: str = "x25519",
        confirming: list[Party] | None = None,
    ) -> CommitteeMaterial:
        """Name the tender's committee (k = ``threshold``), then each of ``confirming``
        (all members by default) checks its own keys in the material and confirms it on
        its side: the material bids are sealed to."""
        body = {"members": [m.id for m in members], "threshold": threshold, "suite": suite}
        await self.call("POST", f"/tenders/{ocid}/committee", officer.token, json=body)
        material = committee_client.material_of(await self.read(f"/tenders/{ocid}/committee"))
        for member in members if confirming is None else confirming:
            await self.confirm_committee(member, material)
        return material

    async def confirm_committee(self, member: Party, material: CommitteeMaterial) -> None:
        mine = next(m for m in material.members if m.officer_id == member.id)
        if bytes(mine.encryption_key) != member.keys.member_keys().public(material.suite):
            raise ValueError(
                f"{member.id}'s key in the committee of {material.ocid} is not its own"
            )
        confirmation = committee_material.confirm(material, member.id, member.keys.signing_key)
        path = f"/tenders/{material.ocid}/committee/confirmations"
        await self.call("POST", path, member.token, content=confirmation.model_dump_json())

    async def submit_bid(
        self,
        bidder: Party,
        content: BidContent,
        material: CommitteeMaterial | None = None,
        version: int = 1,
    ) -> dict[str, Any]:
        """Seal ``content`` here to the tender's committee, once k members confirmed its
        material, and send it: the platform's signed receipt. (The key log check of
        ``sdk.client`` is the CLI's; this driver checks the material and confirmations.)"""
        served = await self.read(f"/tenders/{content.ocid}/committee")
        confirmations = [CommitteeConfirmation.model_validate(c) for c in served["confirmations"]]
        current = committee_client.material_of(served)
        if material is not None and material != current:
            raise ValueError(f"the committee of {content.ocid} is not the one it was")
        if not committee_material.is_confirmed(current, confirmations):
            raise ValueError(f"the committee of {content.ocid} is not confirmed by k members")
        sealed = committee_sealing.seal_bid(content, version, current, bidder.keys.signing_key)
        path = f"/tenders/{content.ocid}/bids"
        receipt: dict[str, Any] = await self.call(
            "POST", path, bidder.token, content=sealed.model_dump_json()
        )
        return receipt

    async def withdraw_bid(self, bidder: Party, ocid: str, version: int) -> dict[str, Any]:
        withdrawal = sealing.withdraw_bid(ocid, bidder.id, version, bidder.keys.signing_key)
        path = f"/tenders/{ocid}/bids/withdrawal"
        receipt: dict[str, Any] = await self.call(
            "POST", path, bidder.token, content=withdrawal.model_dump_json()
        )
        return receipt

    async def until_sealed(self, ocid: str, within: float) -> None:
        """Wait until the deadline has passed and the platform has sealed the bid log."""

        async def sealed() -> bool:
            return bool((await self.read(f"/tenders/{ocid}/bids"))["status"] != "open")

        await until(sealed, within, f"the sealing of the bids of {ocid}")

    async def hand_in_share(self, member: Party, ocid: str) -> dict[str, Any]:
        """Decrypt the member's shares of every bid here, sign them and hand them in; the
        k-th member opens the bids."""
        material = committee_client.material_of(await self.read(f"/tenders/{ocid}/committee"))
        mine = MySealedShares.model_validate(
            await self.read(f"/tenders/{ocid}/opening/my-shares", member)
        )
        handed = committee_client.hand_in(
            material, member.id, mine.shares, member.keys.member_keys(), member.keys.signing_key
        )
        path = f"/tenders/{ocid}/opening/shares"
        answer: dict[str, Any] = await self.call(
            "POST", path, member.token, content=handed.model_dump_json()
        )
        return answer

    async def opened_bids(self, member: Party, ocid: str) -> list[dict[str, Any]]:
        """The opened bids, as the committee sees them: bid id, bidder, outcome, content."""
        return list((await self.read(f"/tenders/{ocid}/bids", member))["opened"])

    # Evaluation and award

    async def evaluate(
        self, actor: Party, ocid: str, step: str, body: dict[str, Any]
    ) -> dict[str, Any]:
        """One evaluation step: ``POST /tenders/{ocid}/evaluation/{step}``."""
        path = f"/tenders/{ocid}/evaluation/{step}"
        answer: dict[str, Any] = await self.call("POST", path, actor.token, json=body)
        return answer

    async def score(
        self,
        member: Party,
        ocid: str,
        lot_id: str,
        bid_id: str,
        criterion_id: str,
        points: Decimal,
        revision: int = 1,
    ) -> None:
        """A committee member's score for one quality criterion, signed with its key."""
        fields = score_fields(ocid, lot_id, bid_id, criterion_id, member.id, points, revision)
        signature = keys.sign(member.keys.signing_key, QUALITY_SCORE, fields)
        body = {
            "lot_id": lot_id,
            "bid_id": bid_id,
            "criterion_id": criterion_id,
            "score": str(points),
            "revision": revision,
            "signature": b64(signature),
        }
        await self.evaluate(member, ocid, "scores", body)

    async def evaluation(self, insider: Party, ocid: str) -> dict[str, Any]:
        answer: dict[str, Any] = await self.read(f"/tenders/{ocid}/evaluation", insider)
        return answer

    async def lot_status(self, insider: Party, ocid: str, lot_id: str) -> str:
        lots = (await self.evaluation(insider, ocid))["lots"]
        return str(next(lot["status"] for lot in lots if lot["lot_id"] == lot_id))

    # Contracts

    async def draw_contract(
        self, officer: Party, ocid: str, lot_id: str, start: date, end: date
    ) -> str:
        period = {"start_date": start.isoformat(), "end_date": end.isoformat()}
        body = {"lot_id": lot_id, "period": period}
        answer = await self.call("POST", f"/tenders/{ocid}/contracts", officer.token, json=body)
        return str(answer["id"])

    async def sign_contract(self, signer: Party, contract_id: str, party: ContractParty) -> None:
        """Sign the hash of the contract's published document, here, for ``party``."""
        digest = (await self.read(f"/contracts/{contract_id}"))["document_sha256"]
        fields = signature_fields(contract_id, digest, party)
        signature = keys.sign(signer.keys.signing_key, CONTRACT_SIGNATURE, fields)
        body = {"signature": b64(signature)}
        await self.call("POST", f"/contracts/{contract_id}/signatures", signer.token, json=body)

    async def contract_step(
        self, officer: Party, contract_id: str, step: str, body: dict[str, Any]
    ) -> dict[str, Any]:
        """``amendments``, ``milestones``, ``payments``, ``completion`` or ``termination``."""
        path = f"/contracts/{contract_id}/{step}"
        answer: dict[str, Any] = await self.call("POST", path, officer.token, json=body)
        return answer
