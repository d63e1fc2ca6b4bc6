"""Any request, prepared as bytes, over raw keep-alive connections (``KeepAlive``): many
at once, each answer timed, a connection that fails opened again."""

import asyncio
import math
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

import httpx

from benchmarks.connections import KeepAlive
from benchmarks.figures import percentile


@dataclass
class Answered:
    """What one request got: its status and body, or the error that stopped it."""

    sent: float
    answered: float
    status: int
    body: bytes
    error: str | None = None

    @property
    def failure(self) -> str | None:
        if self.error is not None:
            return self.error
        return None if self.status in {200, 201} else f"HTTP {self.status}"


def http_request(url: str, path: str, body: bytes, token: str | None = None) -> bytes:
    """A complete POST request, ready to write on a ``KeepAlive`` connection."""
    host = httpx.URL(url).host
    auth = f"Authorization: Bearer {token}\r\n" if token else ""
    head = (
        f"POST {path} HTTP/1.1\r\nHost: {host}\r\n{auth}Content-Type: application/json\r\n"
        f"Content-Length: {len(body)}\r\n\r\n"
    )
    return head.encode() + body


async def connect(url: str) -> KeepAlive:
    return await KeepAlive.open(url)


async def connect_many(url: str, count: int) -> list[KeepAlive]:
    connections: list[KeepAlive] = []
    for start in range(0, count, 100):  # in steps, so that the listen backlog never fills
        step = min(100, count - start)
        connections += await asyncio.gather(*(connect(url) for _ in range(step)))
    return connections


async def ask(connection: KeepAlive, request: bytes) -> Answered:
    connection.request = request
    sent = time.monotonic()
    try:
        status, body = await connection.send()
    except (OSError, EOFError, TimeoutError, ValueError) as error:
        return Answered(sent, time.monotonic(), 0, b"", type(error).__name__)
    return Answered(sent, time.monotonic(), status, body)


async def send_lines(
    url: str, connections: list[KeepAlive], lines: Sequence[Sequence[bytes]]
) -> list[list[Answered]]:
    """Connection i sends the requests of ``lines[i]`` one after the other; a connection
    that fails is opened again for the next request."""

    async def one_line(n: int) -> list[Answered]:
        answers = []
        for request in lines[n]:
            answer = await ask(connections[n], request)
            answers.append(answer)
            if answer.error is not None:
                await connections[n].close()
                connections[n] = await connect(url)
        return answers

    return list(await asyncio.gather(*(one_line(n) for n in range(len(lines)))))


async def send_all(url: str, requests: Sequence[bytes], concurrency: int) -> list[Answered]:
    """Every request, answered in order, over ``concurrency`` connections that each take
    the next one waiting."""
    connections = await connect_many(url, min(concurrency, len(requests)))
    answers: list[Answered | None] = [None] * len(requests)
    numbers = iter(range(len(requests)))

    async def one_connection(n: int) -> None:
        for number in numbers:
            answers[number] = answer = await ask(connections[n], requests[number])
            if answer.error is not None:
                await connections[n].close()
                connections[n] = await connect(url)

    try:
        await asyncio.gather(*(one_connection(n) for n in range(len(connections))))
    finally:
        for connection in connections:
            await connection.close()
    return [a for a in answers if a is not None]


def failures(answers: Sequence[Answered]) -> dict[str, int]:
    return dict(Counter(a.failure for a in answers if a.failure is not None))


def latency_ms(values: Sequence[float]) -> dict[str, float]:
    return {
        "p50": percentile(values, 0.50),
        "p99": percentile(values, 0.99),
        "max": max(values, default=math.nan),
    }
