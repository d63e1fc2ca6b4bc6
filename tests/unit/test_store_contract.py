"""The in-memory event store keeps the event store's contract (PostgreSQL's side is in
tests/integration/test_store_contract.py)."""

import uuid

import pytest

from app.memory_store import MemoryEventStore
from app.store import EventStore
from tests.unit.store_contract import StoreContract


class TestMemoryStore(StoreContract):
    @pytest.fixture
    def store(self) -> MemoryEventStore:
        return MemoryEventStore()

    async def queued(self, store: EventStore) -> list[uuid.UUID]:
        assert isinstance(store, MemoryEventStore)
        return list(store.outbox)
