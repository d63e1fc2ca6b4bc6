"""Where the sealed bids go after their receipts: when each reaches Kafka, and how long the
outbox is while the relay takes them there."""

import asyncio
import contextlib
import json
import math
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

from aiokafka import AIOKafkaConsumer, TopicPartition

from adapters.kafka.topology import BIDS
from benchmarks.harness import until

OUTBOX_POLL = 0.005  # seconds between looks at the outbox's length


@dataclass
class OnKafka:
    """When each bid's ``BidSubmitted`` reached ``procurement.bids``, as one consumer sees it
    (an upper bound: the embedded broker holds a fetch for its whole wait, 10 ms here)."""

    bootstrap: str
    records: list[tuple[float, bytes]] = field(default_factory=list)
    seen: dict[str, float] = field(default_factory=dict)
    partitions: int = 0
    _parsed: int = 0
    _consumer: Any = None
    _task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        self._consumer = AIOKafkaConsumer(
            bootstrap_servers=self.bootstrap,
            enable_auto_commit=False,
            fetch_max_wait_ms=10,
            max_partition_fetch_bytes=8 * 1024 * 1024,
            request_timeout_ms=5000,
        )
        await self._consumer.start()

        async def topic_exists() -> bool:
            return BIDS.name in await self._consumer.topics()

        await until(topic_exists, 60, f"the relay creating {BIDS.name}")
        # As many partitions as the broker has, which need not be the topology's count.
        numbers = sorted(self._consumer.partitions_for_topic(BIDS.name) or ())
        self.partitions = len(numbers)
        partitions = [TopicPartition(BIDS.name, p) for p in numbers]
        self._consumer.assign(partitions)
        for partition, offset in (await self._consumer.end_offsets(partitions)).items():
            self._consumer.seek(partition, offset)
        self._task = asyncio.create_task(self._consume())

    async def _consume(self) -> None:
        while True:
            batches = await self._consumer.getmany(timeout_ms=100, max_records=10_000)
            now = time.monotonic()
            for records in batches.values():
                self.records += [(now, record.value) for record in records]

    def parse(self) -> None:
        """Read what arrived since the last call (after the load, so as not to slow it)."""
        for at, value in self.records[self._parsed :]:
            receipt = json.loads(value).get("event", {}).get("receipt")
            if isinstance(receipt, dict) and "bid_id" in receipt:
                self.seen.setdefault(receipt["bid_id"], at)
        self._parsed = len(self.records)

    async def wait_for(self, bid_ids: set[str], within: float) -> None:
        async def all_there() -> bool:
            self.parse()
            return bid_ids <= self.seen.keys()

        with contextlib.suppress(RuntimeError):
            await until(all_there, within, "every accepted bid on Kafka")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        if self._consumer is not None:
            await self._consumer.stop()


@dataclass
class Outbox:
    """The length of the outbox every few ms, read on a connection of the benchmark's own:
    when the relay had taken every bid to Kafka, as the platform itself sees it."""

    connection: Any
    samples: list[tuple[float, int]] = field(default_factory=list)

    @contextlib.asynccontextmanager
    async def watching(self) -> AsyncIterator[None]:
        stopped = asyncio.Event()

        async def poll() -> None:
            while not stopped.is_set():
                count = await self.connection.fetchval("SELECT count(*) FROM outbox")
                self.samples.append((time.monotonic(), count))
                await asyncio.sleep(OUTBOX_POLL)

        task = asyncio.create_task(poll())
        try:
            yield
        finally:
            stopped.set()
            await task

    def largest(self) -> int:
        return max((count for _, count in self.samples), default=0)

    def empty_after(self, moment: float) -> float:
        """The first time from ``moment`` on that the outbox was seen empty."""
        return next((at for at, count in self.samples if at >= moment and not count), math.nan)
