"""The event store and its outbox, in PostgreSQL.

``append`` writes events and their outbox rows in the caller's transaction, so a command's
events are durable and queued for Kafka together, or not at all.
"""

from collections.abc import Sequence
from typing import Any

from schemas.events import Envelope
from schemas.upcasting import read_envelope

OUTBOX_CHANNEL = "outbox"

_INSERT_EVENT = """
INSERT INTO events (event_id, aggregate_id, sequence, type, schema_version, occurred_at, envelope)
VALUES ($1, $2, $3, $4, $5, $6, $7)
RETURNING position
"""


async def append(connection: Any, envelopes: Sequence[Envelope]) -> None:
    """Record ``envelopes`` and queue them for the relay, inside the open transaction.

    A second writer for the same aggregate and sequence fails with a unique violation,
    so history can never fork.
    """
    for item in envelopes:
        position = await connection.fetchval(
            _INSERT_EVENT,
            item.event_id,
            item.aggregate_id,
            item.sequence,
            item.type,
            item.schema_version,
            item.occurred_at,
            item.model_dump(mode="json"),
        )
        await connection.execute("INSERT INTO outbox (position) VALUES ($1)", position)
    await connection.execute("SELECT pg_notify($1, '')", OUTBOX_CHANNEL)


async def load(connection: Any, aggregate_id: str, after: int = 0) -> list[Envelope]:
    """The aggregate's events in order, from sequence ``after + 1`` on."""
    rows = await connection.fetch(
        "SELECT envelope FROM events WHERE aggregate_id = $1 AND sequence > $2 ORDER BY sequence",
        aggregate_id,
        after,
    )
    return [read_envelope(row["envelope"]) for row in rows]


async def count(connection: Any) -> int:
    total: int = await connection.fetchval("SELECT count(*) FROM events")
    return total
