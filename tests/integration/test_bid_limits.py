"""What one supplier may store in one tender's bid log, on the real stack: versions in
order and up to a limit, and at most a few of the largest ciphertexts. Past a limit a bid
is refused with a problem document that says why, and nothing is recorded."""

import os
from datetime import timedelta

import httpx

from bidding import sealing
from bidding.entries import BidLimits
from schemas.bids import MAX_SEALED_BYTES, SealedBid
from schemas.committee import CommitteeMaterial
from tests.integration.market import (
    Party,
    bid_content,
    buyer_with_committee,
    register_supplier,
    seal,
    sealed_tender,
    store_counts,
    submit,
)
from tests.integration.stack import Stack
from tests.integration.test_bid_attacks import resigned

LIMITS = BidLimits()  # the stack runs with the default limits


async def open_tender(stack: Stack) -> tuple[str, CommitteeMaterial]:
    """A tender taking sealed bids for a while yet: its ocid and opening key."""
    buyer = await buyer_with_committee(stack, size=2)
    ocid, tender_key, _ = await sealed_tender(stack, buyer, deadline_in=timedelta(minutes=10))
    return ocid, tender_key


def refused(answer: httpx.Response, status: int, code: str) -> None:
    assert (answer.status_code, answer.json()["code"]) == (status, code), answer.text
    assert answer.headers["content-type"] == "application/problem+json"


def largest(bid: SealedBid, bidder: Party, version: int) -> SealedBid:
    """A bid of the largest ciphertext a bid may have (random bytes, signed by the bidder)."""
    ciphertext = os.urandom(MAX_SEALED_BYTES)
    return resigned(bid, bidder.keys.signing_key, version=version, ciphertext=ciphertext)


async def test_versions_follow_one_another_up_to_the_limit(stack: Stack) -> None:
    """A supplier sends versions 1 to 10; the eleventh and a version numbered a million are
    refused and change nothing; it may still withdraw its bid."""
    ocid, tender_key = await open_tender(stack)
    bidder = await register_supplier(stack, "Versiuni SRL")
    content = bid_content(ocid, bidder.id)
    far = await submit(stack, bidder, seal(content, tender_key, bidder, version=1_000_000))
    refused(far, 409, "version_not_next")
    for version in range(1, LIMITS.versions + 1):
        answer = await submit(stack, bidder, seal(content, tender_key, bidder, version=version))
        assert answer.status_code == 201, (version, answer.text)
    before = await store_counts(stack)
    beyond = LIMITS.versions + 1
    refused(
        await submit(stack, bidder, seal(content, tender_key, bidder, version=beyond)),
        409,
        "too_many_versions",
    )
    skipped = await submit(stack, bidder, seal(content, tender_key, bidder, version=beyond + 1))
    refused(skipped, 409, "version_not_next")
    far = await submit(stack, bidder, seal(content, tender_key, bidder, version=1_000_000))
    refused(far, 409, "version_not_next")
    assert await store_counts(stack) == before

    withdrawal = sealing.withdraw_bid(ocid, bidder.id, beyond, bidder.keys.signing_key)
    async with stack.client(bidder.token) as client:
        answer = await client.post(
            f"/tenders/{ocid}/bids/withdrawal", content=withdrawal.model_dump_json()
        )
    assert answer.status_code == 201, answer.text


async def test_a_supplier_stores_at_most_four_of_the_largest_bids(stack: Stack) -> None:
    """Four bids of the largest ciphertext fit in what one supplier may store in a tender;
    a fifth is refused as too large, and nothing is recorded."""
    ocid, tender_key = await open_tender(stack)
    bidder = await register_supplier(stack, "Voluminos SRL")
    first = seal(bid_content(ocid, bidder.id), tender_key, bidder)
    for version in range(1, 5):
        answer = await submit(stack, bidder, largest(first, bidder, version))
        assert answer.status_code == 201, (version, answer.text)
    before = await store_counts(stack)
    refused(await submit(stack, bidder, largest(first, bidder, 5)), 413, "bid_storage_full")
    assert await store_counts(stack) == before
    stored = await stack.pool.fetchval(
        "SELECT sum(pg_column_size(v.envelope)) FROM bid_entries e"
        " JOIN events v USING (event_id) WHERE e.ocid = $1 AND e.bidder_id = $2",
        ocid,
        bidder.id,
    )
    assert 4 * MAX_SEALED_BYTES < stored <= LIMITS.stored_bytes
