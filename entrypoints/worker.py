"""The stream worker: a faust app that projects events into the read models, closes
tenders at their deadline, and (on one worker at a time) relays the outbox to Kafka and
appends the recorded events to the transparency log, signing its new heads.

Run one or many: ``procurement worker``. Workers share partitions in one consumer group.
"""

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Iterator
from typing import Any, TypeVar

import asyncpg
import faust

from adapters import mail, platform_key
from adapters.kafka import broker_epochs, kafka_transport, record_admission, record_signing
from adapters.kafka.broker_watch import create_topics
from adapters.kafka.record_admission import Record
from adapters.kafka.relay import Relay
from adapters.kafka.stream_batches import take_batches
from adapters.kafka.topology import TOPICS, Topic
from adapters.postgres import transparency_log
from adapters.postgres.database import connect_pool
from adapters.settings import Settings
from app.bid_log_heads import BidLogHeads
from app.command_bus import CommandBus
from app.deadlines import close_due_tenders, run_due_auctions
from app.unit_of_work import utc_now
from entrypoints import heap
from readmodels import projections
from schemas.events import Envelope

log = logging.getLogger(__name__)

APP_ID = "procurement-streams"
DEADLINE_TICK = 0.25  # seconds: tenders close within this of their deadline
AUCTION_TICK = 0.1  # seconds: an auction opens and closes within this of its time
REPAIR_TICK = 5.0
SEALED_HEADS_TICK = 2.0  # seconds: a sealed log's head is signed within about this
TRANSPARENCY_TICK = 1.0  # seconds: an event is in the transparency log within about this
MAIL_TICK = 1.0  # seconds: a notice's e-mail leaves within about this
T = TypeVar("T")


class Backbone:
    """What the agents and timers share: the pool, the command handler and the key that
    signs Kafka records, made once."""

    def __init__(self, settings: Settings, database_url: str, bootstrap_servers: str) -> None:
        self.settings = settings
        self.database_url = database_url
        self.bootstrap_servers = bootstrap_servers
        self._pool: Any = None
        self._handler: CommandBus | None = None
        self._signing_key = b""
        self._lock = asyncio.Lock()

    async def pool(self) -> Any:
        async with self._lock:
            if self._pool is None:
                pool = await connect_pool(self.database_url)
                self._signing_key = await record_signing.load_key(pool)
                self._handler = CommandBus(pool, self.settings)
                self._pool = pool
        return self._pool

    async def signing_key(self) -> bytes:
        await self.pool()
        return self._signing_key

    async def handler(self) -> CommandBus:
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
        web_bind="127.0.0.1",  # faust's web views are for this machine, never the network
        # A worker joins its group in about a second instead of thirty.
        broker_session_timeout=6.0,
        broker_heartbeat_interval=1.0,
        broker_rebalance_timeout=6.0,
        consumer_auto_offset_reset="earliest",
        topic_replication_factor=settings.kafka_replication_factor,
        producer_acks=-1,
        broker_credentials=kafka_transport.credentials(settings.kafka_security),
    )
    app.kafka_fetch_wait_ms = settings.kafka_fetch_wait_ms  # type: ignore[attr-defined]
    backbone = Backbone(settings, database_url, bootstrap_servers)
    repairs = [projections.Repair(topic) for topic in TOPICS]
    for repair in repairs:
        _add_projection(app, backbone, repair)

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

    @app.task
    async def read_again_after_a_broker_loss() -> None:
        async def read_again(epoch: int) -> None:
            topics = {topic.name for topic in TOPICS}
            read = await kafka_transport.read_again_from_the_start(app.consumer, topics)
            log.warning("broker epoch %d: reading %d partitions again from 0", epoch, len(read))

        while True:
            with _survive("following the broker epochs"):
                await broker_epochs.follow(await backbone.pool(), read_again)
            await asyncio.sleep(1.0)

    appender: transparency_log.Appender | None = None
    key_refused = False

    @app.timer(TRANSPARENCY_TICK)
    async def append_to_the_transparency_log() -> None:
        nonlocal appender, key_refused
        with _survive("the transparency log's appender"):
            if appender is None:  # the key file is the API's: the same key signs receipts
                key = platform_key.load_or_create(settings.receipt_key_file)
                appender = transparency_log.Appender(key, utc_now)
            pool = await backbone.pool()
            try:
                while True:  # a backlog (a restore, a first start) in batches
                    batch = await appender.append(pool)
                    if batch.head is not None:
                        log.info("transparency log: signed head of %d", batch.head.tree_size)
                    if batch.taken < transparency_log.BATCH:
                        break
            except transparency_log.NotTheLogsKey as refused:
                if not key_refused:  # once, not every second
                    log.error("transparency log: nothing appended: %s", refused)
                key_refused = True

    heads: BidLogHeads | None = None

    @app.timer(SEALED_HEADS_TICK)
    async def sign_sealed_heads() -> None:
        """Each sealed bid log's head is signed, and time-stamped where an authority is
        configured, at its seal rather than when somebody first asks for it."""
        nonlocal heads
        with _survive("signing the sealed bid logs' heads"):
            pool = await backbone.pool()
            if heads is None:
                key = platform_key.load_or_create(settings.receipt_key_file)
                heads = BidLogHeads(pool, key, settings.tsa_url)
            for ocid in await heads.sign_pending():
                log.info("bid log of %s: sealed head signed", ocid)

    mail_server = settings.mail_server  # a bad PROCUREMENT_SMTP_URL stops the start, here
    if mail_server is not None:
        sender = mail.MailSender(mail_server)

        @app.timer(MAIL_TICK)
        async def send_mail() -> None:
            """The notices' e-mail, apart from the projections: a slow or absent mail
            server delays nothing else."""
            with _survive("sending the notices' e-mail"):
                pool = await backbone.pool()
                while len(await sender.deliver_due(pool)) == mail.BATCH:
                    pass  # a backlog, in batches

    @app.timer(REPAIR_TICK)
    async def repair_read_models() -> None:
        with _survive("the read-model repair"):
            for repair in repairs:
                await repair.run(await backbone.pool())

    return app


