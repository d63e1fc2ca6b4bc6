"""Many tenders opened at once: each opening reads its bidders' signing keys in its own
transaction. Before, it took a second connection from the API's pool while holding the
first, and with as many openings at once as the pool has connections (10) every one of them
waited for a connection that none would give back: the API answered nothing any more."""

import asyncio
from datetime import timedelta

import pytest

from tests.integration.market import (
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

pytestmark = pytest.mark.integration

TENDERS = 12  # more than the API's pool has connections


async def test_more_openings_at_once_than_the_pool_has_connections_all_open(
    stack: Stack,
) -> None:
    buyer = await buyer_with_committee(stack, size=3)
    bidder = await register_supplier(stack, "Epsilon SRL")
    tenders = []
    for _ in range(TENDERS):
        ocid, material, deadline = await sealed_tender(stack, buyer, timedelta(seconds=15))
        content = bid_content(ocid, bidder.id, "910.00")
        sent = await submit(stack, bidder, seal(content, material, bidder))
        assert sent.status_code == 201, sent.text
        tenders.append((ocid, deadline))
    first, second, _ = buyer.members
    for ocid, deadline in tenders:
        await until_sealed(stack, ocid, deadline)
        assert (await hand_in(stack, first, ocid)).status_code == 200
    # The second member's hand-ins reach the threshold: every tender opens, all at once.
    answers = await asyncio.wait_for(
        asyncio.gather(*(hand_in(stack, second, ocid) for ocid, _ in tenders)), timeout=90
    )
    assert [a.status_code for a in answers] == [200] * TENDERS, [a.text for a in answers]
    assert all(a.json()["opened"] for a in answers)
    async with stack.client() as public:
        assert (await public.get("/health")).status_code == 200
