"""The transparency log in PostgreSQL: the appender and what the public routes read.

Every recorded event is queued (``transparency_queue``, by a trigger, in the event's own
transaction). The appender takes the queue in one transaction under an advisory lock: it
writes the entries of the events that are logged (``publication.transparency.is_logged``)
after the last leaf, drops the queue rows, and signs the new tree head, so an event that
commits late with a lower position is logged at the next batch, and none is logged twice.
A committee confirmation recorded once its log takes bids is logged just before the log's
seal, or its tender's cancellation (``transparency.held_until_the_close``).
"""

import base64
import json
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from bidding import keys, merkle
from publication import transparency
from publication.transparency import Entry, Frontier, Logged, SignedHead
from schemas.upcasting import read_envelope

APPENDER_LOCK = 4_242_014  # an advisory lock id: one appender at a time, across workers
BATCH = 5_000  # events taken from the queue per transaction

_PENDING = """
SELECT q.position, e.event_id, e.aggregate_id, e.sequence, e.type, e.recorded_at, e.envelope,
       t.event_id IS NOT NULL AS logged,
       e.type = 'CommitteeConfirmed' AND (
           SELECT count(*) FROM events c WHERE c.aggregate_id = e.aggregate_id
             AND c.type = 'CommitteeConfirmed' AND c.sequence < e.sequence
       ) >= (
           SELECT (n.envelope::jsonb -> 'event' -> 'material' ->> 'threshold')::int
           FROM events n WHERE n.aggregate_id = e.aggregate_id AND n.type = 'CommitteeNamed'
           LIMIT 1
       ) AS taking_bids
FROM transparency_queue q
JOIN events e USING (position)
LEFT JOIN transparency_entries t ON t.event_id = e.event_id
ORDER BY q.position
LIMIT $1
"""
# The confirmations of a bid log held until its close: not logged yet, in their order.
_HELD = """
SELECT e.event_id, e.aggregate_id, e.sequence, e.type, e.recorded_at, e.envelope
FROM events e LEFT JOIN transparency_entries t ON t.event_id = e.event_id
WHERE e.aggregate_id = $1 AND e.type = 'CommitteeConfirmed'
  AND t.event_id IS NULL AND NOT e.event_id = ANY($2::uuid[])
ORDER BY e.sequence
"""

_INSERT_ENTRIES = """
INSERT INTO transparency_entries
    (leaf_index, event_id, aggregate_id, sequence, type, recorded_at, event_sha256, leaf_hash)
SELECT * FROM unnest($1::bigint[], $2::uuid[], $3::text[], $4::int[], $5::text[], $6::text[],
                     $7::bytea[], $8::bytea[])
"""


def document_of(row: Any) -> dict[str, Any]:
    """The event document of an ``events`` row, read from the row as stored now."""
    return transparency.event_document(
        row["aggregate_id"],
        str(row["event_id"]),
        row["sequence"],
        row["type"],
        transparency.rfc3339(row["recorded_at"]),
        json.loads(row["envelope"]),
    )


class NotTheLogsKey(RuntimeError):
    """This process's platform key did not sign the log's heads: a monitor would refuse
    every head it signed, so it appends nothing."""


@dataclass(frozen=True)
class Batch:
    taken: int  # events taken from the queue, logged or not
    head: SignedHead | None  # the head signed for the entries written, if any


