"""The event store and its outbox, in PostgreSQL.

``append`` writes events and their outbox rows in the caller's transaction, so a command's
events are durable and queued for Kafka together, or not at all. ``PostgresEventStore`` is
the same store as the write side's port (``app.store``), whose contract suite it passes.
"""

import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any
from uuid import UUID

import asyncpg

from adapters.postgres import bid_logs
from bidding.ledger import Ledger
from schemas.events import Envelope
from schemas.upcasting import read_envelope

OUTBOX_CHANNEL = "outbox"

# One statement records the events and queues them; a trigger on the outbox notifies the relay.
# The transaction takes its id before its positions (``xact`` comes first in each row), so
# a transaction that took a position earlier than a committed event is one the relay sees
# as running or finished when it looks (adapters.kafka.outbox_publishing).
_APPEND = """
WITH xact AS MATERIALIZED (SELECT pg_current_xact_id() AS id),
recorded AS (
    INSERT INTO events (event_id, aggregate_id, sequence, type, schema_version, occurred_at, envelope)
    SELECT event_id, aggregate_id, sequence, type, schema_version, occurred_at, envelope::json
    FROM xact, unnest($1::uuid[], $2::text[], $3::int[], $4::text[], $5::int[], $6::timestamptz[], $7::text[])
        AS e (event_id, aggregate_id, sequence, type, schema_version, occurred_at, envelope)
    RETURNING position
)
INSERT INTO outbox (position, written_by) SELECT position, xact.id FROM recorded, xact
"""


async def append(
    connection: Any, envelopes: Sequence[Envelope], written: Sequence[str] | None = None
) -> None:
    """Record ``envelopes`` and queue them for the relay, in one statement. ``written`` is
    their JSON when the caller has it already (a large bid is not serialized twice).

    A second writer for the same aggregate and sequence fails with a unique violation,
    so history can never fork.
    """
    if written is None:
        written = [item.model_dump_json() for item in envelopes]
    await connection.execute(
        _APPEND,
        [item.event_id for item in envelopes],
        [item.aggregate_id for item in envelopes],
        [item.sequence for item in envelopes],
        [item.type for item in envelopes],
        [item.schema_version for item in envelopes],
        [item.occurred_at for item in envelopes],
        list(written),
    )


async def load(
    connection: Any, aggregate_id: str, after: int = 0, until: int | None = None
) -> list[Envelope]:
    """The aggregate's events in order, from sequence ``after + 1`` on (to ``until``)."""
    rows = await connection.fetch(
        "SELECT envelope FROM events WHERE aggregate_id = $1 AND sequence > $2"
        " AND sequence <= coalesce($3, 2147483647) ORDER BY sequence",
        aggregate_id,
        after,
        until,
    )
    return [read_envelope(row["envelope"]) for row in rows]


# The store as the write side's port (``app.store``): one transaction per unit of work.


class ConcurrentWrite(Exception):  # a condition to retry, not a failure
    """Another transaction wrote first (a sequence number, a command id, a unique row
    taken, or a serialization failure): decide again on what it left."""


@dataclass(frozen=True)
class HandledCommand:
    """A command handled under an Idempotency-Key, and the answer it got."""

    command_id: UUID
    fingerprint: bytes  # SHA-256 of who asked what, to refuse a key reused for another request
    aggregate_id: str
    response: dict[str, Any]


# Unique rows two writers race for: the loser decides again.
_RACES = {
    "events_aggregate_id_sequence_key",
    "handled_commands_pkey",
    "party_identifiers_pkey",  # a look-alike registered at once
}

KeepRows = Callable[[Any, Sequence[object]], Awaitable[None]]


async def _keep_nothing(_connection: Any, records: Sequence[object]) -> None:
    if records:
        raise TypeError(f"this store was given no writer for {records}")


