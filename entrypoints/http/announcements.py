"""A PostgreSQL channel heard by one API process, for the caches that must forget what an
announcement names.

A cache keeps something only while it hears the channel, and only if no announcement
arrived while it read it: ``count`` grows with every announcement and when the listening
connection is lost (announcements may be missed from then on), so comparing it before and
after a read tells whether the read may be kept.
"""

import asyncio
from collections.abc import Callable
from typing import Any


class Announcements:
    def __init__(self, pool: Any, channel: str, heard: Callable[[str | None], None]) -> None:
        """``heard`` gets each announcement's payload, and None when the connection is lost."""
        self.pool = pool
        self.channel = channel
        self.count = 0
        self._heard = heard
        self._listener: Any = None
        self._dropped: Any = None  # a listening connection that was lost
        self._start = asyncio.Lock()

    @property
    def listening(self) -> bool:
        return self._listener is not None

    async def listen(self) -> None:
        """Hear the channel on a connection of the pool, if not already."""
        if self._listener is not None:
            return
        async with self._start:
            if self._listener is None:
                if self._dropped is not None:  # back to the pool, which replaces it
                    dropped, self._dropped = self._dropped, None
                    await self.pool.release(dropped)
                listener = await self.pool.acquire()
                await listener.add_listener(self.channel, self._announced)
                listener.add_termination_listener(self._lost)
                self._listener = listener

    async def close(self) -> None:
        listener, self._listener = self._listener, None
        if listener is not None and not listener.is_closed():
            await listener.remove_listener(self.channel, self._announced)
            listener.remove_termination_listener(self._lost)
            await self.pool.release(listener)

    def _announced(self, _connection: Any, _pid: int, _channel: str, payload: str) -> None:
        self.count += 1
        self._heard(payload)

    def _lost(self, connection: Any) -> None:
        self._listener, self._dropped = None, connection
        self.count += 1
        self._heard(None)