class Appender:
    """Appends what is queued and signs a head; keeps the log's frontier between batches."""

    def __init__(self, key: Ed25519PrivateKey, clock: Callable[[], datetime]) -> None:
        self._key = key
        self._clock = clock
        self._frontier = Frontier()

    async def append(self, pool: Any, batch: int = BATCH) -> Batch:
        """One batch of at most ``batch`` queued events (none when another worker holds
        the lock), and the head signed if it grew the log."""
        async with pool.acquire() as connection, connection.transaction():
            if not await connection.fetchval("SELECT pg_try_advisory_xact_lock($1)", APPENDER_LOCK):
                return Batch(0, None)
            rows = await connection.fetch(_PENDING, batch)
            if not rows:
                return Batch(0, None)
            size = await self._catch_up(connection)
            documents = await _to_log(connection, rows)
            entries = [
                transparency.entry_for(size + offset, document)
                for offset, document in enumerate(documents)
            ]
            await connection.execute(
                "DELETE FROM transparency_queue WHERE position = ANY($1::bigint[])",
                [row["position"] for row in rows],
            )
            if not entries:
                return Batch(len(rows), None)
            await _insert(connection, entries)
            self._frontier.extend(entry.leaf_hash() for entry in entries)
            head = transparency.sign_head(
                self._key, self._frontier.size, self._frontier.root(), self._clock()
            )
            await connection.execute(
                "INSERT INTO transparency_heads (tree_size, root, timestamp, key_id, signature)"
                " VALUES ($1, $2, $3, $4, $5)",
                head.tree_size,
                bytes.fromhex(head.root),
                head.timestamp,
                head.key_id,
                head.signature,
            )
            return Batch(len(rows), head)

    async def _catch_up(self, connection: Any) -> int:
        """The log's size; the frontier brought to it from the leaves another worker wrote,
        or rebuilt from them all when the stored log is not the one this worker knows."""
        latest = await connection.fetchrow(
            "SELECT tree_size, root, key_id FROM transparency_heads ORDER BY tree_size DESC LIMIT 1"
        )
        mine = keys.key_id(keys.raw_public(self._key))
        if latest is not None and latest["key_id"] != mine:
            msg = (
                f"the transparency log's heads are signed by key {latest['key_id']}, this"
                f" worker's platform key is {mine}: give the workers the API's key file"
                " (PROCUREMENT_RECEIPT_KEY)"
            )
            raise NotTheLogsKey(msg)
        size = 0 if latest is None else int(latest["tree_size"])
        if self._frontier.size > size:
            self._frontier = Frontier()
        known = self._frontier.size
        leaves = await connection.fetch(
            "SELECT leaf_hash FROM transparency_entries WHERE leaf_index >= $1 AND leaf_index < $2"
            " ORDER BY leaf_index",
            known,
            size,
        )
        self._frontier.extend(bytes(row["leaf_hash"]) for row in leaves)
        if latest is not None and self._frontier.root() != bytes(latest["root"]):
            self._frontier = Frontier()
            self._frontier.extend(await leaf_hashes(connection, size))
        return size


async def _to_log(connection: Any, rows: list[Any]) -> list[dict[str, Any]]:
    """The documents of the queued events to log now, in the queue's order; a late committee
    event waits for its bid log's close, and is logged just before the event that closes it."""
    documents: list[dict[str, Any]] = []
    for row in rows:
        if row["logged"] or not transparency.is_logged(row["type"]):
            continue
        if transparency.held_until_the_close(row["type"], bool(row["taking_bids"])):
            continue
        closed = transparency.bid_log_closed_by(row["aggregate_id"], row["type"])
        if closed is not None:
            taken = [UUID(document["event_id"]) for document in documents]
            documents += [
                document_of(held) for held in await connection.fetch(_HELD, closed, taken)
            ]
        documents.append(document_of(row))
    return documents


async def _insert(connection: Any, entries: list[Entry]) -> None:
    await connection.execute(
        _INSERT_ENTRIES,
        [e.leaf_index for e in entries],
        [UUID(e.event_id) for e in entries],
        [e.aggregate_id for e in entries],
        [e.sequence for e in entries],
        [e.type for e in entries],
        [e.recorded_at for e in entries],
        [bytes.fromhex(e.event_sha256) for e in entries],
        [e.leaf_hash() for e in entries],
    )


# What the public routes read


def _head(row: Any) -> SignedHead:
    return SignedHead(
        tree_size=int(row["tree_size"]),
        root=bytes(row["root"]).hex(),
        timestamp=row["timestamp"],
        key_id=row["key_id"],
        signature=bytes(row["signature"]),
    )


async def latest_head(connection: Any) -> SignedHead | None:
    row = await connection.fetchrow(
        "SELECT * FROM transparency_heads ORDER BY tree_size DESC LIMIT 1"
    )
    return None if row is None else _head(row)


async def heads(connection: Any, after: int, limit: int) -> list[SignedHead]:
    """The archive, oldest first: heads of a size above ``after``."""
    rows = await connection.fetch(
        "SELECT * FROM transparency_heads WHERE tree_size > $1 ORDER BY tree_size LIMIT $2",
        after,
        limit,
    )
    return [_head(row) for row in rows]


async def newest_heads(connection: Any, limit: int) -> list[SignedHead]:
    rows = await connection.fetch(
        "SELECT * FROM transparency_heads ORDER BY tree_size DESC LIMIT $1", limit
    )
    return [_head(row) for row in rows]


def _entry(row: Any) -> Entry:
    return Entry(
        leaf_index=int(row["leaf_index"]),
        aggregate_id=row["aggregate_id"],
        event_id=str(row["event_id"]),
        sequence=row["sequence"],
        type=row["type"],
        recorded_at=row["recorded_at"],
        event_sha256=bytes(row["event_sha256"]).hex(),
    )


