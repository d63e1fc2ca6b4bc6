"""The embedded broker keeps its log in memory. Killing it in the middle of a stream of
commands loses every topic, record and offset; the platform republishes from the event
store and the read models end up exactly as the store says, each event applied once."""

import asyncio
import time

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer

from adapters.kafka.broker_watch import BrokerWatch
from adapters.kafka.topology import TENDERS, TOPICS
from entrypoints.launcher import stop_process
from readmodels.projections import Repair
from tests.integration.conftest import register_officer, tender_body
from tests.integration.stack import Stack, eventually, read_models_match_the_store
from tests.integration.workload import command_stream


async def test_read_models_survive_a_broker_that_loses_everything(stack: Stack) -> None:
    """Kill -9 the broker after 100 of 280 commands, restart it empty on the
    same port, and the read models converge on the event store."""
    officer = await register_officer(stack)
    killed = asyncio.Event()

    async def kill_the_broker(accepted: int) -> None:
        if accepted == 100 and not killed.is_set():
            killed.set()
            stack.broker.kill()
            await asyncio.sleep(0.5)
            await asyncio.to_thread(stack.broker.start)

    ocids = await command_stream(stack, officer["token"], tenders=120, on_progress=kill_the_broker)
    assert killed.is_set()
    await eventually(lambda: read_models_match_the_store(stack), within=120)
    active = await stack.pool.fetchval(
        "SELECT count(*) FROM tenders WHERE ocid = ANY($1) AND status = 'active'", ocids
    )
    assert active == 80
    worker_log = (stack.log_dir / "worker-0.log").read_text()
    assert "republishing the event store" in worker_log


def worker_logs(stack: Stack) -> str:
    """Everything the module's stream workers logged, oldest worker first."""
    return "".join(path.read_text() for path in sorted(stack.log_dir.glob("worker-*.log")))


async def publish(stack: Stack, token: str) -> str:
    async with stack.client(token) as client:
        response = await client.post("/tenders", json=tender_body())
    assert response.status_code == 201, response.text
    ocid: str = response.json()["id"]
    return ocid


async def seconds_to_the_read_model(stack: Stack, token: str) -> float:
    """How long a new tender takes from its 201 to the public read model."""
    ocid = await publish(stack, token)
    started = time.monotonic()

    async def projected() -> bool:
        return bool(await stack.pool.fetchval("SELECT 1 FROM tenders WHERE ocid = $1", ocid))

    await eventually(projected)
    return time.monotonic() - started


async def outbox_is_empty(stack: Stack) -> bool:
    return not await stack.pool.fetchval("SELECT 1 FROM outbox LIMIT 1")


async def test_after_a_broker_loss_the_stream_delivers_again_without_a_restart(
    stack: Stack,
) -> None:
    """After the broker loses everything and the relay republishes, new tenders reach the
    read model through the stream again, far quicker than the repair timer could (it only
    takes events older than its settle time), with the same worker process."""
    officer = await register_officer(stack)
    for _ in range(40):  # a history of many small batches, as commands arrive one by one
        await publish(stack, officer["token"])
    await eventually(lambda: outbox_is_empty(stack))
    repairs_before = worker_logs(stack).count("republishing the event store")
    worker = stack.workers[-1]
    stack.broker.kill()
    await asyncio.sleep(0.5)
    await asyncio.to_thread(stack.broker.start)

    async def republished() -> bool:
        return worker_logs(stack).count("republishing the event store") > repairs_before

    await eventually(republished, within=30)
    await eventually(lambda: outbox_is_empty(stack), within=60)
    await eventually(lambda: read_models_match_the_store(stack), within=60)

    async def quick() -> bool:
        return await seconds_to_the_read_model(stack, officer["token"]) < 1.0

    await eventually(quick, within=30)  # the consumer group has settled on the new broker
    delays = [await seconds_to_the_read_model(stack, officer["token"]) for _ in range(8)]
    assert max(delays) < Repair.SETTLE, delays
    assert worker.poll() is None


