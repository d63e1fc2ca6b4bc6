"""A significant amendment after bids arrived (Directive 2014/24/EU Article 47(3)): the bids
already received wait for their bidders' reconfirmation; a bid neither reconfirmed nor
replaced before the new deadline is not opened, and only bids made for the amended
requirements compete."""

import asyncio
import hashlib
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from bidding import reconfirmation
from schemas.evaluation import EvaluationStarted
from schemas.events import BidOpened, BidRejected
from schemas.reconfirmations import ReconfirmationRequested
from schemas.upcasting import read_envelope
from schemas.values import Requirements
from sdk.client import ApiError, Client
from tests.integration.market import (
    Party,
    amend_quantity,
    bid_content,
    buyer_with_committee,
    hand_in,
    register_supplier,
    seal,
    sealed_tender,
    submit,
    until_sealed,
)
from tests.integration.stack import Stack, eventually
from tests.integration.test_cli import procurement
from tests.integration.test_sealed_bids import opening_events


async def my_bids(stack: Stack, party: Party | None, ocid: str) -> dict[str, Any]:
    async with stack.client(party.token if party else None) as client:
        answer = await client.get(f"/tenders/{ocid}/bids")
    assert answer.status_code == 200, answer.text
    body: dict[str, Any] = answer.json()
    return body


async def reconfirm(stack: Stack, party: Party, body: dict[str, Any], ocid: str) -> Any:
    async with stack.client(party.token) as client:
        return await client.post(f"/tenders/{ocid}/bids/reconfirmations", json=body)


async def test_bids_sent_before_a_significant_amendment_must_be_reconfirmed(
    stack: Stack, tmp_path: Path
) -> None:
    """The quantity doubles and lot 2 goes after four bids arrived: each bidder is asked to
    reconfirm its own bid (nobody else sees the request); one reconfirms from the CLI,
    one sends a new version, one does nothing and one cannot reconfirm its bid on the lot
    that went. At the opening only the reconfirmed and the new bid open; the two others
    are rejected as ``not_reconfirmed``, unopened."""
    buyer = await buyer_with_committee(stack, size=2)
    keeper, replacer, idle, lot_two = [
        await register_supplier(stack, name)
        for name in ("Păstrează SRL", "Înlocuiește SA", "Tace SRL", "Lotul Doi SRL")
    ]
    ocid, material, _ = await sealed_tender(stack, buyer, timedelta(seconds=20), lots=2)
    first: dict[str, str] = {}
    for bidder, content in (
        (keeper, bid_content(ocid, keeper.id, "1900.00")),
        (replacer, bid_content(ocid, replacer.id, "950.00")),
        (idle, bid_content(ocid, idle.id, "800.00")),
        (lot_two, bid_content(ocid, lot_two.id, "700.00", lot="lot-2")),
    ):
        answer = await submit(stack, bidder, seal(content, material, bidder))
        assert answer.status_code == 201, answer.text
        first[bidder.id] = answer.json()["receipt"]["bid_id"]

    await amend_quantity(stack, buyer.officer, ocid, "200")

    rows = await stack.pool.fetch(
        "SELECT envelope FROM events WHERE aggregate_id = $1 AND type = 'ReconfirmationRequested'",
        f"{ocid}:bids",
    )
    requested = [read_envelope(row["envelope"]).event for row in rows]
    assert all(isinstance(event, ReconfirmationRequested) for event in requested)
    assert {event.bid_id for event in requested} == set(first.values())  # type: ignore[attr-defined]
    [digest] = {event.requirements_sha256 for event in requested}  # type: ignore[attr-defined]

    public_view = await my_bids(stack, None, ocid)
    assert "my_reconfirmation" not in public_view
    for bidder in (keeper, idle, lot_two):
        mine = (await my_bids(stack, bidder, ocid))["my_reconfirmation"]
        assert mine == {"bid_id": first[bidder.id], "version": 1, "requirements_sha256": digest}

    # Refused: someone else's bid, a stale amendment, a bid on a lot that went.
    forged = reconfirmation.reconfirm_bid(
        ocid, keeper.id, first[keeper.id], digest, lot_two.keys.signing_key
    )
    refused = await reconfirm(stack, lot_two, forged.model_dump(mode="json"), ocid)
    assert refused.status_code == 403, refused.text
    stale = reconfirmation.reconfirm_bid(
        ocid, idle.id, first[idle.id], "ab" * 32, idle.keys.signing_key
    )
    refused = await reconfirm(stack, idle, stale.model_dump(mode="json"), ocid)
    assert (refused.status_code, refused.json()["code"]) == (409, "not_the_latest_amendment")
    gone = reconfirmation.reconfirm_bid(
        ocid, lot_two.id, first[lot_two.id], digest, lot_two.keys.signing_key
    )
    refused = await reconfirm(stack, lot_two, gone.model_dump(mode="json"), ocid)
    assert (refused.status_code, refused.json()["code"]) == (422, "unknown_lot"), refused.text

    keys_file = tmp_path / "keeper.json"
    keeper.keys.save(keys_file)
    taken = await procurement(
        stack, "bid", "reconfirm", ocid, "--keys", str(keys_file), token=keeper.token
    )
    assert taken.exit_code == 0, taken.output
    assert f"bid {first[keeper.id]} reconfirmed for requirements {digest}" in taken.output
    assert "my_reconfirmation" not in await my_bids(stack, keeper, ocid)

    def through_the_sdk() -> dict[str, Any]:
        with Client(stack.api_url, keeper.token) as client:
            return client.reconfirm_bid(ocid, keeper.id, keeper.keys)

    with pytest.raises(ApiError) as again:
        await asyncio.to_thread(through_the_sdk)
    assert again.value.code == "nothing_to_reconfirm"

    replaced = await submit(
        stack, replacer, seal(bid_content(ocid, replacer.id, "1850.00"), material, replacer, 2)
    )
    assert replaced.status_code == 201, replaced.text
    assert "my_reconfirmation" not in await my_bids(stack, replacer, ocid)

    async with stack.client() as public:
        deadline = datetime.fromisoformat(
            (await public.get(f"/tenders/{ocid}")).json()["submission_deadline"]
        )
    assert deadline > datetime.now(UTC)
    await until_sealed(stack, ocid, deadline)
    answers = [await hand_in(stack, member, ocid) for member in buyer.members]
    assert [a.status_code for a in answers] == [200, 200], [a.text for a in answers]
    assert (answers[-1].json()["bids_opened"], answers[-1].json()["bids_rejected"]) == (2, 2)

    events = await opening_events(stack, ocid)
    assert {e.bidder_id for e in events if isinstance(e, BidOpened)} == {keeper.id, replacer.id}
    rejected = {e.bidder_id: e for e in events if isinstance(e, BidRejected)}
    assert {b: e.reason_code for b, e in rejected.items()} == {
        idle.id: "not_reconfirmed",
        lot_two.id: "not_reconfirmed",
    }
    assert digest in rejected[idle.id].reason

    async def started() -> Any:
        row = await stack.pool.fetchrow(
            "SELECT envelope FROM events WHERE aggregate_id = $1 AND sequence = 1",
            f"{ocid}:evaluation",
        )
        return read_envelope(row["envelope"]).event if row else None

    evaluated = await eventually(started)
    assert isinstance(evaluated, EvaluationStarted)
    assert {bid.bidder_id for bid in evaluated.bids} == {keeper.id, replacer.id}
    async with stack.client() as public:
        assert (await public.get("/health/dead-letters")).json()["unresolved"] == 0


