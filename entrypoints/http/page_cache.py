"""Pages of the public tender list kept in memory, as the bytes of the answer, each until
the tenders change.

The tender list is read far more often than tenders change, and its first pages most of
all. PostgreSQL announces every committed change to the ``tenders`` and ``agencies``
tables on ``tenders_changed`` (a statement trigger, ``adapters/postgres/schema.sql``); each API
process listens and drops every page it keeps as soon as the announcement arrives.

A page read while a change commits is not kept: the cache counts announcements, and keeps
a page only if none arrived while it was read. Without a listening connection (not yet
started, or lost) nothing is kept, and every read goes to the database.

Pages are kept within a budget of bytes, under a key the caller builds from the parameters
it validated: a query string of junk is the same page, never a new one.
"""

from collections.abc import Awaitable, Callable
from typing import Any

from entrypoints.http.announcements import Announcements
from entrypoints.http.byte_cache import ByteBudgetCache

CHANNEL = "tenders_changed"
BUDGET = 16 * 1024 * 1024  # bytes of the most recently read pages


class PageCache:
    def __init__(self, pool: Any, budget: int = BUDGET) -> None:
        self._kept: ByteBudgetCache[bytes] = ByteBudgetCache(budget)
        self._changes = Announcements(pool, CHANNEL, lambda _: self._kept.clear())

    async def page(self, key: str, read: Callable[[], Awaitable[bytes]]) -> bytes:
        """The page kept under ``key``, or what ``read`` returns, kept if nothing changed
        while it was read."""
        if (kept := self._kept.get(key)) is not None:
            return kept
        await self._changes.listen()
        changes = self._changes.count
        text = await read()
        if self._changes.listening and changes == self._changes.count:
            self._kept.put(key, text, len(text))
        return text

    def __len__(self) -> int:
        return len(self._kept)

    async def close(self) -> None:
        await self._changes.close()
