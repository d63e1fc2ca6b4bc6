"""Batches of a faust stream's events, with an idle stream asleep.

faust's ``Stream.take_events(max_, within)`` wakes every ``within`` seconds whether or not
an event came: with the projections' 15 ms (2 ms for auctions) an idle worker woke
hundreds of times a second, one of its main costs at rest. ``take_batches`` is the same
loop, except that it waits for a batch's first event without a timeout and only then up
to ``within`` for the rest; each event is acknowledged once its batch was handled.
"""

import asyncio
from collections.abc import AsyncIterator
from typing import Any

from mode.utils.aiter import aiter
from mode.utils.futures import notify


async def take_batches(stream: Any, max_: int, within: float) -> AsyncIterator[list[Any]]:
    """Lists of up to ``max_`` events: all that came within ``within`` seconds of the
    first, or ``max_`` as soon as they are there."""
    events: list[Any] = []
    started, full, consumed = asyncio.Event(), asyncio.Event(), asyncio.Event()
    consuming: asyncio.Future[None] | None = None

    async def add_to_batch(value: Any) -> Any:
        nonlocal consuming
        try:
            if consuming is not None:  # a batch is being handled: wait for its end
                try:
                    await consuming
                finally:
                    consuming = None
            event = stream.current_event
            if event is None:
                raise RuntimeError("a stream value without its event")
            events.append(event)
            started.set()
            if len(events) >= max_:
                full.set()
                consumed.clear()
                await stream.wait(consumed)  # never more than max_ in a batch
        except asyncio.CancelledError:
            raise
        except Exception as error:
            stream.log.exception("Error adding to a batch: %r", error)
            await stream.crash(error)
        return value

    acks_before = stream.enable_acks
    stream.enable_acks = False  # acknowledged below, once the batch is handled
    stream.add_processor(add_to_batch)
    stream._enable_passive(aiter(stream.channel))
    try:
        while not stream.should_stop:
            await stream.wait_for_stopped(started)  # no timeout: at rest, asleep
            await stream.wait_for_stopped(full, timeout=within)
            if not events:
                continue
            consuming = stream.loop.create_future()
            try:
                yield list(events)
            finally:
                for event in events:
                    await stream.ack(event)
                events.clear()
                started.clear()
                full.clear()
                notify(consuming)
                consumed.set()
    finally:
        stream.enable_acks = acks_before
        stream._processors.remove(add_to_batch)
