"""Several API processes over one PostgreSQL: any request may go to any of them, and one
dying loses nothing it acknowledged, the committee's shares included."""

import asyncio
import contextlib
import signal
import subprocess
from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import timedelta

import httpx

from adapters.embedded import free_port
from entrypoints.launcher import start_api, stop_process, worker_environment
from schemas.events import BidOpened
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


@contextlib.asynccontextmanager
async def second_api(stack: Stack) -> AsyncIterator[tuple[Stack, subprocess.Popen[bytes]]]:
    """Another API process, as `procurement up --api-processes` starts each: the same
    database, broker and data directory (so the same platform key file) as ``stack``."""
    env = worker_environment(stack.settings, stack.database_url, stack.broker.bootstrap_servers)
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
