"""Sealed bids end to end on the real stack: receipts, the sealed Merkle log, and an
opening that needs k of the n committee members, after the deadline and never before."""

import asyncio
import base64
from datetime import UTC, datetime, timedelta

from bidding import keys, verify
from schemas.bids import SignedReceipt
from schemas.events import BidOpened, BidsOpened
from schemas.upcasting import read_envelope
from sdk.client import Client
from tests.integration.market import (
    Buyer,
    bid_content,
    buyer_with_committee,
    hand_in,
    register_supplier,
    seal,
    sealed_tender,
    store_counts,
    submit,
    until_sealed,
)
from tests.integration.stack import Stack, eventually


async def platform_key(stack: Stack) -> bytes:
    async with stack.client() as client:
        served = (await client.get("/platform/keys")).json()["receipt_keys"][0]
    return base64.b64decode(served["public_key"])


async def opening_events(stack: Stack, ocid: str) -> list[object]:
    rows = await stack.pool.fetch(
        "SELECT envelope FROM events WHERE aggregate_id = $1 AND type = ANY($2) ORDER BY sequence",
        f"{ocid}:bids",
        ["BidOpened", "BidRejected", "BidsOpened"],
    )
    return [read_envelope(row["envelope"]).event for row in rows]


async def test_bids_are_received_sealed_and_opened_by_a_quorum_after_the_deadline(
    stack: Stack,
) -> None:
    buyer = await buyer_with_committee(stack, size=3)
    ocid, tender_key, deadline = await sealed_tender(stack, buyer, threshold=2)
    alpha, beta, gamma = [
        await register_supplier(stack, name) for name in ("Alfa SRL", "Beta SA", "Gama SRL")
    ]
    key = await platform_key(stack)

    # Annex IV (a): each receipt names the exact time of receipt and is signed by the platform.
    first = await submit(
        stack, alpha, seal(bid_content(ocid, alpha.id, "910.00"), tender_key, alpha)
    )
    assert first.status_code == 201, first.text
    alpha_receipt = SignedReceipt.model_validate(
        {k: v for k, v in first.json().items() if k != "replayed"}
    )
    verify.check_receipt(alpha_receipt, key)
    assert alpha_receipt.receipt.log_index == 0
    assert datetime.now(UTC) - alpha_receipt.receipt.received_at < timedelta(seconds=5)

    async with stack.client() as public:
        head_after_first = (await public.get(f"/tenders/{ocid}/bid-log")).json()
    assert head_after_first["tree_size"] == 1

    beta_v1 = seal(bid_content(ocid, beta.id, "990.00"), tender_key, beta)
    assert (await submit(stack, beta, beta_v1)).status_code == 201
    again = await submit(stack, beta, beta_v1)  # the same bid again: the same receipt
    assert again.status_code == 200
    assert again.json()["replayed"] is True
    beta_v2 = await submit(
        stack, beta, seal(bid_content(ocid, beta.id, "850.00"), tender_key, beta, version=2)
    )
    assert beta_v2.status_code == 201, beta_v2.text
    gamma_bid = await submit(
        stack, gamma, seal(bid_content(ocid, gamma.id, "700.00"), tender_key, gamma)
    )
    assert gamma_bid.status_code == 201

    def withdraw() -> SignedReceipt:  # through the Python client, as an SME's own tool would
        with Client(stack.api_url, gamma.token) as client:
            return client.withdraw_bid(ocid, gamma.id, 2, gamma.keys)

    withdrawal = await asyncio.to_thread(withdraw)
    assert withdrawal.receipt.kind == "withdrawal"
    assert withdrawal.receipt.log_index == 4

    # Annex IV (e): before the deadline no share is taken, so no key can exist.
    early = await hand_in(stack, buyer.members[0], ocid)
    assert early.status_code == 409
    assert early.json()["code"] == "too_early"

    await until_sealed(stack, ocid, deadline)
    async with stack.client() as public:
        head = (await public.get(f"/tenders/{ocid}/bid-log")).json()
        assert head["tree_size"] == 5
        assert head["sealed_root"] == head["root"]
        # Every receipt is in the sealed tree, and the sealed tree extends the one the first
        # bidder saw: nothing was removed or rewritten in between.
        proof = (
            await public.get(f"/tenders/{ocid}/bid-log/inclusion", params={"leaf_index": 0})
        ).json()
        verify.check_inclusion(alpha_receipt, proof, head["sealed_root"], head["tree_size"])
        grown = (
            await public.get(f"/tenders/{ocid}/bid-log/consistency", params={"first": 1})
        ).json()
        assert grown["first_root"] == head_after_first["root"]
        verify.check_consistency(grown)
        late = await submit(
            stack, alpha, seal(bid_content(ocid, alpha.id, "100.00"), tender_key, alpha, 2)
        )
        assert late.status_code == 409
        assert late.json()["code"] in {"late", "tender_closed"}

    # Annex IV (e): one member alone opens nothing; the same member twice still opens nothing.
    one = await hand_in(stack, buyer.members[0], ocid)
    assert one.status_code == 200
    assert one.json() == {
        "threshold": 2,
        "handed_in": 1,
        "opened": False,
    }
    twice = await hand_in(stack, buyer.members[0], ocid)
    assert twice.status_code == 409
    assert twice.json()["code"] == "share_already_handed_in"
    assert await opening_events(stack, ocid) == []

    two = await hand_in(stack, buyer.members[2], ocid)
    assert two.status_code == 200, two.text
    assert two.json()["opened"] is True
    assert two.json()["bids_opened"] == 2
    assert two.json()["bids_rejected"] == 0

    events = await opening_events(stack, ocid)
    opened = {e.bidder_id: e for e in events if isinstance(e, BidOpened)}
    assert set(opened) == {alpha.id, beta.id}  # gamma withdrew
    assert str(opened[beta.id].content.offers[0].price.amount) == "850.00"  # the latest version
    assert opened[beta.id].version == 2
    summary = next(e for e in events if isinstance(e, BidsOpened))
    assert summary.participants == sorted([buyer.members[0].id, buyer.members[2].id])
    assert summary.log_matches_root
    assert summary.root == head["sealed_root"]

    # Annex IV (f): after the opening, the committee sees every bid, a bidder its own only,
    # the public counts and commitments.
    async with stack.client(buyer.members[1].token) as member:
        seen = (await member.get(f"/tenders/{ocid}/bids")).json()
        assert {b["bidder_id"] for b in seen["opened"]} == {alpha.id, beta.id}
    async with stack.client(alpha.token) as bidder:
        own = (await bidder.get(f"/tenders/{ocid}/bids")).json()
        assert [b["bidder_id"] for b in own["opened"]] == [alpha.id]
        assert [r["log_index"] for r in own["my_receipts"]] == [0]
    async with stack.client() as public:
        shown = (await public.get(f"/tenders/{ocid}/bids")).json()
        assert "opened" not in shown
        assert shown["bidders"] == 3

        async def projected() -> dict[str, object] | None:
            bids = (await public.get(f"/tenders/{ocid}")).json()["bids"]
            return bids if bids and bids["opened_at"] else None

        public_bids = await eventually(projected)
        assert public_bids["received"] == 2
        assert public_bids["root"] == head["sealed_root"]
        assert public_bids["opening_committee"] == summary.participants
        page = (await public.get(f"/notices/{ocid}")).text
        assert head["sealed_root"] in page
        assert "Bids received" in page


