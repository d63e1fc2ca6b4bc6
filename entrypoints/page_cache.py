"""Pages of the public tender list kept in memory, as the bytes of the answer, each until
the tenders change.

The tender list is read far more often than tenders change, and its first pages most of
all. PostgreSQL announces every committed change to the ``tenders`` and ``agencies``
tables on ``tenders_changed`` (a statement trigger, ``streams/schema.sql``); each API
process listens and drops every page it keeps as soon as the announcement arrives.

A page read while a change commits is not kept: the cache counts announcements, and keeps
a page only if none arrived while it was read. Without a listening connection (not yet
started, or lost) nothing is kept, and every read goes to the database.

Pages are kept within a budget of bytes, under a key the caller builds from the parameters
it validated: a query string of junk is the same page, never a new one.
"""

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

from entrypoints.byte_cache import ByteBudgetCache

CHANNEL = "tenders_changed"
BUDGET = 16 * 1024 * 1024  # bytes of the most recently read pages


class PageCache:
    def __init__(self, pool: Any, budget: int = BUDGET) -> None:
        self.pool = pool
        self._kept: ByteBudgetCache[bytes] = ByteBudgetCache(budget)
        self._changes = 0  # announcements heard so far
        self._listener: Any = None
        self._dropped: Any = None  # a listening connection that was lost
        self._start = asyncio.Lock()

    async def page(self, key: str, read: Callable[[], Awaitable[bytes]]) -> bytes:
        """The page kept under ``key``, or what ``read`` returns, kept if nothing changed
        while it was read."""
        if (kept := self._kept.get(key)) is not None:
            return kept
        await self._listen()
        changes = self._changes
        text = await read()
        if self._listener is not None and changes == self._changes:
            self._kept.put(key, text, len(text))
        return text

    def __len__(self) -> int:
        return len(self._kept)

    async def close(self) -> None:
        listener, self._listener = self._listener, None
        if listener is not None and not listener.is_closed():
            await listener.remove_listener(CHANNEL, self._changed)
            listener.remove_termination_listener(self._lost)
            await self.pool.release(listener)

    async def _listen(self) -> None:
        if self._listener is not None:
            return
        async with self._start:
            if self._listener is None:
                if self._dropped is not None:  # back to the pool, which replaces it
                    dropped, self._dropped = self._dropped, None
                    await self.pool.release(dropped)
                listener = await self.pool.acquire()
                await listener.add_listener(CHANNEL, self._changed)
                listener.add_termination_listener(self._lost)
                self._listener = listener

    def _changed(self, *_: Any) -> None:
        self._changes += 1
        self._kept.clear()

    def _lost(self, connection: Any) -> None:
        """Announcements may be missed from here on: keep nothing until listening again."""
        self._listener, self._dropped = None, connection
        self._changed()
