"""A crowd following the live releases cannot take the API: followers are capped per
address and in all, and catching up from an old position reads the table a page at a time,
a few followers at once, while /health keeps answering."""

import asyncio
import time
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack
from dataclasses import replace
from typing import Any

import httpx
import pytest

from adapters.http_limits import HttpLimits
from entrypoints.http.routes.auction_live import LiveViews
from entrypoints.http.routes.ocds_live import CATCH_UPS
from tests.integration.api_only import api_only
from tests.integration.stack import Stack

pytestmark = pytest.mark.integration

LIMITS = replace(HttpLimits().raised(), live_streams_per_address=2, live_streams=60)
RELEASES = 2000
LIVE = "/ocds/releases/live"
CATCH_UP_QUERIES = (
    "SELECT count(*) FROM pg_stat_activity WHERE state = 'active'"
    " AND query LIKE 'SELECT position, tags, cpv, release::text AS release FROM releases%'"
)


@pytest.fixture(scope="module")
async def api(
    postgres_server: str, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[Stack]:
    async with api_only(postgres_server, tmp_path_factory.mktemp("live"), LIMITS) as platform:
        await platform.pool.execute(
            "INSERT INTO releases (release_id, ocid, date, tags, buyer_id, supplier_ids, cpv,"
            " cpv_prefixes, status, release)"
            " SELECT 'r-' || n, 'ocds-test00-2026-' || n, now(), ARRAY['tender'], 'agency-1',"
            " '{}', ARRAY['30197630-1'], ARRAY['30'], 'active',"
            " jsonb_build_object('id', 'r-' || n, 'pad', repeat('x', 200))"
            " FROM generate_series(1, $1) AS n",
            RELEASES,
        )
        yield platform


def headers(address: int, last_seen: int | None = None) -> dict[str, str]:
    """A follower from another address (the API trusts its host's proxy), maybe resuming."""
    resume = {} if last_seen is None else {"Last-Event-ID": str(last_seen)}
    return {"X-Forwarded-For": f"10.1.{address // 250}.{address % 250}"} | resume


async def follow(client: httpx.AsyncClient, address: int) -> httpx.Response:
    return await client.send(
        client.build_request("GET", LIVE, headers=headers(address)), stream=True
    )


async def test_followers_are_capped_per_address_and_in_all(api: Stack) -> None:
    """A third stream from one address gets 429; the 61st stream in all gets 503."""
    async with AsyncExitStack() as streams, api.client() as client:
        opened = [await follow(client, 1), await follow(client, 1)]
        third = await follow(client, 1)
        for address in range(2, 31):
            opened += [await follow(client, address), await follow(client, address)]
        beyond = await follow(client, 99)
        for response in [*opened, third, beyond]:
            streams.push_async_callback(response.aclose)
        assert [r.status_code for r in opened] == [200] * 60
        assert third.status_code == 429
        assert third.headers["Retry-After"]
        assert beyond.status_code == 503
        assert beyond.headers["content-type"] == "application/problem+json"
    async with api.client() as client:  # the places are free again
        again = await follow(client, 1)
        await again.aclose()
    assert again.status_code == 200


async def test_a_crowd_catching_up_from_the_start_reads_a_few_pages_at_once(api: Stack) -> None:
    """Forty followers from position 0 each get every release in order, no more than a few
    read the table at once, and /health answers within a second all along."""
    busiest = 0
    slowest = 0.0

    async def catch_up(address: int) -> list[int]:
        seen: list[int] = []
        request = client.build_request("GET", LIVE, headers=headers(address, last_seen=0))
        response = await client.send(request, stream=True)
        try:
            async for line in response.aiter_lines():
                if line.startswith("id: "):
                    seen.append(int(line[4:]))
                    if seen[-1] == RELEASES:
                        return seen
        finally:
            await response.aclose()
        return seen

    async def watch() -> None:
        nonlocal busiest, slowest
        async with api.client() as health:
            while True:
                busiest = max(busiest, await api.pool.fetchval(CATCH_UP_QUERIES))
                began = time.monotonic()
                assert (await health.get("/health", headers=headers(200))).status_code == 200
                slowest = max(slowest, time.monotonic() - began)
                await asyncio.sleep(0.005)

    first = await api.pool.fetchval("SELECT min(position) FROM releases")
    async with api.client() as client:
        watching = asyncio.create_task(watch())
        followers = await asyncio.wait_for(
            asyncio.gather(*(catch_up(100 + n // 2) for n in range(40))), 120
        )
        watching.cancel()
    expected = list(range(first, first + RELEASES))
    assert all(seen == expected for seen in followers)
    # A quick machine may finish every page between two looks: what must never be seen is
    # more readers at once than the cap.
    assert busiest <= CATCH_UPS
    assert slowest < 1.0, f"/health took {slowest:.2f} s"


class CountedPool:
    """The real pool, counting the reads the live auction views make through it."""

    def __init__(self, pool: Any) -> None:
        self.pool = pool
        self.reads = 0

    async def fetchval(self, query: str, *args: Any) -> Any:
        self.reads += 1
        return await self.pool.fetchval(query, *args)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.pool, name)


async def test_a_crowd_joining_an_auction_costs_a_few_reads(api: Stack) -> None:
    """Three hundred bidders joining one auction at once each get their own view, from a
    handful of reads of the auction instead of one each."""
    bidders = [f"supplier-{n}" for n in range(300)]
    views = {b: {"version": 1, "status": "open", "rank": n + 1} for n, b in enumerate(bidders)}
    await api.pool.execute(
        "INSERT INTO auctions (auction_id, ocid, lot_id, buyer_id, status, version, document,"
        " views) VALUES ('crowd', 'ocds-test00-2026-7', 'lot-1', 'agency-1', 'open', 1, '{}', $1)",
        views,
    )
    pool = CountedPool(api.pool)
    live = LiveViews(pool)

    async def join(bidder: str) -> dict[str, Any]:
        async with live.follow("crowd", bidder) as follower:
            return await asyncio.wait_for(follower.next_view(), 10)

    try:
        seen = await asyncio.gather(*(join(b) for b in bidders))
    finally:
        await live.close()
    assert [view["rank"] for view in seen] == list(range(1, 301))
    # How many reads depends on how the joins interleave with them; one each would be 300.
    assert pool.reads <= 30, f"{pool.reads} reads for {len(bidders)} bidders"