async def test_fewer_than_k_shares_open_nothing(stack: Stack) -> None:
    buyer = await buyer_with_committee(stack, size=3)
    ocid, tender_key, deadline = await sealed_tender(stack, buyer, threshold=3)
    bidder = await register_supplier(stack)
    assert (
        await submit(stack, bidder, seal(bid_content(ocid, bidder.id), tender_key, bidder))
    ).status_code == 201
    await until_sealed(stack, ocid, deadline)
    for member in buyer.members[:2]:
        answer = await hand_in(stack, member, ocid)
        assert answer.json()["opened"] is False
    assert await opening_events(stack, ocid) == []
    assert await stack.pool.fetchval("SELECT count(*) FROM opened_bids WHERE ocid = $1", ocid) == 0
    assert (
        await stack.pool.fetchval("SELECT status FROM bid_logs WHERE ocid = $1", ocid) == "sealed"
    )


async def test_only_the_buyers_officers_set_the_opening_key(stack: Stack) -> None:
    """Annex IV (c): only the buyer's officers set the key, and only its officers with
    registered keys sit on the committee."""
    buyer = await buyer_with_committee(stack, size=2)
    other = await buyer_with_committee(stack, size=2)
    ocid, _, _ = await sealed_tender(stack, buyer)
    before = await store_counts(stack)
    async with stack.client(other.officer.token) as foreign:
        answer = await foreign.post(
            f"/tenders/{ocid}/opening-key",
            content=_setup_json(ocid, other),
        )
    assert answer.status_code == 403, answer.text
    assert await store_counts(stack) == before


def _setup_json(ocid: str, buyer: Buyer) -> str:
    from bidding import committee

    members = [
        (m.id, keys.raw_public(m.keys.encryption_key))
        for m in buyer.members
        if m.keys.encryption_key
    ]
    return committee.make_opening_key(ocid, members, 2).model_dump_json()
