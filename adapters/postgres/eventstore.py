"""The event store and its outbox, in PostgreSQL.

``append`` writes events and their outbox rows in the caller's transaction, so a command's
events are durable and queued for Kafka together, or not at all.
"""

from collections.abc import Sequence
from typing import Any

from schemas.events import Envelope
from schemas.upcasting import read_envelope

OUTBOX_CHANNEL = "outbox"

# One statement records the events and queues them; a trigger on the outbox notifies the relay.
_APPEND = """
WITH recorded AS (
    INSERT INTO events (event_id, aggregate_id, sequence, type, schema_version, occurred_at, envelope)
    SELECT event_id, aggregate_id, sequence, type, schema_version, occurred_at, envelope::json
    FROM unnest($1::uuid[], $2::text[], $3::int[], $4::text[], $5::int[], $6::timestamptz[], $7::text[])
        AS e (event_id, aggregate_id, sequence, type, schema_version, occurred_at, envelope)
    RETURNING position
)
INSERT INTO outbox (position) SELECT position FROM recorded
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


async def load(connection: Any, aggregate_id: str, after: int = 0) -> list[Envelope]:
    """The aggregate's events in order, from sequence ``after + 1`` on."""
    rows = await connection.fetch(
        "SELECT envelope FROM events WHERE aggregate_id = $1 AND sequence > $2 ORDER BY sequence",
        aggregate_id,
        after,
    )
    return [read_envelope(row["envelope"]) for row in rows]
