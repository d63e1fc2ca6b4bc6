"""Each connection limit on its own, on the real API: an idle kept-alive connection is closed
after the keep-alive time, a connection past the total cap is answered 503 until the others
go, and a connection past an address's share is closed at once. The header time is set far
longer than any wait here, so that it cannot be what closes a connection."""

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
    HttpLimits().raised(),
    header_timeout=60.0,
    keep_alive_timeout=1.0,
    connections_per_address=4,
    max_connections=12,
)
HEALTH = b"GET /health HTTP/1.1\r\nHost: api\r\n\r\n"

Connection = tuple[asyncio.StreamReader, asyncio.StreamWriter]


@pytest.fixture(scope="module")
async def api(
    postgres_server: str, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[Stack]:
    async with api_only(postgres_server, tmp_path_factory.mktemp("caps"), LIMITS) as platform:
        yield platform


async def connect(stack: Stack, source: str, sends: bytes = b"") -> Connection:
    """A connection from ``source`` that sends ``sends`` (by default, nothing yet)."""
    url = urlsplit(stack.api_url)
    reader, writer = await asyncio.open_connection(url.hostname, url.port, local_addr=(source, 0))
    writer.write(sends)
    await writer.drain()
    return reader, writer


async def still_open_after(reader: asyncio.StreamReader, seconds: float) -> bool:
    """Whether the server left the connection open (and silent) for ``seconds``."""
    try:
        await asyncio.wait_for(reader.read(1), seconds)
    except TimeoutError:
        return True
    return False


async def close(connections: list[Connection]) -> None:
    for _, writer in connections:
        writer.close()
    await asyncio.gather(*(writer.wait_closed() for _, writer in connections))


async def test_an_idle_kept_alive_connection_is_closed_after_the_keep_alive_time(
    api: Stack,
) -> None:
    """A connection that was answered and then sends nothing is closed by the server after
    the keep-alive time, not at once and not after the header time."""
    reader, writer = await connect(api, "127.0.0.30", HEALTH)
    began = time.monotonic()
    try:
        everything = await asyncio.wait_for(reader.read(), LIMITS.keep_alive_timeout + 3)
    finally:
        writer.close()
    idled = time.monotonic() - began
    assert everything.startswith(b"HTTP/1.1 200"), everything[:100]
    assert b"connection: close" not in everything.lower()  # it was kept alive
    assert LIMITS.keep_alive_timeout * 0.8 <= idled < LIMITS.keep_alive_timeout + 2, idled


async def test_a_kept_alive_connection_in_use_stays_open(api: Stack) -> None:
    """A connection that sends a request within each keep-alive time outlives several of
    them: the idle time counts from the last answer, not from the connection's start."""
    reader, writer = await connect(api, "127.0.0.31")
    try:
        for _ in range(4):
            writer.write(HEALTH)
            status = await asyncio.wait_for(reader.readline(), 5)
            assert status.startswith(b"HTTP/1.1 200"), status
            while (line := await reader.readline()) != b"\r\n":
                if line.lower().startswith(b"content-length:"):
                    length = int(line.split(b":")[1])
            await reader.readexactly(length)
            await asyncio.sleep(LIMITS.keep_alive_timeout * 0.6)
    finally:
        writer.close()


async def test_past_the_total_cap_a_request_gets_503_until_the_others_go(api: Stack) -> None:
    """With the cap's worth of connections open from three addresses (each within its
    share), a request on a new connection is answered 503; once they close, /health
    answers 200 again."""
    sources = ["127.0.0.40", "127.0.0.41", "127.0.0.42"]
    per_source = LIMITS.max_connections // len(sources)
    assert per_source <= LIMITS.connections_per_address
    held = [await connect(api, source) for source in sources for _ in range(per_source)]
    try:
        assert all(await asyncio.gather(*(still_open_after(r, 0.3) for r, _ in held)))
        reader, writer = await connect(api, "127.0.0.43", HEALTH)
        refused = await asyncio.wait_for(reader.read(), 5)
        writer.close()
    finally:
        await close(held)
    assert refused.startswith(b"HTTP/1.1 503"), refused[:100]
    await asyncio.sleep(0.2)  # the server sees the connections go
    async with api.client() as client:
        health = await client.get("/health", timeout=5)
    assert health.status_code == 200, health.text


async def test_past_an_addresss_share_a_new_connection_is_closed_at_once(api: Stack) -> None:
    """An address that holds its share of connections, all waiting well inside the header
    time, has its next connection closed at once without an answer; the share's own
    connections stay open, and another address is served."""
    source = "127.0.0.50"
    share = [await connect(api, source) for _ in range(LIMITS.connections_per_address)]
    try:
        reader, writer = await connect(api, source, HEALTH)
        began = time.monotonic()
        answer = await asyncio.wait_for(reader.read(), 5)
        writer.close()
        closed_after = time.monotonic() - began
        kept = await asyncio.gather(*(still_open_after(r, 1.0) for r, _ in share))
        other_reader, other_writer = await connect(api, "127.0.0.51", HEALTH)
        other = await asyncio.wait_for(other_reader.readline(), 5)
        other_writer.close()
    finally:
        await close(share)
    assert answer == b""  # closed, nothing served
    assert closed_after < 1.0 < LIMITS.header_timeout
    assert all(kept), f"{kept.count(False)} of the address's own connections were closed"
    assert other.startswith(b"HTTP/1.1 200"), other

    # Once its connections go, the address is served again.
    await asyncio.sleep(0.2)
    reader, writer = await connect(api, source, HEALTH)
    again = await asyncio.wait_for(reader.readline(), 5)
    writer.close()
    assert again.startswith(b"HTTP/1.1 200"), again
