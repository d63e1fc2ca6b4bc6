"""Connections that never finish their headers cannot hold the API: they are closed when the
header time runs out, an address may hold only so many, and /health answers throughout."""

import asyncio
import time
from collections.abc import AsyncIterator
from dataclasses import replace
from urllib.parse import urlsplit

import pytest

from adapters.http_limits import HttpLimits
from tests.integration.api_only import api_only
from tests.integration.stack import Stack

pytestmark = pytest.mark.integration

LIMITS = replace(
    HttpLimits().raised(), header_timeout=1.0, body_timeout=1.0, connections_per_address=100
)
HALF_OPEN = 1500


@pytest.fixture(scope="module")
async def api(
    postgres_server: str, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[Stack]:
    async with api_only(postgres_server, tmp_path_factory.mktemp("conns"), LIMITS) as platform:
        yield platform


Connection = tuple[asyncio.StreamReader, asyncio.StreamWriter]


async def half_open(stack: Stack, source: str, sends: bytes) -> Connection:
    """A connection from ``source`` that sends ``sends`` and never the end of its headers."""
    url = urlsplit(stack.api_url)
    reader, writer = await asyncio.open_connection(url.hostname, url.port, local_addr=(source, 0))
    writer.write(sends)
    return reader, writer


def close(connections: list[Connection]) -> None:
    for _, writer in connections:
        writer.close()


async def closed_within(reader: asyncio.StreamReader, seconds: float) -> bool:
    try:
        return await asyncio.wait_for(reader.read(), seconds) is not None
    except TimeoutError:
        return False


async def test_half_open_connections_are_closed_and_health_still_answers(api: Stack) -> None:
    """1,500 connections from one address that never finish their headers: all but the
    address's share are closed at once, the rest within the header time, and /health
    answers meanwhile."""
    starts = [b"", b"GET /health HTTP/1.1\r\n", b"GET /tenders HTTP/1.1\r\nHost: x\r\nX-A: "]
    connections = [
        await half_open(api, "127.0.0.2", starts[n % len(starts)]) for n in range(HALF_OPEN)
    ]
    began = time.monotonic()
    async with api.client() as client:
        health = await client.get("/health", timeout=2)
    assert health.status_code == 200
    waits = (closed_within(reader, LIMITS.header_timeout + 2) for reader, _ in connections)
    closed = await asyncio.gather(*waits)
    close(connections)
    assert all(closed), f"{closed.count(False)} connections still open"
    assert time.monotonic() - began < LIMITS.header_timeout + 2


async def test_headers_over_the_size_limit_are_refused(api: Stack) -> None:
    """A request whose headers run past 64 KiB is answered 400 and its connection closed."""
    connection = await half_open(api, "127.0.0.3", b"GET / HTTP/1.1\r\nX-Big: " + b"a" * 100_000)
    answer = await asyncio.wait_for(connection[0].read(), 5)
    close([connection])
    assert answer.startswith(b"HTTP/1.1 400"), answer[:100]


async def test_a_body_sent_too_slowly_is_refused(api: Stack) -> None:
    """A body that has not all arrived when the body time runs out is answered 408."""
    head = b"POST /suppliers HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{"
    connection = await half_open(api, "127.0.0.4", head)
    try:
        answer = await asyncio.wait_for(connection[0].read(), LIMITS.body_timeout + 3)
    finally:
        close([connection])
    assert answer.startswith(b"HTTP/1.1 408"), answer[:100]
    assert b"request_timeout" in answer
