"""The event store as the write side sees it: one port, two adapters (PostgreSQL in
``adapters.postgres.eventstore``, memory in ``app.memory_store``) and one contract suite
(``tests/unit/test_store_contract.py``) that proves they behave the same.

A transaction appends events and queues them in the outbox together, or not at all. Two
writers of one aggregate cannot both take a sequence number: the second is refused with
``ConcurrentWrite``, and the unit of work decides again on the new state.
"""

from collections.abc import Sequence
from contextlib import AbstractAsyncContextManager
from typing import Any, Protocol
from uuid import UUID

from adapters.postgres.eventstore import ConcurrentWrite, HandledCommand
from bidding.ledger import Ledger
from schemas.events import Envelope

# Defined beside the PostgreSQL adapter, which may not import the write side, and shared.
__all__ = ["ConcurrentWrite", "EventStore", "HandledCommand", "StoreTransaction"]


class StoreTransaction(Protocol):
    """What one transaction reads and writes. ``connection`` is for the edge's own tables in
    PostgreSQL, its statements in the transaction (None in memory)."""

    connection: Any

    async def load(
        self, aggregate_id: str, after: int = 0, until: int | None = None
    ) -> list[Envelope]:
        """The aggregate's events in order, from sequence ``after + 1`` on (to ``until``),
        this transaction's own appends included."""
        ...

    async def append(
        self, envelopes: Sequence[Envelope], written: Sequence[str] | None = None
    ) -> None:
        """Record the envelopes and queue them in the outbox. ``written`` is their JSON when
        the caller has it already. A sequence already taken raises ``ConcurrentWrite``."""
        ...

    async def events(self, event_ids: Sequence[UUID]) -> list[Envelope]:
        """The recorded events with these ids, in sequence order."""
        ...

    async def numbers(self, sequence: str, count: int) -> list[int]:
        """The next ``count`` values of ``sequence``, in order. A sequence never goes back,
        so they are taken without beginning the transaction: values of one that rolls back
        are skipped, never given twice."""
        ...

    async def lock_command(self, command_id: UUID) -> None:
        """Hold the command id until this transaction ends: a retry of the same command
        waits for the first to commit and then finds it handled."""
        ...

    async def handled(self, command_id: UUID) -> HandledCommand | None: ...

    async def remember(self, handled: HandledCommand) -> None:
        """Record a handled command; a second record of the id raises ``ConcurrentWrite``."""
        ...

    async def bid_ledger(
        self,
        ocid: str,
        bidders: Sequence[str] = (),
        digests: Sequence[bytes] = (),
        *,
        lock: bool = False,
        leaves: bool = False,
    ) -> Ledger | None:
        """The tender's bid log, with the entries of ``bidders``, which of ``digests`` are
        taken, and, with ``leaves``, every Merkle leaf: what a decision on it needs. With
        ``lock``, other writers of the log wait until this transaction ends."""
        ...

    async def keep(self, records: Sequence[object]) -> None:
        """Write the edge rows that go with the events (credentials, keys, identifiers)."""
        ...


class EventStore(Protocol):
    def transaction(self) -> AbstractAsyncContextManager[StoreTransaction]: ...
