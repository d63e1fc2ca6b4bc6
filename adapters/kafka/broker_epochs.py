"""Broker epochs: each time the relay republishes the event store after a broker loss, a
new epoch begins, and every stream worker reads its topics again from the start.

A broker that lost a topic numbers its records from 0 again, while a consumer that kept
its group remembers how far it had read and drops every record below that position: it
would see new events only once their offsets passed the old ones.
"""

import asyncio
import contextlib
from collections.abc import Awaitable, Callable
from typing import Any

CHANNEL = "broker_epoch"
POLL = 1.0  # seconds: a missed notification is noticed this late at most


async def begin_epoch(connection: Any, reason: str) -> int:
    """Start a new epoch in the caller's transaction; workers hear of it at the commit."""
    epoch: int = await connection.fetchval(
        "INSERT INTO broker_epochs (reason) VALUES ($1) RETURNING epoch", reason
    )
    await connection.execute("SELECT pg_notify($1, $2)", CHANNEL, str(epoch))
    return epoch


async def follow(pool: Any, on_new_epoch: Callable[[int], Awaitable[None]]) -> None:
    """Await ``on_new_epoch`` whenever an epoch begins after this call; runs until cancelled."""
    wake = asyncio.Event()

    def notified(*_: object) -> None:
        wake.set()

    async with pool.acquire() as connection:
        await connection.add_listener(CHANNEL, notified)
        try:
            seen = await _latest(connection)
            while True:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(wake.wait(), POLL)
                wake.clear()
                latest = await _latest(connection)
                if latest > seen:
                    seen = latest
                    await on_new_epoch(latest)
        finally:
            await connection.remove_listener(CHANNEL, notified)


async def _latest(connection: Any) -> int:
    epoch: int = await connection.fetchval("SELECT coalesce(max(epoch), 0) FROM broker_epochs")
    return epoch
