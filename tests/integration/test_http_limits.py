"""No request or client exhausts the API: bodies are refused before they are read, limited
in size, and rates are limited per address and per token; on the real API and database."""

import asyncio
import threading
import time
from collections.abc import AsyncIterator
from dataclasses import replace
from typing import Any
from urllib.parse import urlsplit

import httpx
import psutil
import pytest

from adapters.http_limits import HttpLimits
from tests.integration.api_only import api_only
from tests.integration.conftest import register_officer
from tests.integration.stack import OPERATOR_TOKEN, Stack

pytestmark = pytest.mark.integration

MIB = 1024 * 1024
LIMITS = replace(
    HttpLimits().raised(),
    reads_per_address="30/minute",
    writes_per_token="10/minute",
    anonymous_writes_per_address="10/minute",
)


@pytest.fixture(scope="module")
async def guarded(
    postgres_server: str, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[Stack]:
    """The API alone, with rates low enough to reach."""
    async with api_only(postgres_server, tmp_path_factory.mktemp("guarded"), LIMITS) as platform:
        yield platform


def address(n: int) -> dict[str, str]:
    """Headers that make a request come from another address (the API trusts its host's proxy)."""
    return {"X-Forwarded-For": f"10.0.0.{n}"}


async def raw_answer(stack: Stack, head: str, body_part: bytes, within: float = 5.0) -> bytes:
    """Send a request's head and only the start of its body, and read what comes back."""
    url = urlsplit(stack.api_url)
    reader, writer = await asyncio.open_connection(url.hostname, url.port)
    try:
        writer.write(head.encode() + b"\r\n" + body_part)
        await writer.drain()
        return await asyncio.wait_for(reader.read(4096), within)
    finally:
        writer.close()


class PeakMemory:
    """The largest resident memory of this process (it runs the API) while it is watched."""

    def __init__(self) -> None:
        self.process = psutil.Process()
        self.before = self.peak = self.process.memory_info().rss
        self._watching = True
        self._thread = threading.Thread(target=self._watch, daemon=True)

    def _watch(self) -> None:
        while self._watching:
            self.peak = max(self.peak, self.process.memory_info().rss)
            time.sleep(0.002)

    def __enter__(self) -> "PeakMemory":
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._watching = False
        self._thread.join()

    @property
    def growth(self) -> int:
        return int(self.peak - self.before)


async def chunks(total: int, size: int = 64 * 1024) -> AsyncIterator[bytes]:
    """``total`` bytes of JSON whitespace, a chunk at a time."""
    sent = 0
    while sent < total:
        yield b" " * min(size, total - sent)
        sent += size


def json_of(size: int) -> bytes:
    return b'{"title": "' + b"x" * size + b'"}'


def api_app(stack: Stack) -> Any:
    assert stack._server is not None
    return stack._server.config.app


async def test_a_write_without_a_token_is_refused_before_its_body_arrives(guarded: Stack) -> None:
    """A POST declaring 50 MiB without a token is answered 401 after its first kilobyte."""
    head = (
        "POST /tenders HTTP/1.1\r\nHost: api\r\nContent-Type: application/json\r\n"
        f"Content-Length: {50 * MIB}\r\n"
    )
    answer = await raw_answer(guarded, head, b"{" + b" " * 1024)
    assert answer.startswith(b"HTTP/1.1 401"), answer[:200]
    assert b"application/problem+json" in answer
    assert b"this action needs a bearer token" in answer


async def test_a_wrong_token_is_refused_before_the_body_arrives(guarded: Stack) -> None:
    """A POST with a token the platform never issued is answered 401 before its body."""
    head = (
        "POST /agencies HTTP/1.1\r\nHost: api\r\nAuthorization: Bearer not-a-token\r\n"
        f"X-Forwarded-For: 10.0.0.99\r\nContent-Length: {10 * MIB}\r\n"
    )
    answer = await raw_answer(guarded, head, b"{")
    assert answer.startswith(b"HTTP/1.1 401"), answer[:200]
    assert b"the bearer token is not valid" in answer


async def test_an_anonymous_50_mib_body_does_not_grow_the_api(guarded: Stack) -> None:
    """Sending 50 MiB of JSON without a token gets a 401, and the API never holds it."""
    size = 50 * MIB  # sent in small chunks, so that the client holds none of it
    headers = address(1) | {"Content-Length": str(size)}
    async with guarded.client() as client:
        with PeakMemory() as memory:
            response = await client.post("/tenders", content=chunks(size), headers=headers)
    assert response.status_code == 401
    assert response.headers["content-type"] == "application/problem+json"
    assert memory.growth < 20 * MIB, f"the API grew by {memory.growth / MIB:.0f} MiB"


async def test_a_2_mib_tender_is_too_large(guarded: Stack) -> None:
    """An authenticated POST /tenders of 2 MiB is refused with a 413 problem document."""
    async with guarded.client(OPERATOR_TOKEN) as operator:
        response = await operator.post("/tenders", content=json_of(2 * MIB))
    assert response.status_code == 413, response.text
    problem = response.json()
    assert problem["code"] == "too_large"
    assert str(LIMITS.max_body_bytes) in problem["detail"]


async def test_a_streamed_body_is_counted_as_it_arrives(guarded: Stack) -> None:
    """A chunked body with no Content-Length is cut off at the limit, answered 413."""
    async with guarded.client(OPERATOR_TOKEN) as operator:
        response = await operator.post("/agencies", content=chunks(2 * MIB))
    assert response.status_code == 413, response.text
    assert response.json()["code"] == "too_large"


async def test_the_bid_routes_keep_their_larger_limit(guarded: Stack) -> None:
    """600 KiB is too much for a tender but goes through to the bid route, which decides."""
    body = json_of(600 * 1024)
    async with guarded.client(OPERATOR_TOKEN) as operator:
        tender = await operator.post("/tenders", content=body)
        bid = await operator.post("/tenders/ocds-test00-2026-1/bids", content=body)
    assert tender.status_code == 413
    assert bid.status_code not in (401, 413), bid.text


async def test_reads_beyond_the_rate_of_an_address_get_429(guarded: Stack) -> None:
    """The 31st read in a minute from one address is refused with Retry-After; another
    address still reads."""
    async with guarded.client() as client:
        answers = [
            (await client.get("/tenders", headers=address(2))).status_code for _ in range(30)
        ]
        refused = await client.get("/tenders", headers=address(2))
        other = await client.get("/tenders", headers=address(3))
    assert answers == [200] * 30
    assert refused.status_code == 429
    assert refused.json()["code"] == "too_many_requests"
    assert 1 <= int(refused.headers["Retry-After"]) <= 60
    assert other.status_code == 200


async def test_writes_beyond_the_rate_of_a_token_get_429(guarded: Stack) -> None:
    """The 11th write in a minute with one token is refused with Retry-After."""
    officer = await register_officer(guarded)
    async with guarded.client(officer["token"]) as client:
        statuses = [
            (await client.post("/tenders/ocds-test00-2026-9/cancellation", json={"reason": "r"}))
            for _ in range(11)
        ]
    assert [s.status_code for s in statuses[:10]] == [404] * 10, statuses[0].text
    assert statuses[10].status_code == 429
    assert int(statuses[10].headers["Retry-After"]) >= 1


async def test_wrong_tokens_from_one_address_get_429(guarded: Stack) -> None:
    """After ten writes with wrong tokens an address is refused before any token lookup."""
    async with httpx.AsyncClient(base_url=guarded.api_url) as client:
        statuses = [
            (
                await client.post(
                    "/agencies",
                    json={},
                    headers=address(4) | {"Authorization": f"Bearer guess-{n}"},
                )
            ).status_code
            for n in range(11)
        ]
    assert statuses == [401] * 10 + [429]


async def test_junk_query_strings_leave_the_page_cache_unchanged(guarded: Stack) -> None:
    """Twenty tender list reads with never-seen junk parameters keep one page, not twenty."""
    pages = api_app(guarded).state.tender_pages
    async with guarded.client() as client:
        first = await client.get("/tenders", headers=address(5))
        kept = len(pages)
        for n in range(20):
            response = await client.get(f"/tenders?junk{n}=x", headers=address(5))
            assert response.content == first.content
    assert kept == 1
    assert len(pages) == kept
