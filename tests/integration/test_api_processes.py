"""Several API processes over one PostgreSQL: any request may go to any of them, and one
dying loses nothing it acknowledged, the committee's shares included."""

import asyncio
import contextlib
import signal
import subprocess
from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import timedelta
from typing import Any

import httpx
import pytest
import uvicorn

from adapters.embedded import free_port
from adapters.kafka.topology import AUCTIONS, CONTRACTS, EVALUATIONS, TENDERS
from entrypoints.demo import run as demo
from entrypoints.launcher import start_api, stop_process, worker_environment
from schemas.events import BidOpened
from tests.integration.balancer import Balancer
from tests.integration.market import (
    Buyer,
    bid_content,
    buyer_with_committee,
    hand_in,
    register_supplier,
    seal,
    sealed_tender,
    submit,
    until_sealed,
)
from tests.integration.stack import (
    OPERATOR_TOKEN,
    Stack,
    eventually,
    read_models_match_the_store,
    rebuilt_read_models_match,
    rebuilt_records_match,
)

# The stack's own HTTP limits, raised for tests that send everything from one address.
RAISED_LIMITS = {
    "PROCUREMENT_READS_PER_ADDRESS": "1000000/second",
    "PROCUREMENT_WRITES_PER_TOKEN": "1000000/second",
    "PROCUREMENT_ANONYMOUS_WRITES_PER_ADDRESS": "1000000/second",
    "PROCUREMENT_MAX_CONNECTIONS": "20000",
    "PROCUREMENT_CONNECTIONS_PER_ADDRESS": "20000",
}


@contextlib.asynccontextmanager
async def second_api(stack: Stack) -> AsyncIterator[tuple[Stack, subprocess.Popen[bytes]]]:
    """Another API process, as `procurement up --api-processes` starts each: the same
    database, broker and data directory (so the same platform key file) as ``stack``."""
    env = worker_environment(stack.settings, stack.database_url, stack.broker.bootstrap_servers)
    env |= RAISED_LIMITS
    port = free_port()
    process = start_api(env, stack.log_dir / "api-second.log", "127.0.0.1", port)
    other = replace(stack, api_url=f"http://127.0.0.1:{port}")

    async def healthy() -> bool:
        with contextlib.suppress(httpx.TransportError):
            async with other.client() as client:
                return (await client.get("/health")).status_code == 200
        return False

    try:
        await eventually(healthy, within=60)
        yield other, process
    finally:
        if process.poll() is None:
            await asyncio.to_thread(stop_process, process)


async def test_shares_handed_in_to_a_killed_api_process_still_open_the_bids(stack: Stack) -> None:
    """A member hands in its shares through API process A, A is killed, and the second
    member's hand-in through API process B opens the bids: the first member's shares were
    kept, sealed, in PostgreSQL, never in A's memory alone and never in the clear."""
    buyer = await buyer_with_committee(stack, size=3)
    ocid, material, deadline = await sealed_tender(stack, buyer, timedelta(seconds=20))
    alpha, beta = [await register_supplier(stack, name) for name in ("Alfa SRL", "Beta SA")]
    for bidder, amount in ((alpha, "910.00"), (beta, "870.00")):
        sent = await submit(
            stack, bidder, seal(bid_content(ocid, bidder.id, amount), material, bidder)
        )
        assert sent.status_code == 201, sent.text
    await until_sealed(stack, ocid, deadline)

    async with second_api(stack) as (process_a, a):
        first = await hand_in(process_a, buyer.members[0], ocid)
        assert first.status_code == 200, first.text
        assert first.json() == {"threshold": 2, "handed_in": 1, "opened": False}
        a.send_signal(signal.SIGKILL)
        await asyncio.to_thread(a.wait, 30)

    kept = await stack.pool.fetch("SELECT * FROM sealed_shares WHERE ocid = $1", ocid)
    assert {row["officer_id"] for row in kept} == {buyer.members[0].id}
    assert len(kept) == 2  # one per current bid, each sealed

    second = await hand_in(stack, buyer.members[1], ocid)
    assert second.status_code == 200, second.text
    assert second.json()["opened"] is True
    assert second.json()["handed_in"] == 2
    assert second.json()["bids_opened"] == 2

    query = "SELECT count(*) FROM events WHERE aggregate_id = $1 AND type = $2"
    assert await stack.pool.fetchval(query, f"{ocid}:bids", BidOpened.__name__) == 2
    assert (
        await stack.pool.fetchval("SELECT count(*) FROM sealed_shares WHERE ocid = $1", ocid) == 0
    )


