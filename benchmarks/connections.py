"""Raw HTTP/1.1 connections for the benchmarks, which open again when the server closes them.

httpx costs this machine several ms of CPU a request (httpcore retries a failing ``import
sniffio`` on every call and scans its pool of connections for each request), which a 2-core
machine takes from the API under test; a prepared request on a raw keep-alive connection
costs a few microseconds. The server closes a connection that idles longer than its
keep-alive (uvicorn: 5 s), or when it answers ``Connection: close``; the next request then
goes on a new connection. A request is sent again only when the connection was closed
before any byte of its answer arrived, so the server never saw it.
"""

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx

ANSWER_WITHIN = 60.0  # seconds for one request's whole answer
STALE = (ConnectionResetError, BrokenPipeError, asyncio.IncompleteReadError)


class ClosedBeforeAnswer(ConnectionError):
    """The server closed the connection before answering: the request can be sent again."""


class KeepAlive:
    """One persistent HTTP/1.1 connection, sending prepared requests one at a time."""

    def __init__(
        self, host: str, port: int, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        self.host, self.port = host, port
        self.reader, self.writer = reader, writer
        self.request = b""  # what ``send()`` sends when given nothing
        self.reconnects = 0

    @classmethod
    async def open(cls, url: str) -> "KeepAlive":
        address = httpx.URL(url)
        host, port = address.host, address.port or 80
        return cls(host, port, *await asyncio.open_connection(host, port))

    @property
    def closed_by_server(self) -> bool:
        return self.reader.at_eof() or self.writer.is_closing()

    async def send(self, request: bytes | None = None) -> tuple[int, bytes]:
        """Send ``request`` (or ``self.request``) and read its status and body; on a
        connection the server has closed, open a new one first or send once more."""
        request = self.request if request is None else request
        if self.closed_by_server:
            await self.reopen()
        try:
            return await self._exchange(request)
        except ClosedBeforeAnswer:
            await self.reopen()
            return await self._exchange(request)

    async def reopen(self) -> None:
        await self.close()
        self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
        self.reconnects += 1

    async def _exchange(self, request: bytes) -> tuple[int, bytes]:
        async with asyncio.timeout(ANSWER_WITHIN):
            try:
                self.writer.write(request)
                await self.writer.drain()
                status = await self.reader.readline()
            except STALE as error:
                raise ClosedBeforeAnswer(str(error)) from error
            if not status:
                msg = "the server closed the connection before answering"
                raise ClosedBeforeAnswer(msg)
            length, closing = 0, False
            while (line := await self.reader.readline()) not in {b"\r\n", b""}:
                name, _, value = line.partition(b":")
                name = name.strip().lower()
                if name == b"content-length":
                    length = int(value)
                elif name == b"connection" and value.strip().lower() == b"close":
                    closing = True
            body = await self.reader.readexactly(length)
        if closing:
            await self.close()  # the next request opens a new connection
        return int(status.split()[1]), body

    async def close(self) -> None:
        self.writer.close()
        with contextlib.suppress(OSError):
            await self.writer.wait_closed()


async def event_lines(
    url: str, request: bytes, go_on: Callable[[], bool] = lambda: True
) -> AsyncIterator[bytes]:
    """The ``data:`` lines of a Server-Sent Events stream; when the server ends the stream
    or closes the connection, it is asked for again as long as ``go_on()`` holds."""
    address = httpx.URL(url)
    while True:
        with contextlib.suppress(*STALE):
            reader, writer = await asyncio.open_connection(address.host, address.port, limit=2**24)
            try:
                writer.write(request)
                while line := await reader.readline():
                    if line.startswith(b"data: "):  # each event is one chunk: the line is whole
                        yield line[6:]
            finally:
                writer.close()
        if not go_on():
            return
        await asyncio.sleep(0.05)


SERVER_KEEP_ALIVE = 5.0  # seconds: uvicorn closes a connection idle this long


def api_client(
    url: str, timeout: float, connections: int = 100, **options: Any
) -> httpx.AsyncClient:
    """An httpx client for the API under test. httpx replaces a pooled connection it sees
    the server closed, but sends again only a request that failed to connect: one written
    while the server closes its idle connection fails. So idle connections are dropped at
    half the server's keep-alive, before the server closes them."""
    limits = httpx.Limits(
        max_connections=connections,
        max_keepalive_connections=connections,
        keepalive_expiry=SERVER_KEEP_ALIVE / 2,
    )
    return httpx.AsyncClient(base_url=url, timeout=timeout, limits=limits, **options)
