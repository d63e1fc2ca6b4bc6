"""The event store in memory, for service-layer tests without a database.

It keeps the PostgreSQL store's promises (``app.store``): a transaction's events land
together or not at all, a sequence number is taken once, reads come in order, a handled
command is recorded once under a lock. The bid log is replayed from its events with the
pure ``bidding.ledger``, where PostgreSQL reads its snapshot row.
"""

import asyncio
from collections.abc import AsyncIterator, Mapping, Sequence
from contextlib import asynccontextmanager
from typing import Any
from uuid import UUID

from app.store import ConcurrentWrite, HandledCommand
from bidding import ledger, shamir
from bidding.ledger import Ledger
from bidding.log import bid_log_id
from procurement import tender
from procurement.tender import TenderStatus
from schemas.events import Envelope, TenderCancelled


class MemoryEventStore:
    def __init__(self) -> None:
        self.recorded: list[Envelope] = []  # in commit order, as the outbox is
        self.outbox: list[UUID] = []
        self.commands: dict[UUID, HandledCommand] = {}
        self.records: list[object] = []  # the edge rows written with the events
        self._streams: dict[str, list[Envelope]] = {}
        self._locks: dict[str, asyncio.Lock] = {}
        self.sequences: dict[str, int] = {}  # each sequence's last value

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator["MemoryTransaction"]:
        transaction = MemoryTransaction(self)
        try:
            yield transaction
            self._commit(transaction)
        finally:
            for held in transaction.held:
                held.release()

    async def load(
        self, aggregate_id: str, after: int = 0, until: int | None = None
    ) -> list[Envelope]:
        return [e for e in self._streams.get(aggregate_id, []) if _within(e, after, until)]

    def _commit(self, transaction: "MemoryTransaction") -> None:
        for item in transaction.appended:  # someone may have committed since the append
            self._must_be_free(item)
        for command_id in transaction.remembered:
            if command_id in self.commands:
                raise ConcurrentWrite(f"command {command_id} was handled meanwhile")
        for item in transaction.appended:
            self._streams.setdefault(item.aggregate_id, []).append(item)
            self.recorded.append(item)
            self.outbox.append(item.event_id)
        self.commands.update(transaction.remembered)
        self.records.extend(transaction.records)

    def _must_be_free(self, item: Envelope) -> None:
        stream = self._streams.get(item.aggregate_id, [])
        if any(e.sequence == item.sequence for e in stream):
            msg = f"{item.aggregate_id} already has an event {item.sequence}"
            raise ConcurrentWrite(msg)

    def lock(self, key: str) -> asyncio.Lock:
        return self._locks.setdefault(key, asyncio.Lock())


class MemoryTransaction:
    connection: Any = None

    def __init__(self, store: MemoryEventStore) -> None:
        self.store = store
        self.appended: list[Envelope] = []
        self.remembered: dict[UUID, HandledCommand] = {}
        self.records: list[object] = []
        self.held: list[asyncio.Lock] = []

    async def load(
        self, aggregate_id: str, after: int = 0, until: int | None = None
    ) -> list[Envelope]:
        mine = [
            e for e in self.appended if e.aggregate_id == aggregate_id and _within(e, after, until)
        ]
        return [*await self.store.load(aggregate_id, after, until), *mine]

    async def append(
        self, envelopes: Sequence[Envelope], written: Sequence[str] | None = None
    ) -> None:
        for item in envelopes:
            self.store._must_be_free(item)
            if any(
                (e.aggregate_id, e.sequence) == (item.aggregate_id, item.sequence)
                for e in self.appended
            ):
                raise ConcurrentWrite(f"{item.aggregate_id} event {item.sequence} appended twice")
            self.appended.append(item)

    async def numbers(self, sequence: str, count: int) -> list[int]:
        last = self.store.sequences.get(sequence, 0)
        self.store.sequences[sequence] = last + count
        return list(range(last + 1, last + count + 1))

    async def events(self, event_ids: Sequence[UUID]) -> list[Envelope]:
        wanted = set(event_ids)
        found = [e for e in [*self.store.recorded, *self.appended] if e.event_id in wanted]
        return sorted(found, key=lambda e: e.sequence)

    async def lock_command(self, command_id: UUID) -> None:
        await self._hold(f"command:{command_id}")

    async def handled(self, command_id: UUID) -> HandledCommand | None:
        return self.remembered.get(command_id) or self.store.commands.get(command_id)

    async def remember(self, handled: HandledCommand) -> None:
        if await self.handled(handled.command_id) is not None:
            raise ConcurrentWrite(f"command {handled.command_id} was already handled")
        self.remembered[handled.command_id] = handled

    async def bid_ledger(
        self,
        ocid: str,
        bidders: Sequence[str] = (),
        digests: Sequence[bytes] = (),
        *,
        lock: bool = False,
        leaves: bool = False,
    ) -> Ledger | None:
        """The whole log, replayed: it holds every part a decision may ask for."""
        if lock:
            await self._hold(f"bid log:{ocid}")
        published = tender.replay([e.event for e in await self.load(ocid)])
        own = [e.event for e in await self.load(bid_log_id(ocid))]
        cancelled = published is not None and published.status is TenderStatus.CANCELLED
        followed = [TenderCancelled(reason="cancelled")] if cancelled else []
        return ledger.replay(published, own, followed)

    async def keep(self, records: Sequence[object]) -> None:
        self.records.extend(records)

    async def _hold(self, key: str) -> None:
        held = self.store.lock(key)
        if held in self.held:
            return
        await held.acquire()
        self.held.append(held)


def _within(item: Envelope, after: int, until: int | None) -> bool:
    return item.sequence > after and (until is None or item.sequence <= until)


class MemoryShareVault:
    """Handed-in shares in memory, as ``app.opening.ShareVault``; not undone with a failed
    transaction, which the tests using it do not need."""

    def __init__(self) -> None:
        self.shares: dict[str, dict[str, dict[str, shamir.Share]]] = {}  # ocid, officer, bid

    async def keep(
        self, connection: Any, ocid: str, officer_id: str, shares: Mapping[str, shamir.Share]
    ) -> None:
        self.shares.setdefault(ocid, {})[officer_id] = dict(shares)

    async def held(self, connection: Any, ocid: str) -> dict[str, dict[str, shamir.Share]]:
        return {officer: dict(bids) for officer, bids in self.shares.get(ocid, {}).items()}

    async def drop(self, connection: Any, ocid: str) -> None:
        self.shares.pop(ocid, None)
