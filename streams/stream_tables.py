"""The tables of the stream's own safeguards: the key that signs Kafka records, the
records refused as forged, and the broker epochs that tell workers to read again.

They are created by the stream workers at start, beside ``schema.sql``.
"""

from typing import Any

_TABLES_LOCK = 4_242_003  # an advisory lock id: workers starting together create them once

_TABLES = """
-- The secret behind every record's signature. Kept in PostgreSQL because every worker
-- shares it, on whichever machine it runs, and any of them may lead the relay.
CREATE TABLE IF NOT EXISTS stream_keys (
    name       text        PRIMARY KEY,
    secret     bytea       NOT NULL CHECK (length(secret) >= 32),
    created_at timestamptz NOT NULL DEFAULT clock_timestamp()
);

-- Kafka records that a consumer refused: no valid signature, or not the event the store
-- holds. What the operator counts; nothing of them was applied.
CREATE TABLE IF NOT EXISTS forged_records (
    id           bigserial   PRIMARY KEY,
    topic        text        NOT NULL,
    partition    integer     NOT NULL,
    "offset"     bigint      NOT NULL,
    event_id     uuid,
    reason       text        NOT NULL,
    refused_at   timestamptz NOT NULL DEFAULT clock_timestamp()
);

-- One row per broker that lost what it had acknowledged; a new row makes the workers read
-- the republished topics from the beginning.
CREATE TABLE IF NOT EXISTS broker_epochs (
    epoch      bigserial   PRIMARY KEY,
    reason     text        NOT NULL,
    started_at timestamptz NOT NULL DEFAULT clock_timestamp()
);
"""


async def prepare(pool: Any) -> None:
    """Create the tables if they are missing."""
    async with pool.acquire() as connection, connection.transaction():
        await connection.execute("SELECT pg_advisory_xact_lock($1)", _TABLES_LOCK)
        await connection.execute(_TABLES)