async def test_a_document_that_changes_the_requirements_asks_for_reconfirmation(
    stack: Stack,
) -> None:
    """A significant change published as a document is an amendment like any other: the bid
    already sent waits for its reconfirmation, named by the requirements and the document's
    own SHA-256, and the SDK checks that against the tender's public documents before it
    signs."""
    buyer = await buyer_with_committee(stack, size=2)
    bidder = await register_supplier(stack, "Documentat SRL")
    ocid, material, _ = await sealed_tender(stack, buyer, timedelta(seconds=30))
    sent = await submit(
        stack, bidder, seal(bid_content(ocid, bidder.id, "900.00"), material, bidder)
    )
    assert sent.status_code == 201, sent.text
    content = b"%PDF-1.4 caiet de sarcini: 80 g/m2"
    async with stack.client(buyer.officer.token) as client:
        published = await client.post(
            f"/tenders/{ocid}/documents",
            params={
                "title": "Caiet de sarcini",
                "file_name": "caiet.pdf",
                "changes_requirements": "true",
                "reason": "Paper of 80 g/m2",
            },
            content=content,
            headers={"Content-Type": "application/pdf"},
        )
        assert published.status_code == 201, published.text
        tender = (await client.get(f"/tenders/{ocid}")).json()
        listed = (await client.get(f"/tenders/{ocid}/documents")).json()["documents"]
    requirements = Requirements.model_validate(
        {name: tender[name] for name in Requirements.model_fields if name in tender}
    )
    digest = reconfirmation.document_change_sha256(
        requirements, listed[0]["id"], 1, hashlib.sha256(content).hexdigest()
    )

    async def asked() -> dict[str, Any] | None:
        mine: dict[str, Any] | None = (await my_bids(stack, bidder, ocid)).get("my_reconfirmation")
        return mine

    mine = await eventually(asked)
    assert mine == {
        "bid_id": sent.json()["receipt"]["bid_id"],
        "version": 1,
        "requirements_sha256": digest,
    }

    def through_the_sdk() -> dict[str, Any]:
        with Client(stack.api_url, bidder.token) as client:
            return client.reconfirm_bid(ocid, bidder.id, bidder.keys)

    answer = await asyncio.to_thread(through_the_sdk)
    assert answer["requirements_sha256"] == digest
    assert "my_reconfirmation" not in await my_bids(stack, bidder, ocid)
