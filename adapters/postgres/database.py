"""Connecting to PostgreSQL and bringing its schema up to date."""

import hashlib
import json
from pathlib import Path
from typing import Any

import asyncpg

SCHEMA = Path(__file__).with_name("schema.sql")
_SCHEMA_LOCK = 4_242_001  # an advisory lock id: processes starting together migrate one at a time


async def _init_connection(connection: Any) -> None:
    await connection.set_type_codec(
        "jsonb", encoder=json.dumps, decoder=json.loads, schema="pg_catalog"
    )


async def _keep_session(connection: Any) -> None:
    """Skip asyncpg's reset on release: every transaction here is closed by its context
    manager and listeners are removed by their owner, so there is nothing to reset, and the
    reset would cost a round trip per command."""


async def connect_pool(url: str, *, min_size: int = 1, max_size: int = 8) -> Any:
    """A connection pool with the schema applied and jsonb read as Python objects."""
    pool = await asyncpg.create_pool(
        url,
        min_size=min_size,
        max_size=max_size,
        init=_init_connection,
        reset=_keep_session,
        max_inactive_connection_lifetime=60.0,  # idle backends cost memory
    )
    await _apply_schema(pool)
    return pool


async def _apply_schema(pool: Any) -> None:
    """Apply schema.sql once per version of it. Its DDL locks the tables it names (a trigger
    replaced on ``events`` blocks inserts), so a process starting under load must not run it
    again: that deadlocked with concurrent commands."""
    text = SCHEMA.read_text()
    digest = hashlib.sha256(text.encode()).hexdigest()
    async with pool.acquire() as connection, connection.transaction():
        await connection.execute("SELECT pg_advisory_xact_lock($1)", _SCHEMA_LOCK)
        if await connection.fetchval("SELECT to_regclass('schema_applied') IS NOT NULL") and (
            await connection.fetchval("SELECT 1 FROM schema_applied WHERE digest = $1", digest)
        ):
            return
        await connection.execute(text)
        await connection.execute(
            "CREATE TABLE IF NOT EXISTS schema_applied"
            " (digest text PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())"
        )
        await connection.execute(
            "INSERT INTO schema_applied (digest) VALUES ($1) ON CONFLICT DO NOTHING", digest
        )