class PostgresEventStore:
    """``keep`` writes the edge rows a unit of work hands over with its events."""

    def __init__(self, pool: Any, keep: KeepRows = _keep_nothing) -> None:
        self.pool = pool
        self._keep = keep

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator["PostgresTransaction"]:
        try:
            async with self.pool.acquire() as connection:
                transaction = PostgresTransaction(connection, self._keep)
                try:
                    yield transaction
                    await transaction.commit()
                except BaseException:
                    await transaction.rollback()
                    raise
        except asyncpg.UniqueViolationError as error:
            if _is_race(error):
                raise ConcurrentWrite(str(error)) from error
            raise
        except (asyncpg.SerializationError, asyncpg.DeadlockDetectedError) as error:
            raise ConcurrentWrite(str(error)) from error


def _is_race(error: asyncpg.UniqueViolationError) -> bool:
    name = error.constraint_name or ""
    return name in _RACES or name.startswith(("bid_entries", "bid_logs"))


class PostgresTransaction:
    """One unit of work's transaction, begun only when it is needed: a lock, a read of what
    it appended, or any statement through ``connection``. Appends are held back until then,
    or until the commit, and written as one statement: a unit of work that reads and then
    appends (most commands, a group of them committed together, a group of auction prices)
    is that one statement, atomic on its own, and spares BEGIN and COMMIT: two round trips,
    and a quarter of a millisecond of the API's CPU each time."""

    def __init__(self, connection: Any, keep: KeepRows) -> None:
        self._raw = connection
        self.connection = _InTransaction(self)  # the edge's own statements, in the transaction
        self._keep = keep
        self._begun: Any = None  # asyncpg's Transaction, once begun
        self._held: list[Envelope] = []
        self._held_json: list[str | None] = []  # their JSON, where the caller had it
        self._committed = False

    async def begin(self) -> Any:
        """Begin the transaction (if not yet) and write what was held back; the connection."""
        if self._begun is None:
            self._begun = self._raw.transaction()
            await self._begun.start()
        await self._write_held()
        return self._raw

    async def commit(self) -> None:
        if self._begun is None:
            if not self._held:
                return  # it only read
            if not bid_logs.follows(self._held):  # one statement: its own transaction
                await self._write_held()
                return
        await self.begin()
        await self._begun.commit()
        self._committed = True

    async def rollback(self) -> None:
        """Drop what was held back and undo what was begun. A connection too broken to roll
        back is the pool's to close; the error that caused the rollback is what the caller
        hears."""
        self._held, self._held_json = [], []
        if self._begun is None or self._committed:
            return
        with contextlib.suppress(Exception):
            await self._begun.rollback()

    async def _read(self, aggregate_id: str | None = None) -> Any:
        """The connection to read from: after a write it may see (of ``aggregate_id``, if
        given), in the transaction that sees it."""
        sees_held = aggregate_id is None or any(e.aggregate_id == aggregate_id for e in self._held)
        return await self.begin() if self._held and sees_held else self._raw

    async def load(
        self, aggregate_id: str, after: int = 0, until: int | None = None
    ) -> list[Envelope]:
        return await load(await self._read(aggregate_id), aggregate_id, after, until)

    async def append(
        self, envelopes: Sequence[Envelope], written: Sequence[str] | None = None
    ) -> None:
        """The events, their outbox rows, and the bid logs' snapshot rows they change: held
        back, to be written with the rest of the transaction's appends in one statement."""
        self._held.extend(envelopes)
        self._held_json.extend(written if written is not None else [None] * len(envelopes))

    async def _write_held(self) -> None:
        if not self._held:
            return
        envelopes, known = self._held, self._held_json
        self._held, self._held_json = [], []
        written = [
            j if j is not None else e.model_dump_json()
            for e, j in zip(envelopes, known, strict=True)
        ]
        await self._write(envelopes, written)

    async def _write(self, envelopes: Sequence[Envelope], written: Sequence[str] | None) -> None:
        try:
            await append(self._raw, envelopes, written)
        except asyncpg.UniqueViolationError as error:
            if _is_race(error):
                raise ConcurrentWrite(str(error)) from error
            raise
        await bid_logs.follow(self._raw, envelopes)

    async def numbers(self, sequence: str, count: int) -> list[int]:
        # On the connection as it is: outside a transaction not yet begun, one round trip
        # instead of BEGIN, the statement and a COMMIT that would have been needed for it.
        rows = await self._raw.fetch(
            "SELECT nextval($1::regclass) AS n FROM generate_series(1, $2)", sequence, count
        )
        return sorted(row["n"] for row in rows)

    async def events(self, event_ids: Sequence[UUID]) -> list[Envelope]:
        rows = await (await self._read()).fetch(
            "SELECT envelope FROM events WHERE event_id = ANY($1)", list(event_ids)
        )
        return sorted((read_envelope(r["envelope"]) for r in rows), key=lambda e: e.sequence)

    async def lock_command(self, command_id: UUID) -> None:
        await (await self.begin()).execute(
            "SELECT pg_advisory_xact_lock($1, $2)", *_lock_keys(command_id)
        )

    async def handled(self, command_id: UUID) -> HandledCommand | None:
        row = await (await self._read()).fetchrow(
            "SELECT aggregate_id, response, fingerprint FROM handled_commands"
            " WHERE command_id = $1",
            command_id,
        )
        if row is None:
            return None
        return HandledCommand(
            command_id, bytes(row["fingerprint"]), row["aggregate_id"], row["response"]
        )

    async def remember(self, handled: HandledCommand) -> None:
        try:
            await (await self.begin()).execute(
                "INSERT INTO handled_commands (command_id, fingerprint, aggregate_id, response)"
                " VALUES ($1, $2, $3, $4)",
                handled.command_id,
                handled.fingerprint,
                handled.aggregate_id,
                handled.response,
            )
        except asyncpg.UniqueViolationError as error:
            raise ConcurrentWrite(str(error)) from error

    async def bid_ledger(
        self,
        ocid: str,
        bidders: Sequence[str] = (),
        digests: Sequence[bytes] = (),
        *,
        lock: bool = False,
        leaves: bool = False,
    ) -> Ledger | None:
        connection = await self.begin() if lock else await self._read()
        return await bid_logs.ledger(connection, ocid, bidders, digests, lock=lock, leaves=leaves)

    async def keep(self, records: Sequence[object]) -> None:
        if records:
            await self._keep(await self.begin(), records)