def _add_projection(app: faust.App, backbone: Backbone, repair: projections.Repair) -> None:
    topic = repair.topic
    channel = app.topic(
        topic.name,
        partitions=topic.partitions,
        key_serializer="raw",
        value_serializer="raw",
    )

    async def project(stream: Any) -> None:
        # Up to 500 events per transaction: larger batches under load, little delay.
        async for events in take_batches(stream, 500, within=topic.batch_seconds):
            await _apply_until_done(backbone, topic, [_record(event.message) for event in events])
            repair.delivered()  # the stream flows: lag is not loss

    app.agent(channel, name=f"project-{topic.name}")(project)


def _record(message: Any) -> Record:
    return Record(
        topic=message.topic,
        partition=message.partition,
        offset=message.offset,
        key=message.key,
        value=message.value or b"",
        headers=tuple(message.headers or ()),
    )


# What a lost database connection raises; the worker waits it out instead of dying.
TRANSIENT = (OSError, asyncpg.PostgresError, asyncpg.InterfaceError)


@contextlib.contextmanager
def _survive(what: str) -> Iterator[None]:
    """Keep a timer alive: a lost connection is retried at the next tick, and anything else
    is logged with its trace rather than taking the worker down with it."""
    try:
        yield
    except TRANSIENT as error:
        log.warning(
            "%s failed (%s: %s); trying again at the next tick", what, type(error).__name__, error
        )
    except Exception:
        log.exception("%s failed; trying again at the next tick", what)


async def _apply_until_done(backbone: Backbone, topic: Topic, records: list[Record]) -> None:
    """Apply what the event store vouches for, waiting out a database that is away."""

    async def admitted() -> list[Envelope]:
        pool, key = await backbone.pool(), await backbone.signing_key()
        return await record_admission.admit(pool, key, topic, records)

    async def applied() -> int:
        return await projections.apply(await backbone.pool(), topic, envelopes)

    envelopes = await _retrying(topic, admitted)
    if envelopes:
        await _retrying(topic, applied)


async def _retrying(topic: Topic, attempt: Callable[[], Awaitable[T]]) -> T:
    delay = 0.1
    while True:
        try:
            return await attempt()
        except (*TRANSIENT, RuntimeError) as error:
            log.warning("projection of %s failed (%s); retrying in %.1fs", topic.name, error, delay)
            await asyncio.sleep(delay)
            delay = min(delay * 2, 5.0)


def run(settings: Settings, database_url: str, bootstrap_servers: str, web_port: int) -> None:
    """Run one worker in this process until it is stopped."""
    with contextlib.suppress(ImportError):
        import uvloop

        asyncio.set_event_loop_policy(uvloop.EventLoopPolicy())
    # The topics exist with their declared partitions before the consumers subscribe: a
    # broker that creates topics on demand would give them its own default count. The loop
    # stays the current one, for faust.
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    loop.run_until_complete(
        create_topics(
            bootstrap_servers,
            settings.kafka_replication_factor,
            within=30.0,
            security=settings.kafka_security,
        )
    )
    app = create_app(settings, database_url, bootstrap_servers, web_port)
    worker = faust.Worker(app, loglevel="INFO", override_logging=False)
    heap.settle()
    worker.execute_from_commandline()


if __name__ == "__main__":
    import os

    from adapters.embedded import free_port

    env_settings = Settings.from_env()
    run(
        env_settings,
        os.environ["DATABASE_URL"],
        os.environ["KAFKA_BOOTSTRAP_SERVERS"],
        int(os.environ.get("PROCUREMENT_WORKER_WEB_PORT") or free_port()),
    )
