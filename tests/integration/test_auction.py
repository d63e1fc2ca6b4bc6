"""The electronic reverse auction on the real stack: the evaluation hands a lot over, the
buyer schedules it, the platform opens it on time, bidders lower their prices and follow
their own rank live, refused prices are recorded with their reason, the auction closes by
its rule, and the final prices go back to the evaluation for the award."""

import asyncio
import contextlib
import json
from datetime import UTC, datetime, timedelta
from typing import Any

from adapters.postgres import eventstore
from procurement import auction
from schemas.auction import AuctionPriceRejected
from tests.integration.market import (
    Party,
    bid_content,
    buyer_with_committee,
    conclude_contract,
    hand_in,
    register_supplier,
    seal,
    sealed_tender,
    submit,
    until_sealed,
)
from tests.integration.stack import Stack, eventually, rebuilt_read_models_match
from tests.integration.test_cli import procurement

RULES = {"minimum_decrement": "1.00", "ends": "inactivity", "inactivity_seconds": 5}


async def follow(stack: Stack, bidder: Party, path: str, views: list[dict[str, Any]]) -> str:
    """Read the bidder's live stream until it ends; keep each view; return the raw text."""
    raw = []
    async with (
        stack.client(bidder.token) as client,
        client.stream("GET", f"{path}/live", timeout=60) as stream,
    ):
        assert stream.status_code == 200
        assert stream.headers["content-type"].startswith("text/event-stream")
        async for line in stream.aiter_lines():
            raw.append(line)
            if line.startswith("data: "):
                views.append(json.loads(line.removeprefix("data: ")))
    return "\n".join(raw)


