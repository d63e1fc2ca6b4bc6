"""Dead letters: events that a consumer could not handle, set aside so that the stream
behind them goes on.

A consumer is a projection (named by its topic) or the relay. A letter stays unresolved
until the operator replays it (``readmodels.dead_letter_replay``); failing again updates the
open letter instead of adding one, so each consumer has at most one open letter per event.
"""

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import asyncpg
from aiokafka.errors import (
    CorruptRecordException,
    InvalidTimestampError,
    MessageSizeTooLargeError,
    RecordListTooLargeError,
)

RELAY = "relay"
_LONGEST_ERROR = 4000  # characters of an error kept: enough to act on, never megabytes

# Failures of the database or the network, not of the event: waited out and retried.
# A missing table or privilege (class 42) is the deployment's fault and would refuse every
# event alike, so it is waited out too rather than setting every event aside.
_TRANSIENT = (
    OSError,
    TimeoutError,
    asyncpg.InterfaceError,
    asyncpg.PostgresConnectionError,
    asyncpg.TransactionRollbackError,  # deadlocks, serialization failures
    asyncpg.InsufficientResourcesError,
    asyncpg.OperatorInterventionError,  # shutdown, cancelled, cannot connect now
    asyncpg.LockNotAvailableError,
    asyncpg.PostgresSystemError,
    asyncpg.SyntaxOrAccessError,
)

# What a broker answers about one record itself; any other Kafka error (the broker away, a
# timeout, authorization) would refuse every record alike, so the relay retries it.
REFUSED_RECORD = (
    MessageSizeTooLargeError,
    RecordListTooLargeError,
    CorruptRecordException,
    InvalidTimestampError,
)


def is_transient(error: BaseException) -> bool:
    """True when the failure is the platform's (try again), not the event's (set it aside)."""
    return isinstance(error, _TRANSIENT)


def describe(error: BaseException) -> str:
    """The error as the operator reads it: its kind and message (asyncpg's message holds
    PostgreSQL's detail). A message may quote the very text that failed: a NUL or a lone
    surrogate in it is escaped, since PostgreSQL's text could not hold it either."""
    text = f"{type(error).__name__}: {error}"[:_LONGEST_ERROR]
    return text.encode("utf-8", "backslashreplace").decode().replace("\x00", "\\x00")


@dataclass(frozen=True)
class DeadLetter:
    id: int
    consumer: str
    position: int
    event_id: uuid.UUID
    event_type: str
    aggregate_id: str
    error: str
    attempts: int
    failed_at: datetime
    resolved_at: datetime | None

    def public(self) -> dict[str, Any]:
        """As the operations API shows it."""
        return {
            "id": self.id,
            "consumer": self.consumer,
            "position": self.position,
            "event_id": str(self.event_id),
            "event_type": self.event_type,
            "aggregate_id": self.aggregate_id,
            "error": self.error,
            "attempts": self.attempts,
            "failed_at": self.failed_at.isoformat(),
            "resolved_at": self.resolved_at.isoformat() if self.resolved_at else None,
        }


# The event's position comes from the store: a projection knows only its id.
_SET_ASIDE = """
INSERT INTO dead_letters (consumer, position, event_id, error)
SELECT c.consumer, e.position, e.event_id, c.error
FROM unnest($1::text[], $2::uuid[], $3::text[]) AS c (consumer, event_id, error)
JOIN events e USING (event_id)
ON CONFLICT (consumer, position) WHERE resolved_at IS NULL
DO UPDATE SET error = excluded.error, failed_at = excluded.failed_at,
              attempts = dead_letters.attempts + 1
"""


async def set_aside(connection: Any, consumer: str, failures: list[tuple[uuid.UUID, str]]) -> None:
    """Record these events (id, error) as dead letters of ``consumer``."""
    if failures:
        await connection.execute(
            _SET_ASIDE,
            [consumer] * len(failures),
            [event_id for event_id, _ in failures],
            [error for _, error in failures],
        )


_COLUMNS = """
d.id, d.consumer, d.position, d.event_id, e.type AS event_type, e.aggregate_id, d.error,
d.attempts, d.failed_at, d.resolved_at
"""


async def unresolved(pool: Any, limit: int) -> list[DeadLetter]:
    """The oldest open letters first."""
    rows = await pool.fetch(
        f"SELECT {_COLUMNS} FROM dead_letters d JOIN events e USING (position)"
        " WHERE d.resolved_at IS NULL ORDER BY d.id LIMIT $1",
        limit,
    )
    return [DeadLetter(**row) for row in rows]


async def count_unresolved(pool: Any) -> int:
    """How many letters are open: a walk of a partial index that holds only those."""
    count: int = await pool.fetchval("SELECT count(*) FROM dead_letters WHERE resolved_at IS NULL")
    return count


async def find(connection: Any, letter_id: int, *, lock: bool = False) -> DeadLetter | None:
    """One letter; ``lock`` holds it for the caller's transaction, against a second replay."""
    row = await connection.fetchrow(
        f"SELECT {_COLUMNS} FROM dead_letters d JOIN events e USING (position)"
        f" WHERE d.id = $1{' FOR UPDATE OF d' if lock else ''}",
        letter_id,
    )
    return DeadLetter(**row) if row is not None else None


async def resolve(connection: Any, letter_id: int) -> None:
    await connection.execute(
        "UPDATE dead_letters SET resolved_at = clock_timestamp() WHERE id = $1", letter_id
    )


async def failed_again(pool: Any, letter_id: int, error: str) -> None:
    await pool.execute(
        "UPDATE dead_letters SET error = $2, failed_at = clock_timestamp(),"
        " attempts = attempts + 1 WHERE id = $1 AND resolved_at IS NULL",
        letter_id,
        error,
    )
