"""The PostgreSQL event store keeps the event store's contract, the same suite the
in-memory store passes (tests/unit/test_store_contract.py)."""

import uuid
from collections.abc import AsyncIterator

import pytest

from adapters.postgres.database import connect_pool
from adapters.postgres.eventstore import PostgresEventStore
from app.store import EventStore
from tests.integration.conftest import create_database
from tests.unit.store_contract import StoreContract

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
async def store(postgres_server: str) -> AsyncIterator[PostgresEventStore]:
    """A store on a database of its own, shared by the module's tests."""
    pool = await connect_pool(await create_database(postgres_server), min_size=2, max_size=4)
    yield PostgresEventStore(pool)
    await pool.close()


class TestPostgresStore(StoreContract):
    async def queued(self, store: EventStore) -> list[uuid.UUID]:
        assert isinstance(store, PostgresEventStore)
        rows = await store.pool.fetch(
            "SELECT e.event_id FROM outbox o JOIN events e USING (position) ORDER BY o.position"
        )
        return [row["event_id"] for row in rows]


async def test_numbers_are_taken_without_beginning_the_transaction(
    store: PostgresEventStore,
) -> None:
    """A command that only needs numbers and appends costs one round trip for the numbers
    and one for its events: no BEGIN and COMMIT around a sequence that never goes back."""
    async with store.transaction() as transaction:
        assert len(await transaction.numbers("tender_numbers", 2)) == 2
        assert not transaction._raw.is_in_transaction()
