"""The relay: publishes the outbox to Kafka, in commit order, keyed by aggregate id.

One relay leads at a time (a PostgreSQL advisory lock), so events of one aggregate are
never sent by two processes at once; any stream worker can take over when the leader stops.
The relay also notices a broker that lost its log (the embedded broker keeps it in memory)
and republishes the whole event store, which idempotent consumers absorb.
"""

import asyncio
import contextlib
import logging
import time
from typing import Any

import asyncpg
from aiokafka import AIOKafkaProducer
from aiokafka.errors import KafkaError

from streams.broker_watch import BrokerWatch
from streams.eventstore import OUTBOX_CHANNEL
from streams.record_signing import SigningProducer, load_key
from streams.settings import Settings
from streams.topology import MAX_MESSAGE_BYTES, TOPIC_OF_EVENT

log = logging.getLogger(__name__)

RELAY_LOCK = 4_242_002
BATCH = 2000
CHECK_EVERY = 1.0  # seconds between checks that the broker still holds what we sent


# One statement, so one implicit transaction: forget what the broker acknowledged and
# remember how far each partition must reach.
_SENT = """
WITH sent AS (DELETE FROM outbox WHERE position = ANY($1::bigint[]))
INSERT INTO relay_watermarks (topic, partition, end_offset)
SELECT * FROM unnest($2::text[], $3::int[], $4::bigint[])
ON CONFLICT (topic, partition) DO UPDATE
SET end_offset = GREATEST(relay_watermarks.end_offset, EXCLUDED.end_offset)
"""


class Relay:
    def __init__(self, pool: Any, settings: Settings, bootstrap_servers: str) -> None:
        self.pool = pool
        self.settings = settings
        self.bootstrap_servers = bootstrap_servers

    async def run(self) -> None:
        """Lead when the lock is free; otherwise wait to take over. Runs until cancelled."""
        while True:
            try:
                async with self.pool.acquire() as connection:
                    if await connection.fetchval("SELECT pg_try_advisory_lock($1)", RELAY_LOCK):
                        try:
                            await self._lead(connection)
                        finally:
                            await connection.execute("SELECT pg_advisory_unlock($1)", RELAY_LOCK)
            except (
                KafkaError,
                OSError,
                asyncpg.PostgresError,
                asyncpg.InterfaceError,
                TimeoutError,
            ) as error:
                log.warning("relay interrupted (%s: %s); resuming", type(error).__name__, error)
            await asyncio.sleep(1.0)

    async def _lead(self, connection: Any) -> None:
        wake = asyncio.Event()

        def notified(*_: object) -> None:
            wake.set()

        await connection.add_listener(OUTBOX_CHANNEL, notified)
        producer = SigningProducer(
            await load_key(self.pool),
            bootstrap_servers=self.bootstrap_servers,
            acks="all",
            enable_idempotence=self.settings.kafka_idempotence,
            max_batch_size=131072,
            max_request_size=MAX_MESSAGE_BYTES,
            request_timeout_ms=10_000,
        )
        broker = BrokerWatch(self.bootstrap_servers, self.settings.kafka_replication_factor)
        await producer.start()
        await broker.start()
        try:
            await self._repair_broker(broker)
            checked = time.monotonic()
            while True:
                wake.clear()
                if await self.publish_pending(producer):
                    continue
                if time.monotonic() - checked > CHECK_EVERY:
                    await self._repair_broker(broker)
                    checked = time.monotonic()
                    continue
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(wake.wait(), timeout=CHECK_EVERY)
        finally:
            await connection.remove_listener(OUTBOX_CHANNEL, notified)
            await producer.stop()
            await broker.stop()

    async def publish_pending(self, producer: AIOKafkaProducer) -> int:
        """Send one batch of the outbox and forget it once the broker has acknowledged it."""
        rows = await self.pool.fetch(
            "SELECT o.position, e.aggregate_id, e.type, e.envelope AS body"
            " FROM outbox o JOIN events e USING (position) ORDER BY o.position LIMIT $1",
            BATCH,
        )
        if not rows:
            return 0
        sends = [
            await producer.send(
                TOPIC_OF_EVENT[row["type"]],
                key=row["aggregate_id"].encode(),
                value=row["body"].encode(),
            )
            for row in rows
        ]
        # A floor for each partition's end offset that any broker must still report: the
        # embedded broker reports the start of its last batch + 1, not the last offset + 1.
        ends: dict[tuple[str, int], int] = {}
        for sent in await asyncio.gather(*sends):
            place = (sent.topic, sent.partition)
            ends[place] = min(ends.get(place, sent.offset + 1), sent.offset + 1)
        await self.pool.execute(
            _SENT,
            [row["position"] for row in rows],
            [topic for topic, _ in ends],
            [partition for _, partition in ends],
            list(ends.values()),
        )
        return len(rows)

    async def _repair_broker(self, broker: BrokerWatch) -> None:
        rows = await self.pool.fetch("SELECT topic, partition, end_offset FROM relay_watermarks")
        expected = {(r["topic"], r["partition"]): r["end_offset"] for r in rows}
        loss = await broker.lost_records(expected)
        if loss is None:
            return
        async with self.pool.acquire() as connection, connection.transaction():
            await connection.execute("DELETE FROM relay_watermarks")
            queued = await connection.execute(
                "INSERT INTO outbox (position) SELECT position FROM events ON CONFLICT DO NOTHING"
            )
        log.warning(
            "the Kafka broker lost records it had acknowledged (%s); republishing the event store (%s)",
            loss,
            queued,
        )