async def test_the_demo_market_survives_losing_an_api_process_and_a_worker(
    stack: Stack, tmp_path_factory: pytest.TempPathFactory
) -> None:
    """The demo's market on two API processes behind a proxy and two stream workers. When
    the first committee member's shares were taken by API process A, A and a worker are
    killed: every procedure still reaches its end, each opening through the other process;
    every write the platform acknowledged is in the store once; the read models equal a
    replay of the store."""
    stack.start_worker()
    await stack.wait_for_workers()
    async with second_api(stack) as (process_a, a), balanced(stack, process_a) as balancer:
        handed_to_a: set[str] = set()

        async def kill_after_the_first_hand_in(index: int, request: Any, answer: Any) -> None:
            if index != A or not request.url.path.endswith("/opening/shares"):
                return
            if answer.is_success and not answer.json()["opened"]:
                handed_to_a.add(request.url.path.split("/")[2])
                if len(handed_to_a) == 1:
                    await balancer.take_out(A, lambda: kill(a, stack.workers[0]))

        balancer.watch = kill_after_the_first_hand_in
        lines: list[str] = []
        target = demo.Target(balancer.url, OPERATOR_TOKEN, stack.database_url)
        options = demo.Options(
            tmp_path_factory.mktemp("demo"), tenders=5, suppliers=8, bidding_seconds=8.0
        )
        summary = await demo.play(target, options, lines.append, suffix="-two")

    assert handed_to_a
    assert a.poll() is not None  # killed
    assert stack.workers[0].poll() is not None
    opened = await stack.pool.fetch(
        "SELECT aggregate_id FROM events WHERE type = 'BidsOpened' AND aggregate_id = ANY($1)",
        [f"{ocid}:bids" for ocid in handed_to_a],
    )
    assert len(opened) == len(handed_to_a)  # each once, after A was gone
    assert await stack.pool.fetchval("SELECT count(*) FROM sealed_shares") == 0
    assert summary["audit"]["ok"], summary["audit"]["failures"]
    awarded = [lot for t in summary["tenders"] for lot in t["lots"].values() if "winner" in lot]
    assert len(awarded) == 6
    assert len(summary["contracts"]) >= 5
    assert any("completed" in c["carried_out"] for c in summary["contracts"])

    answered = [
        item["event_id"]
        for _, _, body in balancer.acknowledged
        if isinstance(body, dict)
        for item in body.get("events", [])
    ]
    assert answered
    assert len(set(answered)) == len(answered)
    query = "SELECT count(*) FROM events WHERE event_id = ANY($1::uuid[])"
    assert await stack.pool.fetchval(query, answered) == len(answered)
    receipts = [
        b["bid_id"] for _, _, b in balancer.acknowledged if isinstance(b, dict) and "bid_id" in b
    ]
    query = "SELECT count(*) FROM bid_entries WHERE bid_id = ANY($1)"
    assert await stack.pool.fetchval(query, sorted(set(receipts))) == len(set(receipts))

    await eventually(lambda: read_models_match_the_store(stack), within=60)
    await eventually(lambda: every_event_applied(stack), within=60)
    assert await tenders_rebuilt_alike(stack)


async def every_event_applied(stack: Stack) -> bool:
    """Whether the surviving worker has applied every event of the procedure's topics once:
    then a rebuild from the store must come out as the read models are."""
    for topic in (TENDERS, EVALUATIONS, AUCTIONS, CONTRACTS):
        stored = await stack.pool.fetchval(
            "SELECT count(*) FROM events WHERE type = ANY($1)", sorted(topic.event_types)
        )
        applied = await stack.pool.fetchval(
            "SELECT count(*) FROM applied_events WHERE projection = $1", topic.name
        )
        if stored != applied:
            return False
    return True


async def tenders_rebuilt_alike(stack: Stack) -> bool:
    """``rebuilt_read_models_match`` and ``rebuilt_records_match`` for the tenders: the
    catalogue's direct purchases come from a topic they do not replay, so their savings and
    records are set aside meanwhile."""
    catalogue = "ocid IN (SELECT ocid FROM catalogue_procedures)"
    savings = await stack.pool.fetch(
        f"DELETE FROM lot_savings WHERE {catalogue} RETURNING ocid, lot_id, buyer_id, currency, lot"
    )
    records = await stack.pool.fetch(
        f"DELETE FROM records WHERE {catalogue} RETURNING ocid, position, record"
    )
    try:
        return await rebuilt_read_models_match(stack) and await rebuilt_records_match(stack)
    finally:
        await stack.pool.executemany(
            "INSERT INTO lot_savings (ocid, lot_id, buyer_id, currency, lot)"
            " VALUES ($1, $2, $3, $4, $5)",
            [tuple(row.values()) for row in savings],
        )
        await stack.pool.executemany(
            "INSERT INTO records (ocid, position, record) VALUES ($1, $2, $3)",
            [tuple(row.values()) for row in records],
        )