class _InTransaction:
    """The connection as the edge's own statements use it: each first begins the transaction,
    so that a lock or a row it writes goes with the events."""

    def __init__(self, transaction: PostgresTransaction) -> None:
        self._transaction = transaction

    async def execute(self, *args: Any, **kwargs: Any) -> Any:
        return await (await self._transaction.begin()).execute(*args, **kwargs)

    async def executemany(self, *args: Any, **kwargs: Any) -> Any:
        return await (await self._transaction.begin()).executemany(*args, **kwargs)

    async def fetch(self, *args: Any, **kwargs: Any) -> Any:
        return await (await self._transaction.begin()).fetch(*args, **kwargs)

    async def fetchrow(self, *args: Any, **kwargs: Any) -> Any:
        return await (await self._transaction.begin()).fetchrow(*args, **kwargs)

    async def fetchval(self, *args: Any, **kwargs: Any) -> Any:
        return await (await self._transaction.begin()).fetchval(*args, **kwargs)


def _lock_keys(command_id: UUID) -> tuple[int, int]:
    """Two 32-bit advisory lock keys from the command id. The two-key lock space is apart
    from the one-key locks used elsewhere; two ids sharing keys only wait for each other."""
    raw = command_id.bytes
    return int.from_bytes(raw[:4], signed=True), int.from_bytes(raw[4:8], signed=True)
