"""An event too large to travel inline goes to Kafka as a small signed reference, and the
stream applies the event the store holds under it."""

from collections.abc import AsyncIterator

import pytest

from adapters.kafka.topology import TENDERS
from tests.integration.conftest import register_officer, running_stack, tender_body
from tests.integration.stack import Stack, eventually
from tests.integration.test_dead_letters import records_on

INLINE_BYTES = 512  # a tender's publication is larger: it travels by reference


@pytest.fixture(scope="module")
async def stack(
    postgres_server: str, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[Stack]:
    """A platform whose relay sends every event over 512 bytes by reference."""
    async with running_stack(
        postgres_server, tmp_path_factory, kafka_inline_bytes=INLINE_BYTES
    ) as platform:
        yield platform


async def test_a_large_event_travels_by_reference_and_is_applied(stack: Stack) -> None:
    """A tender's publication reaches Kafka as a reference of a few hundred bytes, the
    stream takes the event from the store and the tender becomes public; nothing is
    refused or set aside."""
    officer = await register_officer(stack)
    async with stack.client(officer["token"]) as client:
        answer = await client.post("/tenders", json=tender_body())
    assert answer.status_code == 201, answer.text
    ocid = answer.json()["id"]
    published = await stack.pool.fetchrow(
        "SELECT event_id, length(envelope::text) AS size FROM events"
        " WHERE aggregate_id = $1 AND type = 'TenderPublished'",
        ocid,
    )
    assert published["size"] > INLINE_BYTES

    async def visible() -> bool:
        return bool(await stack.pool.fetchval("SELECT 1 FROM tenders WHERE ocid = $1", ocid))

    await eventually(visible)
    sent = [
        v for v in await records_on(stack, TENDERS.name) if str(published["event_id"]).encode() in v
    ]
    assert sent
    assert all(len(value) < 300 for value in sent)
    refused = await stack.pool.fetchval("SELECT count(*) FROM forged_records")
    assert refused == 0
    assert await stack.pool.fetchval("SELECT count(*) FROM dead_letters") == 0