async def test_an_auction_lowers_prices_ranks_live_and_decides_the_award(stack: Stack) -> None:
    buyer = await buyer_with_committee(stack, size=2)
    ocid, tender_key, deadline = await sealed_tender(stack, buyer, auction=RULES, standstill_days=0)
    alpha, bravo, charlie, outsider = [
        await register_supplier(stack, name)
        for name in ("Alfa Birotica SRL", "Bravo Hârtie SRL", "Charlie Print SA", "Delta SRL")
    ]
    bid_ids = []
    for bidder, amount in ((alpha, "1000.00"), (bravo, "1100.00"), (charlie, "1200.00")):
        answer = await submit(
            stack, bidder, seal(bid_content(ocid, bidder.id, amount), tender_key, bidder)
        )
        assert answer.status_code == 201, answer.text
        bid_ids.append(answer.json()["receipt"]["bid_id"])
    await until_sealed(stack, ocid, deadline)
    for member in buyer.members:
        assert (await hand_in(stack, member, ocid)).status_code == 200

    path = f"/tenders/{ocid}/auctions/lot-1"
    async with stack.client(buyer.members[0].token) as committee:
        for bid_id in bid_ids:
            qualified = await committee.post(
                f"/tenders/{ocid}/evaluation/qualifications", json={"bid_id": bid_id}
            )
            assert qualified.status_code == 201, qualified.text
    async with stack.client(buyer.officer.token) as officer:
        too_early = await officer.post(
            f"/tenders/{ocid}/auctions",
            json={"lot_id": "lot-1", "starts_at": datetime.now(UTC).isoformat()},
        )
        assert too_early.status_code == 409, too_early.text
        assert too_early.json()["code"] == "not_ready_for_auction"
        completed = await officer.post(
            f"/tenders/{ocid}/evaluation/lot-completions", json={"lot_id": "lot-1"}
        )
        assert completed.status_code == 201, completed.text
        lot = (await officer.get(f"/tenders/{ocid}/evaluation")).json()["lots"][0]
        assert lot["status"] == "auction"

        no_notice = await officer.post(
            f"/tenders/{ocid}/auctions",
            json={"lot_id": "lot-1", "starts_at": datetime.now(UTC).isoformat()},
        )
        assert no_notice.status_code == 422, no_notice.text  # the invitations need notice
        starts_at = datetime.now(UTC) + timedelta(seconds=2)
        scheduled = await procurement(
            stack,
            "auction",
            "schedule",
            ocid,
            "lot-1",
            "--starts-at",
            starts_at.isoformat(),
            token=buyer.officer.token,
        )
        assert scheduled.exit_code == 0, scheduled.output
        again = await officer.post(
            f"/tenders/{ocid}/auctions",
            json={"lot_id": "lot-1", "starts_at": starts_at.isoformat()},
        )
        assert again.status_code == 409
        assert again.json()["code"] == "already_scheduled"

    async def price(bidder: Party, amount: str) -> Any:
        async with stack.client(bidder.token) as client:
            return await client.post(f"{path}/prices", json={"price": amount})

    async with stack.client(charlie.token) as client:

        async def invited() -> dict[str, Any] | None:
            answer = await client.get(path)
            return answer.json() if answer.status_code == 200 else None

        before = await eventually(invited)
    assert before["status"] == "scheduled"
    assert before["participants"] == 3
    assert before["view"]["your_rank"] == 3
    assert before["view"]["your_price"] == "1200.00"
    assert "ranking" not in before

    early = await price(bravo, "1050.00")
    assert early.status_code == 409
    assert early.json()["code"] == "not_open"

    charlies_views: list[dict[str, Any]] = []
    following = asyncio.create_task(follow(stack, charlie, path, charlies_views))

    async def opened() -> bool:
        async with stack.client() as public:
            return bool((await public.get(path)).json()["status"] == "open")

    await eventually(opened)
    accepted = await procurement(
        stack, "auction", "price", ocid, "lot-1", "950.00", token=bravo.token
    )
    assert accepted.exit_code == 0, accepted.output
    assert "rank 1 of 3" in accepted.output  # at once, in the answer
    small_step = await price(alpha, "995.00")  # less than 1 % below its 1000.00
    assert small_step.status_code == 422
    assert small_step.json()["code"] == "not_decreasing"
    stranger = await price(outsider, "500.00")
    assert stranger.status_code == 403
    assert stranger.json()["code"] == "not_a_participant"
    alpha_leads = await price(alpha, "940.00")
    assert alpha_leads.status_code == 201, alpha_leads.text
    assert alpha_leads.json()["view"]["your_rank"] == 1
    together = await asyncio.gather(  # recorded in one group, each decided in turn
        price(alpha, "930.00"), price(bravo, "935.00"), price(charlie, "1100.00")
    )
    assert [answer.status_code for answer in together] == [201, 201, 201]
    sequences = sorted(answer.json()["events"][0]["sequence"] for answer in together)
    assert sequences == list(range(sequences[0], sequences[0] + 3))

    raw_stream = await asyncio.wait_for(following, timeout=30)  # ends when the auction closes
    assert charlies_views[-1]["status"] == "closed"
    assert {v["leading_price"] for v in charlies_views} >= {"1000.00", "950.00", "930.00"}
    assert all(v["your_rank"] == 3 for v in charlies_views)
    assert charlies_views[-1]["your_price"] == "1100.00"
    assert alpha.id not in raw_stream
    assert bravo.id not in raw_stream

    late = await price(bravo, "900.00")
    assert late.status_code == 409
    assert late.json()["code"] in {"late", "not_open"}

    async with stack.client() as public:
        closed = (await public.get(path)).json()
    assert closed["status"] == "closed"
    assert "ranking" not in closed
    assert closed["prices_accepted"] == 5
    assert closed["prices_rejected"] >= 4
    async with stack.client(buyer.officer.token) as officer:
        ranking = (await officer.get(path)).json()["ranking"]
        assert [(r["bidder_id"], r["price"]) for r in ranking] == [
            (alpha.id, "930.00"),
            (bravo.id, "935.00"),
            (charlie.id, "1100.00"),
        ]
        history = await eventstore.load(stack.pool, auction.auction_id(ocid, "lot-1"))
        replayed = auction.replay(item.event for item in history)
        assert replayed is not None
        assert [
            r.as_message().model_dump(mode="json") for r in auction.ranking(replayed)
        ] == ranking
        reasons = {
            item.event.reason_code
            for item in history
            if isinstance(item.event, AuctionPriceRejected)
        }
        assert reasons >= {"not_open", "not_decreasing", "not_a_participant"}

        evaluated = (await officer.get(f"/tenders/{ocid}/evaluation")).json()["lots"][0]
        assert evaluated["ranking"][0]["bidder_id"] == alpha.id
        awarded = await officer.post(f"/tenders/{ocid}/evaluation/awards", json={"lot_id": "lot-1"})
        assert awarded.status_code == 201, awarded.text

    async def award() -> dict[str, Any] | None:
        async with stack.client() as public:
            found = (await public.get(f"/tenders/{ocid}/awards")).json()["awards"]
            return found[0] if found else None

    shown = await eventually(award)
    assert shown["supplier_id"] == alpha.id
    assert shown["value"] == {"amount": "930.00", "currency": "RON"}
    await conclude_contract(stack, buyer.members[0], alpha, ocid)  # a saving only then

    async def saved() -> dict[str, Any] | None:  # the savings read model, fed by the stream
        async with stack.client() as public:
            lots = (
                (await public.get("/savings")).json()["currencies"].get("RON", {}).get("lots", [])
            )
            return next((lot for lot in lots if lot["ocid"] == ocid), None)

    lot_saving = await eventually(saved)
    assert lot_saving["best_initial"] == "1000.00"
    assert lot_saving["final_after_auction"] == "930.00"
    assert lot_saving["auction_saving"] == "70.00"  # what the auction added to the saving
    assert await rebuilt_read_models_match(stack)  # the store alone rebuilds the read models
    with contextlib.suppress(Exception):
        following.cancel()
