"""Projections take their events in batches: all that came within ``within`` of the first,
each acknowledged once its batch was handled, and no timed wake-up while nothing comes.

The stream here is a stand-in with the few members of a faust stream that ``take_batches``
uses; faust's own agents run it in the integration tests."""

import asyncio
import contextlib
from typing import Any

from adapters.kafka.stream_batches import take_batches


class Stream:
    def __init__(self) -> None:
        self.loop = asyncio.get_running_loop()
        self.should_stop = False
        self.enable_acks = True
        self.current_event: Any = None
        self.channel: list[Any] = []
        self._processors: list[Any] = []
        self.acked: list[str] = []
        self.timed_waits = 0

    def add_processor(self, processor: Any) -> None:
        self._processors.append(processor)

    def _enable_passive(self, channel: Any) -> None:
        pass

    # faust's own signature, ``timeout`` included
    async def wait_for_stopped(
        self,
        event: asyncio.Event,
        timeout: float | None = None,  # noqa: ASYNC109
    ) -> None:
        if timeout is None:
            await event.wait()
            return
        self.timed_waits += 1
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(event.wait(), timeout)

    async def wait(self, event: asyncio.Event) -> None:
        await event.wait()

    async def ack(self, event: str) -> None:
        self.acked.append(event)

    async def arrive(self, event: str) -> None:
        """What faust does with a new event: it becomes current, then the processors run."""
        self.current_event = event
        for processor in self._processors:
            await processor(event)


async def stopped(task: "asyncio.Task[Any]") -> None:
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task


async def test_an_idle_stream_sleeps_and_a_batch_is_what_came_within_the_wait() -> None:
    stream = Stream()
    batches: list[list[str]] = []

    async def consume() -> None:
        async for batch in take_batches(stream, 500, within=0.05):
            batches.append(batch)
            assert stream.acked == [e for b in batches[:-1] for e in b]  # not before handled

    consumer = asyncio.create_task(consume())
    await asyncio.sleep(0.3)  # idle: six times the wait, and no timed wake-up
    assert stream.timed_waits == 0
    await stream.arrive("e1")
    await stream.arrive("e2")
    await asyncio.sleep(0.2)
    await stream.arrive("e3")
    await asyncio.sleep(0.2)
    await stopped(consumer)
    assert batches == [["e1", "e2"], ["e3"]]
    assert stream.acked == ["e1", "e2", "e3"]
    assert stream.timed_waits == 2  # one per batch
    assert stream.enable_acks is True  # restored for the stream's other readers
    assert stream._processors == []


async def test_a_full_batch_is_taken_at_once() -> None:
    stream = Stream()
    batches: list[list[str]] = []

    async def consume() -> None:
        async for batch in take_batches(stream, 2, within=60.0):
            batches.append(batch)

    consumer = asyncio.create_task(consume())
    await asyncio.sleep(0)
    await stream.arrive("e1")
    third = asyncio.create_task(stream.arrive("e2"))  # fills the batch, waits for its end
    await asyncio.sleep(0.05)
    await stopped(consumer)
    await stopped(third)
    assert batches == [["e1", "e2"]]  # long before the 60 s wait
