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

from adapters.kafka import outbox_publishing
from adapters.kafka.broker_epochs import begin_epoch
from adapters.kafka.broker_watch import BrokerWatch
from adapters.kafka.record_signing import SigningProducer, load_key
from adapters.kafka.topology import MAX_MESSAGE_BYTES
from adapters.postgres.eventstore import OUTBOX_CHANNEL
from adapters.settings import Settings

log = logging.getLogger(__name__)

RELAY_LOCK = 4_242_002
CHECK_EVERY = 1.0  # seconds between checks that the broker still holds what we sent


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
            **self.settings.kafka_security.client_options(),
        )
        broker = BrokerWatch(
            self.bootstrap_servers,
            self.settings.kafka_replication_factor,
            self.settings.kafka_security,
        )
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
        """Send one batch of the outbox (``adapters.kafka.outbox_publishing``)."""
        return await outbox_publishing.publish_pending(
            self.pool, producer, self.settings.kafka_inline_bytes
        )

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
            await begin_epoch(connection, loss)
        log.warning(
            "the Kafka broker lost records it had acknowledged (%s); republishing the event store (%s)",
            loss,
            queued,
        )
