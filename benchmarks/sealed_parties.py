"""The parties of the sealed-bid benchmarks and their tenders: suppliers with keys of their
own, a committee whose members hold their own keys, tenders with that committee named and
confirmed, sealed bids as raw requests, and the shares handed in to open them."""

import base64
import functools
import json
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from benchmarks.figures import per
from benchmarks.harness import console
from benchmarks.publish import EXAMPLE
from benchmarks.raw_http import failures, http_request, latency_ms, send_all
from bidding import committee_material, committee_sealing, keys, shamir, suites
from schemas.bids import BidContent, SealedBid
from schemas.committee import CommitteeMaterial, MySealedShares
from sdk import committee as committee_client

BID_EXAMPLE = EXAMPLE.parent / "bid.json"
REGISTER_CONCURRENCY = 64
COMMITTEE, THRESHOLD = 3, 2


@dataclass(frozen=True)
class Party:
    id: str
    token: str
    signing_key: Ed25519PrivateKey
    encryption_keys: suites.MemberPrivateKeys | None = None  # committee members


async def register_suppliers(url: str, count: int) -> tuple[list[Party], dict[str, Any]]:
    """``count`` suppliers, each with a key of its own; the HTTP part is timed."""
    made = []
    for number in range(count):
        key = Ed25519PrivateKey.generate()
        identifier = f"RO-BENCH-{number:07d}"
        public = keys.raw_public(key)
        proof = keys.sign(
            key,
            keys.SUPPLIER_REGISTRATION,
            keys.supplier_registration_fields(identifier, public),
        )
        body = {
            "name": f"Furnizor {number} SRL",
            "identifier": identifier,
            "is_sme": True,
            "email": f"oferte{number}@example.ro",
            "signing_key": b64(public),
            "proof": b64(proof),
        }
        made.append((key, http_request(url, "/suppliers", json.dumps(body).encode())))
    console.print(f"registering {count} suppliers over {REGISTER_CONCURRENCY} connections")
    started = time.monotonic()
    answers = await send_all(url, [request for _, request in made], REGISTER_CONCURRENCY)
    seconds = time.monotonic() - started
    suppliers = []
    for (key, _), answer in zip(made, answers, strict=True):
        if answer.status == 201:
            body = json.loads(answer.body)
            suppliers.append(Party(body["id"], body["token"], key))
    figures = {
        "suppliers": len(suppliers),
        "failed": failures(answers),
        "seconds": seconds,
        "per_s": per(len(suppliers), seconds),
        "answer_ms": latency_ms([(a.answered - a.sent) * 1000 for a in answers]),
    }
    return suppliers, figures


async def committee_of(client: httpx.AsyncClient, operator: str, agency_id: str) -> list[Party]:
    """``COMMITTEE`` officers of the agency, with their committee keys registered."""
    members = []
    for number in range(COMMITTEE):
        answer = await client.post(
            "/officers",
            json={"agency_id": agency_id, "name": f"Member {number}", "email": "c@example.ro"},
            headers=bearer(operator),
        )
        answer.raise_for_status()
        officer_id, token = answer.json()["id"], answer.json()["token"]
        signing, encryption = Ed25519PrivateKey.generate(), suites.MemberPrivateKeys.generate()
        public_signing = keys.raw_public(signing)
        x25519, hybrid = encryption.public(suites.X25519), encryption.public(suites.HYBRID)
        proof = keys.sign(
            signing,
            keys.COMMITTEE_KEYS,
            keys.committee_keys_fields(officer_id, x25519, public_signing, hybrid),
        )
        registered = await client.post(
            "/officers/me/committee-keys",
            json={
                "encryption_key": b64(x25519),
                "hybrid_encryption_key": b64(hybrid),
                "signing_key": b64(public_signing),
                "proof": b64(proof),
            },
            headers=bearer(token),
        )
        registered.raise_for_status()
        members.append(Party(officer_id, token, signing, encryption))
    return members


@dataclass(frozen=True)
class Tender:
    ocid: str
    material: CommitteeMaterial  # the committee's keys, confirmed by its members
    deadline: datetime