A = 0  # the balancer's first backend: the API process that is killed


def kill(*processes: subprocess.Popen[bytes]) -> None:
    for process in processes:
        process.send_signal(signal.SIGKILL)


@contextlib.asynccontextmanager
async def balanced(stack: Stack, process_a: Stack) -> AsyncIterator[Balancer]:
    """A proxy over API process A and the stack's own, serving on a port of its own; every
    hand-in of shares goes to A while A lives."""
    balancer = Balancer.over([process_a.api_url, stack.api_url])
    balancer.route = lambda request: A if request.url.path.endswith("/opening/shares") else None
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(balancer.app(), port=port, log_level="warning"))
    serving = asyncio.create_task(server.serve())
    balancer.url = f"http://127.0.0.1:{port}"
    try:

        async def started() -> bool:
            return server.started

        await eventually(started, within=15)
        yield balancer
    finally:
        server.should_exit = True
        await serving
        await balancer.close()


async def sealed_with_one_bid(stack: Stack, bidder_name: str) -> tuple[Buyer, str]:
    """A tender of a buyer with a committee of 3 (threshold 2), one bid in, its log sealed."""
    buyer = await buyer_with_committee(stack, size=3)
    ocid, material, deadline = await sealed_tender(stack, buyer, timedelta(seconds=20))
    bidder = await register_supplier(stack, bidder_name)
    sent = await submit(
        stack, bidder, seal(bid_content(ocid, bidder.id, "910.00"), material, bidder)
    )
    assert sent.status_code == 201, sent.text
    await until_sealed(stack, ocid, deadline)
    return buyer, ocid


async def test_a_procedure_cancelled_mid_opening_keeps_no_member_shares(stack: Stack) -> None:
    """One member handed in, then the buyer cancels the procedure: the bids will never be
    opened, so the shares held for them are deleted with the cancellation, and a member's
    hand-in after it is refused and keeps nothing."""
    buyer, ocid = await sealed_with_one_bid(stack, "Gama SRL")
    first = await hand_in(stack, buyer.members[0], ocid)
    assert first.status_code == 200, first.text
    held = "SELECT count(*) FROM sealed_shares WHERE ocid = $1"
    assert await stack.pool.fetchval(held, ocid) == 1

    async with stack.client(buyer.officer.token) as client:
        cancelled = await client.post(f"/tenders/{ocid}/cancellation", json={"reason": "No budget"})
    assert cancelled.status_code == 200, cancelled.text
    assert await stack.pool.fetchval(held, ocid) == 0

    late = await hand_in(stack, buyer.members[1], ocid)
    assert late.status_code == 409, late.text
    assert await stack.pool.fetchval(held, ocid) == 0


async def test_a_hand_in_committing_as_the_procedure_is_cancelled_leaves_no_shares(
    stack: Stack,
) -> None:
    """A hand-in holds the bid log's lock and has written its shares when the buyer cancels:
    the cancellation waits for it, then deletes what it wrote."""
    buyer, ocid = await sealed_with_one_bid(stack, "Delta SRL")
    held = "SELECT count(*) FROM sealed_shares WHERE ocid = $1"

    async def cancel() -> httpx.Response:
        async with stack.client(buyer.officer.token) as client:
            return await client.post(f"/tenders/{ocid}/cancellation", json={"reason": "No budget"})

    # The hand-in's transaction commits as its block ends, or rolls back if an assertion fails.
    async with stack.pool.acquire() as hand_in, hand_in.transaction():
        await hand_in.execute("SELECT 1 FROM bid_logs WHERE ocid = $1 FOR UPDATE", ocid)
        await hand_in.execute(
            "INSERT INTO sealed_shares (ocid, officer_id, bid_id, sealed) VALUES ($1, $2, $3, $4)",
            ocid,
            buyer.members[0].id,
            "bid-of-delta",
            b"sealed",
        )
        cancelling = asyncio.create_task(cancel())
        await asyncio.sleep(1.0)
        assert not cancelling.done()  # it waits for the log's lock
    cancelled = await cancelling
    assert cancelled.status_code == 200, cancelled.text
    assert await stack.pool.fetchval(held, ocid) == 0
