"""Nothing about the bids is public before the deadline (Directive 2014/24/EU Articles 21
and 22(3)): every public answer about a tender with one bid is the same as about a tender
with three, the receipts each bidder got included; at the close the sealed head and the
inclusion proofs are published and every receipt verifies against them."""

import asyncio
import base64
import re
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from bidding import receipts, verify
from bidding.tree_heads import check_head
from schemas.bids import SignedReceipt
from schemas.tree_heads import SignedTreeHead
from tests.integration.market import (
    Party,
    bid_content,
    buyer_with_committee,
    confirm,
    register_supplier,
    seal,
    sealed_tender,
    submit,
    until_sealed,
)
from tests.integration.stack import Stack, eventually

WINDOW = timedelta(seconds=25)  # to bid, confirm late and look at everything before it
# Everything public about one tender's bids; each path's answer is compared across tenders.
PUBLIC_PATHS: tuple[tuple[str, dict[str, Any]], ...] = (
    ("/tenders/{ocid}", {}),
    ("/tenders/{ocid}/bids", {}),
    ("/tenders/{ocid}/committee", {}),
    ("/tenders/{ocid}/bid-log", {}),
    ("/tenders/{ocid}/bid-log/inclusion", {"leaf_index": 0}),
    ("/tenders/{ocid}/bid-log/consistency", {"first": 1}),
    ("/tenders/{ocid}/bid-log/signed-head", {}),
    ("/tenders/{ocid}/bid-log/leaves", {}),
    ("/tenders/{ocid}/award-evidence", {}),
    ("/ocds/records/{ocid}", {}),
    ("/transparency/procedures/{ocid}", {}),
    ("/transparency/events", {"aggregate_id": "{ocid}:bids"}),
    ("/notices/{ocid}", {}),
)
TIME = re.compile(r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:?\d{2})?")
DIGEST = re.compile(r"\b[0-9a-f]{64}\b")
BID_ID = re.compile(r"\bbid-[0-9a-f]{32}\b")
UUID = re.compile(r"\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b")
BASE64 = re.compile(r"[A-Za-z0-9+/]{40,}={0,2}")


def blind(text: str, ocid: str, names: dict[str, str]) -> str:
    """The answer with what rightly differs between two tenders made alike: the ocid, times,
    digests, signatures, bid and event ids. Anything that depends on the bids stays."""
    text = text.replace(ocid, "OCID").replace("-".join(ocid.split("-")[-2:]), "TENDER")
    for real, alias in names.items():
        text = text.replace(real, alias)
    for pattern, word in (
        (TIME, "TIME"),
        (BID_ID, "BID"),
        (UUID, "UUID"),
        (DIGEST, "HEX"),
        (BASE64, "B64"),
    ):
        text = pattern.sub(word, text)
    return text


async def public_view(stack: Stack, ocid: str, names: dict[str, str]) -> dict[str, Any]:
    views: dict[str, Any] = {}
    async with stack.client() as public:
        for path, params in PUBLIC_PATHS:
            query = {
                k: v.replace("{ocid}", ocid) if isinstance(v, str) else v for k, v in params.items()
            }
            answer = await public.get(path.replace("{ocid}", ocid), params=query)
            seen = blind(answer.text, ocid, names)
            if path.startswith("/transparency/"):  # where in the platform-wide log: not the bids'
                seen = re.sub(r'"leaf_index":\d+', '"leaf_index":N', seen)
            views[path] = (answer.status_code, seen)
    return views


async def bid(stack: Stack, bidder: Party, ocid: str, material: Any) -> httpx.Response:
    answer = await submit(
        stack, bidder, seal(bid_content(ocid, bidder.id, "870.00"), material, bidder)
    )
    assert answer.status_code == 201, answer.text
    return answer


async def test_nothing_public_before_the_deadline_tells_one_bid_from_three(stack: Stack) -> None:
    """Three tenders alike, with one bid, three bids and none, and a member confirming the
    committee late in each: before the deadline every public route, the portal's page, the
    OCDS record, the transparency log and each bidder's receipt are the same in everything
    that could count bids; after the close the sealed head and each bidder's inclusion proof
    are published and every receipt verifies against the head."""
    buyer = await buyer_with_committee(stack, size=3)
    one, one_material, one_deadline = await sealed_tender(stack, buyer, WINDOW, confirming=2)
    three, three_material, three_deadline = await sealed_tender(stack, buyer, WINDOW, confirming=2)
    none, none_material, _ = await sealed_tender(stack, buyer, WINDOW, confirming=2)
    bidders = [await register_supplier(stack, name) for name in ("Alfa", "Beta", "Gama")]

    alone = await bid(stack, bidders[0], one, one_material)
    crowd = [await bid(stack, bidder, three, three_material) for bidder in bidders]
    for material in (one_material, three_material, none_material):  # late: after the bids
        await confirm(stack, buyer.members[2], material)
    await asyncio.sleep(2.5)  # the projections and the transparency appender have run since

    names = {bidder.id: "BIDDER" for bidder in bidders}
    seen_one = await public_view(stack, one, names)
    seen_three = await public_view(stack, three, names)
    seen_none = await public_view(stack, none, names)
    assert datetime.now(UTC) < min(one_deadline, three_deadline), "too slow to look in time"
    differing = {
        path: (seen_one[path], seen_three[path], seen_none[path]) for path, _ in PUBLIC_PATHS
    }
    assert {path: seen for path, seen in differing.items() if len(set(seen)) > 1} == {}

    # The first bidder of one tender and the last of the other got receipts alike.
    first, last = alone.json(), crowd[-1].json()
    assert blind(alone.text, one, names) == blind(crowd[-1].text, three, names)
    assert "log_index" not in first["receipt"]
    assert "signed_head" not in first
    assert set(first) == set(last)

    for ocid, deadline in ((one, one_deadline), (three, three_deadline)):
        await until_sealed(stack, ocid, deadline)
    async with stack.client() as public:
        platform_key = base64.b64decode(
            (await public.get("/platform/keys")).json()["receipt_keys"][0]["public_key"]
        )
        for ocid, answers in ((one, [alone]), (three, crowd)):

            async def head_of(ocid: str = ocid) -> dict[str, Any] | None:
                answer = await public.get(f"/tenders/{ocid}/bid-log/signed-head")
                return answer.json() if answer.status_code == 200 else None

            head = SignedTreeHead.model_validate(await eventually(head_of, within=30))
            check_head(head, platform_key)
            assert head.tree_size == len(answers)
            leaves = (await public.get(f"/tenders/{ocid}/bid-log/leaves")).json()["leaves"]
            for answer in answers:
                signed = SignedReceipt.model_validate(
                    {k: v for k, v in answer.json().items() if k != "replayed"}
                )
                verify.check_receipt(signed, platform_key)
                index = leaves.index(receipts.leaf_hash(signed.receipt).hex())
                proof = await public.get(
                    f"/tenders/{ocid}/bid-log/inclusion", params={"leaf_index": index}
                )
                assert proof.status_code == 200, proof.text
                verify.check_inclusion(signed, proof.json(), head.root, head.tree_size)
            counted = (await public.get(f"/tenders/{ocid}/bids")).json()
            assert counted["log_entries"] == counted["current_bids"] == len(answers)