async def sealed_tender(
    client: httpx.AsyncClient,
    officer: str,
    members: Sequence[Party],
    deadline_in: timedelta,
    auction: dict[str, Any] | None = None,
    suite: str = suites.X25519,
) -> Tender:
    """Publish a tender (``examples/tender.json``, with these ``auction`` rules if given),
    name ``members`` its committee in ``suite`` and have each confirm it."""
    body = json.loads(EXAMPLE.read_text())
    deadline = datetime.now(UTC) + deadline_in
    body["submission_deadline"] = deadline.isoformat()
    if auction is not None:
        body["requirements"]["auction"] = auction
    published = await client.post("/tenders", json=body, headers=bearer(officer))
    published.raise_for_status()
    ocid: str = published.json()["id"]
    nomination = {"members": [m.id for m in members], "threshold": THRESHOLD, "suite": suite}
    named = await client.post(
        f"/tenders/{ocid}/committee", json=nomination, headers=bearer(officer)
    )
    named.raise_for_status()
    served = await client.get(f"/tenders/{ocid}/committee")
    served.raise_for_status()
    material = committee_client.material_of(served.json())
    for member in members:
        confirmation = committee_material.confirm(material, member.id, member.signing_key)
        confirmed = await client.post(
            f"/tenders/{ocid}/committee/confirmations",
            content=confirmation.model_dump_json(),
            headers=bearer(member.token) | {"Content-Type": "application/json"},
        )
        confirmed.raise_for_status()
    return Tender(ocid, material, deadline)


@functools.cache
def _bid_template() -> dict[str, Any]:
    template: dict[str, Any] = json.loads(BID_EXAMPLE.read_text())
    return template


def bid_content(ocid: str, bidder_id: str, number: int, version: int = 1) -> BidContent:
    """``examples/bid.json`` for this tender and bidder, with a price of its own."""
    template = _bid_template()
    price = {"amount": f"{1_300_000 + number}.{version:02d}", "currency": "RON"}
    offer = template["offers"][0] | {"price": price}
    return BidContent.model_validate(
        template | {"ocid": ocid, "bidder_id": bidder_id, "offers": [offer]}
    )


def seal_bids(
    tender: Tender, bidders: Sequence[Party], versions: int
) -> tuple[list[list[SealedBid]], float]:
    """``versions`` sealed bids of each bidder, and the seconds that took."""
    started = time.monotonic()
    sealed = [
        [
            committee_sealing.seal_bid(
                bid_content(tender.ocid, bidder.id, number, version),
                version,
                tender.material,
                bidder.signing_key,
            )
            for version in range(1, versions + 1)
        ]
        for number, bidder in enumerate(bidders)
    ]
    return sealed, time.monotonic() - started


def bid_request(url: str, bid: SealedBid, bidder: Party) -> bytes:
    return http_request(
        url, f"/tenders/{bid.ocid}/bids", bid.model_dump_json().encode(), bidder.token
    )


def b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode()


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def share_of(client: httpx.AsyncClient, member: Party, ocid: str) -> bytes:
    """The member's shares, decrypted and signed on the member's machine, ready to send."""
    served = await client.get(f"/tenders/{ocid}/committee")
    served.raise_for_status()
    mine = await client.get(f"/tenders/{ocid}/opening/my-shares", headers=bearer(member.token))
    mine.raise_for_status()
    assert member.encryption_keys is not None
    handed = committee_client.hand_in(
        committee_client.material_of(served.json()),
        member.id,
        MySealedShares.model_validate(mine.json()).shares,
        member.encryption_keys,
        member.signing_key,
    )
    return handed.model_dump_json().encode()


async def hand_in(client: httpx.AsyncClient, member: Party, ocid: str) -> httpx.Response:
    return await client.post(
        f"/tenders/{ocid}/opening/shares",
        content=await share_of(client, member, ocid),
        headers=bearer(member.token) | {"Content-Type": "application/json"},
    )


def content_key(tender: Tender, bid: SealedBid, members: Sequence[Party]) -> bytes:
    """A bid's content key, rebuilt here from the members' own shares, as the platform does."""
    pieces = []
    for member in members:
        mine = next(s for s in bid.key_shares if s.officer_id == member.id)
        assert member.encryption_keys is not None
        raw = committee_sealing.open_member_share(
            tender.material.suite, bid.ocid, bid.lots, bid.bidder_id, bid.version,
            member.id, mine.x, mine.sealed_share, member.encryption_keys,
        )  # fmt: skip
        pieces.append(shamir.Share.from_bytes(raw))
    return committee_sealing.rebuild_content_key(pieces, bid.key_commitment)
