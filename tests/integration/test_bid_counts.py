"""A tender's bid counts mean the same in every answer that shows them, and every sealed-bid
answer is what the OpenAPI description declares: a verifier written from the description
alone reads them right."""

import asyncio
from datetime import timedelta
from typing import Any

import httpx
from jsonschema import Draft202012Validator  # type: ignore[import-untyped]  # schemathesis brings it, untyped

from schemas.bid_answers import TenderBidSummary
from sdk.client import Client
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
from tests.integration.stack import Stack, eventually

COUNTS = ("log_entries", "bidders_with_entries", "current_bids")


def conforms(described: dict[str, Any], answer: httpx.Response, method: str, path: str) -> None:
    """The answer's JSON validates against the schema declared for its status."""
    declared = described["paths"][path][method]["responses"][str(answer.status_code)]
    schema = declared["content"]["application/json"]["schema"]
    root = {**schema, "components": described["components"]}
    errors = [error.message for error in Draft202012Validator(root).iter_errors(answer.json())]
    assert errors == [], f"{method.upper()} {path}: {errors}"


async def test_counts_agree_for_a_tender_with_a_replaced_and_a_withdrawn_bid(
    stack: Stack,
) -> None:
    """alpha bids once, beta twice (version 2 replaces 1), gamma bids and withdraws: no
    count before the deadline; from the seal five entries from three bidders, two current
    bids, the same in the tender and in its bids, and the opening opens exactly the current
    bids."""
    buyer = await buyer_with_committee(stack, size=3)
    ocid, tender_key, deadline = await sealed_tender(
        stack, buyer, timedelta(seconds=15), threshold=2
    )
    alpha, beta, gamma = [await register_supplier(stack, n) for n in ("Alfa", "Beta", "Gama")]
    async with stack.client() as public:
        described = (await public.get("/openapi.json")).json()

    sent = [
        await submit(stack, alpha, seal(bid_content(ocid, alpha.id, "910.00"), tender_key, alpha)),
        await submit(stack, beta, seal(bid_content(ocid, beta.id, "990.00"), tender_key, beta)),
        await submit(stack, beta, seal(bid_content(ocid, beta.id, "850.00"), tender_key, beta, 2)),
        await submit(stack, gamma, seal(bid_content(ocid, gamma.id, "700.00"), tender_key, gamma)),
    ]
    for answer in sent:
        assert answer.status_code == 201, answer.text
        conforms(described, answer, "post", "/tenders/{ocid}/bids")

    def withdraw() -> None:
        with Client(stack.api_url, gamma.token) as client:
            client.withdraw_bid(ocid, gamma.id, 2, gamma.keys)

    await asyncio.to_thread(withdraw)
    expected = {"log_entries": 5, "bidders_with_entries": 3, "current_bids": 2}
    uncounted = dict.fromkeys(COUNTS)

    async with stack.client() as public:  # before the deadline nothing counts the bids
        bids = await public.get(f"/tenders/{ocid}/bids")
        conforms(described, bids, "get", "/tenders/{ocid}/bids")
        assert {name: bids.json()[name] for name in COUNTS} == uncounted
        assert bids.json()["bidders"] is None
        assert (await public.get(f"/tenders/{ocid}")).json()["bids"] is None
        for path, params in (
            ("/tenders/{ocid}/bid-log", {}),
            ("/tenders/{ocid}/bid-log/inclusion", {"leaf_index": 2}),
            ("/tenders/{ocid}/bid-log/consistency", {"first": 2}),
        ):
            answer = await public.get(path.replace("{ocid}", ocid), params=params)
            assert answer.status_code == 409, answer.text
            assert answer.json()["code"] == "bid_log_not_sealed"
        for path in ("/platform/keys", "/tenders/{ocid}/committee"):
            answer = await public.get(path.replace("{ocid}", ocid))
            assert answer.status_code == 200, answer.text
            conforms(described, answer, "get", path)
        member = buyer.members[0].id
        keys = await public.get(f"/officers/{member}/committee-keys")
        conforms(described, keys, "get", "/officers/{officer_id}/committee-keys")

    async with stack.client(beta.token) as bidder:
        own = await bidder.get(f"/tenders/{ocid}/bids")
        conforms(described, own, "get", "/tenders/{ocid}/bids")
        assert [r["version"] for r in own.json()["my_receipts"]] == [1, 2]

    await until_sealed(stack, ocid, deadline)
    async with stack.client() as public:  # from the seal on, the counts and the proofs
        bids = await public.get(f"/tenders/{ocid}/bids")
        conforms(described, bids, "get", "/tenders/{ocid}/bids")
        assert {name: bids.json()[name] for name in COUNTS} == expected
        assert bids.json()["bidders"] == 3  # the deprecated name of bidders_with_entries

        async def counted() -> dict[str, Any] | None:
            summary = (await public.get(f"/tenders/{ocid}")).json()["bids"]
            return summary if summary and summary["log_entries"] == 5 else None

        summary = await eventually(counted)
        TenderBidSummary.model_validate(summary)  # every field documented, none unknown
        assert {name: summary[name] for name in COUNTS} == expected
        assert summary["received"] == 2  # the deprecated name of current_bids

        for path, params in (
            ("/tenders/{ocid}/bid-log", {}),
            ("/tenders/{ocid}/bid-log/inclusion", {"leaf_index": 2}),
            ("/tenders/{ocid}/bid-log/consistency", {"first": 2}),
        ):
            answer = await public.get(path.replace("{ocid}", ocid), params=params)
            assert answer.status_code == 200, answer.text
            conforms(described, answer, "get", path)

    assert (await hand_in(stack, buyer.members[0], ocid)).status_code == 200
    opened = await hand_in(stack, buyer.members[1], ocid)
    assert opened.json()["opened"] is True, opened.text
    conforms(described, opened, "post", "/tenders/{ocid}/opening/shares")

    async with stack.client(buyer.members[2].token) as committee:
        seen = await committee.get(f"/tenders/{ocid}/bids")
        conforms(described, seen, "get", "/tenders/{ocid}/bids")
        assert len(seen.json()["opened"]) == seen.json()["current_bids"] == 2

    async with stack.client() as public:

        async def opened_summary() -> dict[str, Any] | None:
            summary = (await public.get(f"/tenders/{ocid}")).json()["bids"]
            return summary if summary["opened_at"] else None

        summary = await eventually(opened_summary)
        TenderBidSummary.model_validate(summary)
        assert {name: summary[name] for name in COUNTS} == expected
        assert summary["opened"] + summary["rejected"] == summary["current_bids"]
