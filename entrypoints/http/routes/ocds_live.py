"""New OCDS releases for the public following them live, as Server-Sent Events.

One LISTEN connection per API process hears ``readmodels.releases`` announce each release it
records. The process then reads what is new once, in position order, and hands every
subscriber the releases its filter lets through; a thousand followers cost one query.

A subscriber that comes back with ``Last-Event-ID`` first reads what it missed from the
table, then goes on live: releases become visible in position order, so nothing is lost
between the two. One that falls too far behind catches up from the table the same way.

Catching up is paged: a page of at most ``CATCH_UP_PAGE`` releases at a time, read by at
most ``CATCH_UPS`` followers at once, so that a crowd coming back from position 0 leaves
the database pool and the event loop to everyone else.
"""

import asyncio
import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

from readmodels import ocds_reads
from readmodels.ocds_reads import ReleaseFilter
from readmodels.releases import CHANNEL

BACKLOG = 1000  # releases a subscriber may have waiting before it reads from the table
CATCH_UP_PAGE = 100  # releases read from the table at a time by one follower catching up
CATCH_UPS = 2  # followers reading from the table at once; the pool holds 10 connections
KEEP_ALIVE = 15.0  # seconds of silence after which a comment keeps proxies from hanging up


@dataclass(eq=False)  # each one is itself, kept in a set
class Subscriber:
    where: ReleaseFilter
    last: int  # the position of the last release it was handed
    waiting: asyncio.Queue[tuple[int, str]] = field(default_factory=lambda: asyncio.Queue(BACKLOG))
    behind: bool = False  # dropped releases: read them from the table

    def offer(self, rows: list[Any]) -> None:
        for row in rows:
            if self.behind or not self.where.passes(row["tags"], row["cpv"]):
                continue
            try:
                self.waiting.put_nowait((row["position"], row["release"]))
            except asyncio.QueueFull:
                self.behind = True


class ReleaseFeed:
    def __init__(self, pool: Any) -> None:
        self.pool = pool
        self._subscribers: set[Subscriber] = set()
        self._listener: Any = None
        self._read_up_to = 0
        self._reading: asyncio.Task[None] | None = None
        self._again = False
        self._start = asyncio.Lock()
        self._catching_up = asyncio.Semaphore(CATCH_UPS)

    async def close(self) -> None:
        if self._reading is not None:
            self._reading.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._reading
        if self._listener is not None:
            await self._listener.remove_listener(CHANNEL, self._announced)
            await self.pool.release(self._listener)
            self._listener = None

    async def _listen(self) -> None:
        async with self._start:
            if self._listener is None:
                self._listener = await self.pool.acquire()
                await self._listener.add_listener(CHANNEL, self._announced)
                # Listening from here on: anything after this position will be announced.
                self._read_up_to = await self.pool.fetchval(
                    "SELECT coalesce(max(position), 0) FROM releases"
                )

    async def follow(self, where: ReleaseFilter, last_seen: int | None) -> AsyncIterator[str]:
        """The events of one subscriber: what it missed since ``last_seen``, then live."""
        await self._listen()
        last = self._read_up_to if last_seen is None else last_seen
        subscriber = Subscriber(where, last, behind=last < self._read_up_to)
        self._subscribers.add(subscriber)
        try:
            while True:
                if subscriber.behind:
                    for event in await self._catch_up(subscriber):
                        yield event
                    await asyncio.sleep(0)  # the others' turn between pages
                    continue
                try:
                    position, release = await asyncio.wait_for(subscriber.waiting.get(), KEEP_ALIVE)
                except TimeoutError:
                    yield ": still here\n\n"
                    continue
                if position > subscriber.last:  # not already read from the table
                    subscriber.last = position
                    yield _event(position, release)
        finally:
            self._subscribers.discard(subscriber)

    async def _catch_up(self, subscriber: Subscriber) -> list[str]:
        """The next releases the subscriber missed, read from the table up to what the feed
        has handed out; what the feed hands out after that point waits in its queue."""
        while not subscriber.waiting.empty():  # all of it is at or below the ceiling
            subscriber.waiting.get_nowait()
        subscriber.behind = False
        ceiling = self._read_up_to
        async with self._catching_up:
            rows = await ocds_reads.releases_since(
                self.pool, subscriber.where, subscriber.last, CATCH_UP_PAGE
            )
        if len(rows) == CATCH_UP_PAGE and rows[-1]["position"] < ceiling:
            subscriber.behind = True  # more to read before going live
            subscriber.last = rows[-1]["position"]
        else:
            rows = [row for row in rows if row["position"] <= ceiling]
            subscriber.last = max(subscriber.last, ceiling)
        return [_event(row["position"], row["release"]) for row in rows]

    def _announced(self, _connection: Any, _pid: int, _channel: str, _payload: str) -> None:
        if self._reading is not None:  # one read at a time; it reads again after
            self._again = True
            return
        self._reading = asyncio.get_running_loop().create_task(self._read_new())

    async def _read_new(self) -> None:
        try:
            self._again = True
            while self._again:
                self._again = False
                rows = await ocds_reads.releases_since(
                    self.pool, ReleaseFilter(), self._read_up_to, BACKLOG
                )
                if not rows:
                    continue
                for subscriber in self._subscribers:
                    subscriber.offer(rows)
                self._read_up_to = rows[-1]["position"]
                self._again |= len(rows) == BACKLOG
        finally:
            self._reading = None


def _event(position: int, release: str) -> str:
    return f"id: {position}\nevent: release\ndata: {release}\n\n"
