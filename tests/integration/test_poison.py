"""Records on the tender topic that the event store does not know are never applied, and
they do not stop the stream."""

import uuid
from datetime import UTC, datetime

from aiokafka import AIOKafkaProducer

from schemas.events import TenderCancelled, envelope
from streams.topology import TENDERS
from tests.integration.conftest import register_officer, tender_body
from tests.integration.stack import Stack, eventually


async def test_foreign_and_broken_records_are_skipped(stack: Stack) -> None:
    """A forged event for an unknown tender, bytes that are not JSON and a JSON array land
    on the topic; the next real tender still reaches the public, and nothing forged does."""
    forged = envelope(
        TenderCancelled(reason="Forged"),
        event_id=uuid.uuid4(),
        aggregate_id="ocds-test00-forged",
        sequence=7,
        actor="intruder",
        occurred_at=datetime.now(UTC),
    )
    producer = AIOKafkaProducer(bootstrap_servers=stack.broker.bootstrap_servers)
    await producer.start()
    try:
        for value in (forged.model_dump_json().encode(), b"\x80not json", b"[1, 2]"):
            await producer.send_and_wait(TENDERS.name, value, key=b"ocds-test00-forged")
    finally:
        await producer.stop()

    officer = await register_officer(stack)
    async with stack.client(officer["token"]) as client:
        ocid = (await client.post("/tenders", json=tender_body())).json()["id"]

    async def projected() -> bool:
        return bool(await stack.pool.fetchval("SELECT 1 FROM tenders WHERE ocid = $1", ocid))

    await eventually(projected)
    assert (
        await stack.pool.fetchval("SELECT count(*) FROM tenders WHERE ocid = 'ocds-test00-forged'")
        == 0
    )
    assert stack.workers[0].poll() is None
    log = (stack.log_dir / "worker-0.log").read_text()
    assert "skipping events of ocds-test00-forged after 0: they are not in the event store" in log
    assert "an event envelope is a JSON object, not list" in log
