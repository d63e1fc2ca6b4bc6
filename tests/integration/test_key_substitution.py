"""An operator who swaps a member's encryption key in the database, after the committee was
named and confirmed, gains nothing: the supplier's client checks the committee against the
key log, refuses to seal, names the member and the key, and sends nothing; on an honest
tender the same client seals and the bid is received."""

import asyncio
import base64
from datetime import timedelta

import pytest
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey

from bidding import keys
from sdk import key_checks
from sdk.client import Client
from sdk.key_checks import KeyCheckFailed
from tests.integration.market import (
    Buyer,
    Party,
    bid_content,
    buyer_with_committee,
    register_supplier,
    sealed_tender,
    store_counts,
)
from tests.integration.stack import Stack
from tests.integration.test_key_log import until_key_entries


async def operator_swaps_a_members_key(stack: Stack, ocid: str, officer_id: str) -> bytes:
    """The operator's own X25519 key in the member's place: in ``party_keys`` and in the
    committee ``GET /tenders/{ocid}/committee`` serves (whose digest follows the material)."""
    operator_key = keys.raw_public(X25519PrivateKey.generate())
    async with stack.pool.acquire() as connection, connection.transaction():
        await connection.execute(
            "UPDATE party_keys SET encryption_key = $2 WHERE party_id = $1",
            officer_id,
            operator_key,
        )
        changed = await connection.execute(
            "UPDATE bid_logs SET committee = jsonb_set(committee, '{material,members}',"
            " (SELECT jsonb_agg(CASE WHEN m->>'officer_id' = $2"
            "  THEN jsonb_set(m, '{encryption_key}', to_jsonb($3::text)) ELSE m END"
            "  ORDER BY ordinality)"
            "  FROM jsonb_array_elements(committee->'material'->'members') WITH ORDINALITY AS t(m)))"
            " WHERE ocid = $1",
            ocid,
            officer_id,
            _as_served(operator_key),
        )
    assert changed == "UPDATE 1"
    return operator_key


def _as_served(raw: bytes) -> str:
    return base64.b64encode(raw).decode()


def submit_through_the_client(stack: Stack, supplier: Party, ocid: str, platform_key: bytes) -> str:
    with Client(stack.api_url, supplier.token) as client:
        receipt = client.submit_bid(
            bid_content(ocid, supplier.id), 1, supplier.keys, platform_key=platform_key
        )
    return receipt.receipt.bid_id


async def committee_tender(stack: Stack) -> tuple[Buyer, str]:
    buyer = await buyer_with_committee(stack, size=3)
    for member in buyer.members:
        await until_key_entries(stack, member.id, 1)
    ocid, _, _ = await sealed_tender(stack, buyer, deadline_in=timedelta(minutes=10))
    return buyer, ocid


async def test_the_client_refuses_to_seal_to_a_key_the_operator_substituted(
    stack: Stack,
) -> None:
    supplier = await register_supplier(stack)
    _, honest_ocid = await committee_tender(stack)
    _, swapped_ocid = await committee_tender(stack)
    with Client(stack.api_url) as public:
        pinned = await asyncio.to_thread(key_checks.served_platform_key, public)

    # The honest tender: the committee verifies, the bid is sealed and received.
    bid_id = await asyncio.to_thread(
        submit_through_the_client, stack, supplier, honest_ocid, pinned
    )
    entries = "SELECT bid_id FROM bid_entries WHERE ocid = $1"
    assert [row["bid_id"] for row in await stack.pool.fetch(entries, honest_ocid)] == [bid_id]

    # The other tender: the operator's key in its second member's place.
    swapped = (await stack.pool.fetchval(
        "SELECT committee->'material'->'members'->1->>'officer_id' FROM bid_logs WHERE ocid = $1",
        swapped_ocid,
    ))  # fmt: skip
    operator_key = await operator_swaps_a_members_key(stack, swapped_ocid, swapped)
    async with stack.client() as client:
        served = (await client.get(f"/tenders/{swapped_ocid}/committee")).json()
    held = {m["officer_id"]: m["encryption_key"] for m in served["material"]["members"]}
    assert held[swapped] == _as_served(operator_key)  # the platform serves the operator's key

    before = await store_counts(stack)
    with pytest.raises(KeyCheckFailed) as refused:
        await asyncio.to_thread(submit_through_the_client, stack, supplier, swapped_ocid, pinned)
    message = str(refused.value)
    assert swapped in message, message
    assert "encryption key" in message, message
    assert "key log" in message, message
    assert "substituted" in message, message
    assert await store_counts(stack) == before  # nothing was submitted
    assert await stack.pool.fetch(entries, swapped_ocid) == []