@dataclass(frozen=True)
class StoredEntry:
    entry: Entry
    leaf_hash: bytes  # as stored, which the public compares with its own


async def entries(connection: Any, start: int, end: int) -> list[StoredEntry]:
    rows = await connection.fetch(
        "SELECT * FROM transparency_entries WHERE leaf_index >= $1 AND leaf_index < $2"
        " ORDER BY leaf_index",
        start,
        end,
    )
    return [StoredEntry(_entry(row), bytes(row["leaf_hash"])) for row in rows]


async def leaf_hashes(connection: Any, size: int) -> list[bytes]:
    rows = await connection.fetch(
        "SELECT leaf_hash FROM transparency_entries WHERE leaf_index < $1 ORDER BY leaf_index",
        size,
    )
    return [bytes(row["leaf_hash"]) for row in rows]


async def tree_root(connection: Any, size: int) -> bytes:
    return merkle.root(await leaf_hashes(connection, size))


@dataclass(frozen=True)
class AggregateEvent:
    stored: StoredEntry
    document: dict[str, Any] | None  # None: the event is gone from the store
    withheld_until: str | None


async def aggregate_events(connection: Any, aggregate_id: str) -> list[AggregateEvent]:
    """The logged events of one aggregate in sequence order, each with its document as
    the store holds it now, or the rule that withholds it."""
    rows = await connection.fetch(
        "SELECT t.*, e.aggregate_id AS e_aggregate_id, e.event_id AS e_event_id,"
        " e.sequence AS e_sequence, e.type AS e_type, e.recorded_at AS e_recorded_at,"
        " e.envelope FROM transparency_entries t LEFT JOIN events e ON e.event_id = t.event_id"
        " WHERE t.aggregate_id = $1 ORDER BY t.sequence",
        aggregate_id,
    )
    topic = (transparency.topic_of(rows[0]["type"]) if rows else None) or ""
    judged = topic == "procurement.evaluations"  # the only rule that reads the events
    logged = [
        Logged(row["sequence"], row["type"], _event_or_none(row["envelope"]) if judged else None)
        for row in rows
    ]
    rules = transparency.withheld(topic, logged)
    found = []
    for row in rows:
        reason = rules.get(row["sequence"])
        document = None
        if reason is None and row["envelope"] is not None:
            columns = {key.removeprefix("e_"): row[key] for key in _EVENT_COLUMNS}
            document = document_of(columns | {"envelope": row["envelope"]})
        stored = StoredEntry(_entry(row), bytes(row["leaf_hash"]))
        found.append(AggregateEvent(stored, document, reason))
    return found


_EVENT_COLUMNS = ("e_aggregate_id", "e_event_id", "e_sequence", "e_type", "e_recorded_at")


def _event_or_none(envelope: str | None) -> Any:
    if envelope is None:
        return None
    try:
        return read_envelope(envelope).event
    except ValueError:  # pydantic's ValidationError is one; so is malformed JSON
        return None


async def procedure_aggregates(connection: Any, ocid: str) -> list[str]:
    """The logged aggregates of one procedure: its ocid and the ids that begin ``<ocid>:``."""
    pattern = ocid.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + ":%"
    rows = await connection.fetch(
        "SELECT DISTINCT aggregate_id FROM transparency_entries"
        " WHERE aggregate_id = $1 OR aggregate_id LIKE $2 ORDER BY aggregate_id",
        ocid,
        pattern,
    )
    return [row["aggregate_id"] for row in rows]


async def export(pool: Any, page: int = 1_000) -> AsyncIterator[dict[str, Any]]:
    """Every entry, then every head, from one snapshot: the JSON Lines export's records."""
    async with (
        pool.acquire() as connection,
        connection.transaction(isolation="repeatable_read", readonly=True),
    ):
        query = "SELECT * FROM transparency_entries ORDER BY leaf_index"
        async for row in connection.cursor(query, prefetch=page):
            entry = _entry(row)
            yield {
                "kind": "entry",
                **entry.as_json(),
                "leaf_hash": bytes(row["leaf_hash"]).hex(),
            }
        async for row in connection.cursor(
            "SELECT * FROM transparency_heads ORDER BY tree_size", prefetch=page
        ):
            yield {"kind": "head", **head_json(_head(row))}


def head_json(head: SignedHead) -> dict[str, Any]:
    """A head as served: its signed fields, the key's id and the signature in base64."""
    return {
        "tree_size": head.tree_size,
        "root": head.root,
        "timestamp": head.timestamp,
        "key_id": head.key_id,
        "signature": base64.b64encode(head.signature).decode(),
    }
