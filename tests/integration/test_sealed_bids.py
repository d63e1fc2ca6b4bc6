"""Sealed bids end to end on the real stack: receipts, the sealed Merkle log, and an
opening that needs k of the n committee members, after the deadline and never before."""

import asyncio
import base64
import hashlib
from datetime import UTC, datetime, timedelta

from bidding import committee_sealing, keys, receipts, shamir, suites, verify
from schemas.bids import SignedReceipt
from schemas.events import BidOpened, BidRejected, BidsOpened
from schemas.upcasting import read_envelope
from sdk.client import Client
from tests.integration.market import (
    bid_content,
    buyer_with_committee,
    confirm,
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
    ocid, material, deadline = await sealed_tender(stack, buyer, threshold=2)
    alpha, beta, gamma = [
        await register_supplier(stack, name) for name in ("Alfa SRL", "Beta SA", "Gama SRL")
    ]
    key = await platform_key(stack)

    # Annex IV (a): each receipt names the exact time of receipt and is signed by the platform.
    first = await submit(stack, alpha, seal(bid_content(ocid, alpha.id, "910.00"), material, alpha))
    assert first.status_code == 201, first.text
    alpha_receipt = SignedReceipt.model_validate(
        {k: v for k, v in first.json().items() if k not in ("replayed", "signed_head")}
    )
    verify.check_receipt(alpha_receipt, key)
    assert alpha_receipt.receipt.log_index is None  # a position would count the bids before
    assert datetime.now(UTC) - alpha_receipt.receipt.received_at < timedelta(seconds=5)

    async with stack.client() as public:  # the log's size is not public before the deadline
        head_after_first = await public.get(f"/tenders/{ocid}/bid-log")
    assert head_after_first.json()["code"] == "bid_log_not_sealed"

    beta_v1 = seal(bid_content(ocid, beta.id, "990.00"), material, beta)
    assert (await submit(stack, beta, beta_v1)).status_code == 201
    again = await submit(stack, beta, beta_v1)  # the same bid again: the same receipt
    assert again.status_code == 200
    assert again.json()["replayed"] is True
    beta_v2 = await submit(
        stack, beta, seal(bid_content(ocid, beta.id, "850.00"), material, beta, version=2)
    )
    assert beta_v2.status_code == 201, beta_v2.text
    gamma_bid = await submit(
        stack, gamma, seal(bid_content(ocid, gamma.id, "700.00"), material, gamma)
    )
    assert gamma_bid.status_code == 201

    def withdraw() -> SignedReceipt:  # through the Python client, as an SME's own tool would
        with Client(stack.api_url, gamma.token) as client:
            return client.withdraw_bid(ocid, gamma.id, 2, gamma.keys)

    withdrawal = await asyncio.to_thread(withdraw)
    assert withdrawal.receipt.kind == "withdrawal"
    assert withdrawal.receipt.log_index is None

    # Annex IV (e): before the deadline no share is taken, so no key can exist.
    early = await hand_in(stack, buyer.members[0], ocid)
    assert early.status_code == 409
    assert early.json()["code"] == "too_early"

    await until_sealed(stack, ocid, deadline)
    async with stack.client() as public:
        head = (await public.get(f"/tenders/{ocid}/bid-log")).json()
        assert head["tree_size"] == 5
        assert head["sealed_root"] == head["root"]
        # Every receipt is in the sealed tree, and the sealed tree extends the first bidder's
        # leaf: nothing was removed or rewritten before it.
        proof = (
            await public.get(f"/tenders/{ocid}/bid-log/inclusion", params={"leaf_index": 0})
        ).json()
        verify.check_inclusion(alpha_receipt, proof, head["sealed_root"], head["tree_size"])
        grown = (
            await public.get(f"/tenders/{ocid}/bid-log/consistency", params={"first": 1})
        ).json()
        assert grown["first_root"] == receipts.leaf_hash(alpha_receipt.receipt).hex()
        verify.check_consistency(grown)
        late = await submit(
            stack, alpha, seal(bid_content(ocid, alpha.id, "100.00"), material, alpha, 2)
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
        assert [r["bid_id"] for r in own["my_receipts"]] == [alpha_receipt.receipt.bid_id]
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
    ocid, material, deadline = await sealed_tender(stack, buyer, threshold=3)
    bidder = await register_supplier(stack)
    assert (
        await submit(stack, bidder, seal(bid_content(ocid, bidder.id), material, bidder))
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


async def test_only_the_buyers_officers_name_the_committee_once(stack: Stack) -> None:
    """Another agency's officer cannot name a tender's committee; the buyer's cannot name a
    second one once bids may be sealed to the first. Nothing is recorded either way."""
    buyer = await buyer_with_committee(stack, size=2)
    other = await buyer_with_committee(stack, size=2)
    ocid, _, _ = await sealed_tender(stack, buyer)
    before = await store_counts(stack)
    nomination = {"members": [m.id for m in other.members], "threshold": 2}
    async with stack.client(other.officer.token) as foreign:
        answer = await foreign.post(f"/tenders/{ocid}/committee", json=nomination)
    assert answer.status_code == 403, answer.text
    async with stack.client(buyer.officer.token) as own:
        again = await own.post(
            f"/tenders/{ocid}/committee",
            json={"members": [m.id for m in buyer.members], "threshold": 2},
        )
    assert again.status_code == 409, again.text
    assert again.json()["code"] == "committee_exists"
    assert await store_counts(stack) == before


async def test_bids_wait_for_k_confirmations(stack: Stack) -> None:
    """Named but confirmed by one member of a 2-of-3 committee, the tender takes no bid;
    the second confirmation opens it. Confirmations are public, each a member's own."""
    buyer = await buyer_with_committee(stack, size=3)
    ocid, material, _ = await sealed_tender(stack, buyer, confirming=1)
    bidder = await register_supplier(stack)
    sealed = seal(bid_content(ocid, bidder.id), material, bidder)
    waiting = await submit(stack, bidder, sealed)
    assert waiting.status_code == 409, waiting.text
    assert waiting.json()["code"] == "committee_not_confirmed"
    await confirm(stack, buyer.members[2], material)
    assert (await submit(stack, bidder, sealed)).status_code == 201
    async with stack.client() as public:
        shown = (await public.get(f"/tenders/{ocid}/committee")).json()
    assert [c["officer_id"] for c in shown["confirmations"]] == [
        buyer.members[0].id,
        buyer.members[2].id,
    ]


async def test_the_post_quantum_suite_seals_and_opens_end_to_end(stack: Stack) -> None:
    """A tender asking for ML-KEM-768+X25519: the committee's keys are the members' hybrid
    keys, bids seal their shares to them, and two members open them."""
    buyer = await buyer_with_committee(stack, size=3)
    ocid, material, deadline = await sealed_tender(stack, buyer, suite="mlkem768-x25519")
    assert material.suite == "mlkem768-x25519"
    assert {len(m.encryption_key) for m in material.members} == {1216}
    bidders = [await register_supplier(stack, name) for name in ("Alfa SRL", "Beta SA")]
    for bidder, amount in zip(bidders, ("910.00", "880.00"), strict=True):
        sealed = seal(bid_content(ocid, bidder.id, amount), material, bidder)
        assert (await submit(stack, bidder, sealed)).status_code == 201
    await until_sealed(stack, ocid, deadline)
    assert (await hand_in(stack, buyer.members[1], ocid)).json()["opened"] is False
    opened = (await hand_in(stack, buyer.members[2], ocid)).json()
    assert (opened["opened"], opened["bids_opened"], opened["bids_rejected"]) == (True, 2, 0)


async def test_a_bid_whose_shares_do_not_rebuild_its_key_is_rejected_alone(stack: Stack) -> None:
    """A bidder seals garbage, with a matching digest, as one member's share: every share
    checks at the hand-in, but two of them rebuild no key the bidder committed to. That bid
    is rejected as bad_key_shares; the other opens."""
    buyer = await buyer_with_committee(stack, size=3)
    ocid, material, deadline = await sealed_tender(stack, buyer)
    honest, spoiler = [await register_supplier(stack, name) for name in ("Alfa SRL", "Rău SRL")]
    assert (
        await submit(stack, honest, seal(bid_content(ocid, honest.id), material, honest))
    ).status_code == 201
    sealed = seal(bid_content(ocid, spoiler.id, "500.00"), material, spoiler)
    garbage = shamir.Share(x=1, y=12345).to_bytes()
    first = sealed.key_shares[0]
    forged = first.model_copy(
        update={
            "sealed_share": suites.seal(
                "x25519",
                garbage,
                bytes(material.members[0].encryption_key),
                committee_sealing.share_context(
                    ocid, sealed.lots, spoiler.id, 1, first.officer_id, 1
                ),
            ),
            "share_sha256": hashlib.sha256(garbage).hexdigest(),
        }
    )
    shares = [forged, *sealed.key_shares[1:]]
    fields = committee_sealing.bid_signature_fields(
        sealed.model_copy(update={"key_shares": shares})
    )
    signature = keys.sign(spoiler.keys.signing_key, committee_sealing.BID_SIGNATURE, fields)
    spoiled = sealed.model_copy(update={"key_shares": shares, "signature": signature})
    assert (await submit(stack, spoiler, spoiled)).status_code == 201
    await until_sealed(stack, ocid, deadline)
    # The member holding the garbage (share 1, the first in the material's order) and one
    # other hand in: two shares, one of them garbage.
    holder = next(m for m in buyer.members if m.id == first.officer_id)
    other = next(m for m in buyer.members if m.id != first.officer_id)
    await hand_in(stack, holder, ocid)
    result = (await hand_in(stack, other, ocid)).json()
    assert (result["bids_opened"], result["bids_rejected"]) == (1, 1)
    events = await opening_events(stack, ocid)
    rejected = [e for e in events if isinstance(e, BidRejected)]
    assert [(e.bidder_id, e.reason_code) for e in rejected] == [(spoiler.id, "bad_key_shares")]
    assert [e.bidder_id for e in events if isinstance(e, BidOpened)] == [honest.id]
