"""The stream worker: a faust app that projects events into the read models, closes
tenders at their deadline, and (on one worker at a time) relays the outbox to Kafka.

Run one or many: ``procurement worker``. Workers share partitions in one consumer group.
"""

import asyncio
import contextlib
import logging
from collections.abc import Iterator
from typing import Any

import asyncpg
import faust
from pydantic import ValidationError

from schemas.upcasting import read_envelope
from streams import kafka_transport, projections
from streams.database import connect_pool
from streams.deadlines import close_due_tenders, run_due_auctions
from streams.handlers import CommandHandler, utc_now
from streams.relay import Relay
from streams.settings import Settings
from streams.topology import TOPICS, Topic

log = logging.getLogger(__name__)

APP_ID = "procurement-streams"
DEADLINE_TICK = 0.25  # seconds: tenders close within this of their deadline
AUCTION_TICK = 0.1  # seconds: an auction opens and closes within this of its time
REPAIR_TICK = 5.0


class Backbone:
    """What the agents and timers share: the pool and the command handler, made once."""

    def __init__(self, settings: Settings, database_url: str, bootstrap_servers: str) -> None:
        self.settings = settings
        self.database_url = database_url
        self.bootstrap_servers = bootstrap_servers
        self._pool: Any = None
        self._handler: CommandHandler | None = None
        self._lock = asyncio.Lock()

    async def pool(self) -> Any:
        async with self._lock:
            if self._pool is None:
                self._pool = await connect_pool(self.database_url)
                self._handler = CommandHandler(self._pool, self.settings)
        return self._pool

    async def handler(self) -> CommandHandler:
        await self.pool()
        assert self._handler is not None
        return self._handler


def create_app(
    settings: Settings, database_url: str, bootstrap_servers: str, web_port: int = 6066
) -> faust.App:
    brokers = [f"{kafka_transport.SCHEME}://{host}" for host in bootstrap_servers.split(",")]
    app = faust.App(
        APP_ID,
        broker=brokers,
        store="memory://",
        datadir=str(settings.data_dir / "streams"),
        web_port=web_port,
        web_host="127.0.0.1",
        # A worker joins its group in about a second instead of thirty.
        broker_session_timeout=6.0,
        broker_heartbeat_interval=1.0,
        broker_rebalance_timeout=6.0,
        consumer_auto_offset_reset="earliest",
        topic_replication_factor=settings.kafka_replication_factor,
        producer_acks=-1,
    )
    app.kafka_fetch_wait_ms = settings.kafka_fetch_wait_ms  # type: ignore[attr-defined]
    backbone = Backbone(settings, database_url, bootstrap_servers)
    for topic in TOPICS:
        _add_projection(app, backbone, topic)

    @app.task
    async def relay_outbox() -> None:
        await Relay(await backbone.pool(), settings, bootstrap_servers).run()

    @app.timer(DEADLINE_TICK)
    async def close_tenders_at_deadline() -> None:
        with _survive("the deadline service"):
            closed = await close_due_tenders(
                await backbone.pool(), await backbone.handler(), utc_now()
            )
            if closed:
                log.info("closed at their deadline: %s", ", ".join(closed))

    @app.timer(AUCTION_TICK)
    async def time_auctions() -> None:
        with _survive("the auction timer"):
            changed = await run_due_auctions(
                await backbone.pool(), await backbone.handler(), utc_now()
            )
            if changed:
                log.info("auctions: %s", ", ".join(changed))

    repairs = [projections.Repair(topic) for topic in TOPICS]

    @app.timer(REPAIR_TICK)
    async def repair_read_models() -> None:
        with _survive("the read-model repair"):
            for repair in repairs:
                await repair.run(await backbone.pool())

    return app


def _add_projection(app: faust.App, backbone: Backbone, topic: Topic) -> None:
    channel = app.topic(
        topic.name,
        partitions=topic.partitions,
        key_serializer="raw",
        value_serializer="raw",
    )

    async def project(stream: Any) -> None:
        # Up to 500 events per transaction: larger batches under load, little delay.
        async for values in stream.take(500, within=topic.batch_seconds):
            envelopes = []
            for value in values:
                try:
                    envelopes.append(read_envelope(value))
                except (ValidationError, ValueError) as error:
                    # The event store is the truth; a bad record is skipped, never applied.
                    log.error("skipping an unreadable record on %s: %s", topic.name, error)
            if envelopes:
                await _apply_until_done(backbone, topic, envelopes)

    app.agent(channel, name=f"project-{topic.name}")(project)


# What a lost database connection raises; the worker waits it out instead of dying.
TRANSIENT = (OSError, asyncpg.PostgresError, asyncpg.InterfaceError)


@contextlib.contextmanager
def _survive(what: str) -> Iterator[None]:
    try:
        yield
    except TRANSIENT as error:
        log.warning(
            "%s failed (%s: %s); trying again at the next tick", what, type(error).__name__, error
        )


async def _apply_until_done(backbone: Backbone, topic: Topic, envelopes: list[Any]) -> None:
    delay = 0.1
    while True:
        try:
            await projections.apply(await backbone.pool(), topic, envelopes)
            return
        except (*TRANSIENT, RuntimeError) as error:
            log.warning("projection of %s failed (%s); retrying in %.1fs", topic.name, error, delay)
            await asyncio.sleep(delay)
            delay = min(delay * 2, 5.0)


def run(settings: Settings, database_url: str, bootstrap_servers: str, web_port: int) -> None:
    """Run one worker in this process until it is stopped."""
    with contextlib.suppress(ImportError):
        import uvloop

        asyncio.set_event_loop_policy(uvloop.EventLoopPolicy())
    app = create_app(settings, database_url, bootstrap_servers, web_port)
    worker = faust.Worker(app, loglevel="INFO", override_logging=False)
    worker.execute_from_commandline()


if __name__ == "__main__":
    import os

    from streams.embedded import free_port

    env_settings = Settings.from_env()
    run(
        env_settings,
        os.environ["DATABASE_URL"],
        os.environ["KAFKA_BOOTSTRAP_SERVERS"],
        int(os.environ.get("PROCUREMENT_WORKER_WEB_PORT") or free_port()),
    )