async def test_a_topic_made_again_under_a_running_worker_is_read_from_its_start(
    stack: Stack,
) -> None:
    """The tender topic held more records than the store can republish (refused forgeries),
    then the broker lost it but kept the consumer group; after the relay republishes,
    new tenders reach the read model through the stream, not the repair timer."""
    officer = await register_officer(stack)
    for _ in range(6):  # tenders the relay has put on the topic, so it notices the loss
        await publish(stack, officer["token"])
    await eventually(lambda: outbox_is_empty(stack))
    refused_before: int = await stack.pool.fetchval("SELECT count(*) FROM forged_records")
    junk = 60
    producer = AIOKafkaProducer(bootstrap_servers=stack.broker.bootstrap_servers)
    await producer.start()
    try:
        for partition in range(TENDERS.partitions):
            for _ in range(junk):
                await producer.send(TENDERS.name, b"junk", partition=partition)
        await producer.flush()
    finally:
        await producer.stop()

    async def all_refused() -> bool:
        refused: int = await stack.pool.fetchval("SELECT count(*) FROM forged_records")
        return refused >= refused_before + junk * TENDERS.partitions

    await eventually(all_refused)
    repairs_before = worker_logs(stack).count("republishing the event store")
    watch = BrokerWatch(stack.broker.bootstrap_servers, replication_factor=1)
    await watch.start()
    try:
        await watch.admin.delete_topics([TENDERS.name])
        await watch.ensure_topics()
    finally:
        await watch.stop()

    async def republished() -> bool:
        return worker_logs(stack).count("republishing the event store") > repairs_before

    await eventually(republished, within=30)
    await eventually(lambda: outbox_is_empty(stack), within=60)
    await eventually(lambda: read_models_match_the_store(stack), within=60)

    async def quick() -> bool:
        return await seconds_to_the_read_model(stack, officer["token"]) < 1.0

    await eventually(quick, within=30)
    delays = [await seconds_to_the_read_model(stack, officer["token"]) for _ in range(8)]
    assert max(delays) < Repair.SETTLE, delays


async def test_topics_a_client_made_with_too_few_partitions_are_rebuilt(stack: Stack) -> None:
    """The broker is lost while the platform is down, and a client subscribes before any
    worker starts, so the broker makes every topic with its default of 4 partitions; the
    next worker rebuilds them as declared, the relay republishes and the outbox empties."""
    officer = await register_officer(stack)
    tender_partitions: set[int] = set()
    for _ in range(40):  # until something is on the partitions that will be missing
        await publish(stack, officer["token"])
        await eventually(lambda: outbox_is_empty(stack))
        rows = await stack.pool.fetch(
            "SELECT partition FROM relay_watermarks WHERE topic = $1", TENDERS.name
        )
        tender_partitions = {row["partition"] for row in rows}
        if tender_partitions & {4, 5}:
            break
    assert tender_partitions & {4, 5}, f"the tender topic has partitions {tender_partitions}"
    for worker in stack.workers:
        await asyncio.to_thread(stop_process, worker)
    stack.broker.kill()
    await asyncio.to_thread(stack.broker.start)
    bystander = AIOKafkaConsumer(
        *(topic.name for topic in TOPICS), bootstrap_servers=stack.broker.bootstrap_servers
    )
    await bystander.start()
    try:

        async def made_by_the_broker() -> bool:
            return all(bystander.partitions_for_topic(topic.name) for topic in TOPICS)

        await eventually(made_by_the_broker)
        assert len(bystander.partitions_for_topic(TENDERS.name)) == 4
    finally:
        await bystander.stop()

    stack.start_worker()
    await publish(stack, officer["token"])
    await eventually(lambda: outbox_is_empty(stack), within=60)
    counts = await partition_counts(stack)
    assert counts[TENDERS.name] == TENDERS.partitions
    await eventually(lambda: read_models_match_the_store(stack), within=60)


async def partition_counts(stack: Stack) -> dict[str, int]:
    watch = BrokerWatch(stack.broker.bootstrap_servers, replication_factor=1)
    await watch.start()
    try:
        return await watch.partition_counts(topic.name for topic in TOPICS)
    finally:
        await watch.stop()
