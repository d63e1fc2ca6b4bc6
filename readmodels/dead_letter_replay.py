"""Replaying a dead letter once its cause is fixed: the event, read from the store as it is
now, is applied to its projection again, or put back in the outbox for the relay.

A replay that succeeds resolves the letter; one that fails again keeps it open with the
new error and says what it is. The letter's row is locked while a projection replays it, so
two operators replaying it at once apply it once.
"""

import asyncio
import time
from typing import Any, Literal

from adapters.postgres import dead_letters
from adapters.postgres.dead_letters import DeadLetter
from procurement.errors import NotFound, WrongState
from readmodels import projections
from schemas.upcasting import read_envelope

# How long a replay through the relay waits for its answer before saying it is queued.
RELAY_WAIT = 10.0

Replayed = Literal["resolved", "queued"]


async def replay(pool: Any, letter_id: int, relay_wait: float = RELAY_WAIT) -> Replayed:
    """Replay one open letter; raises ``NotFound``, or ``WrongState`` when it is already
    resolved (code ``already_resolved``) or fails again (code ``replay_failed``)."""
    letter = await dead_letters.find(pool, letter_id)
    if letter is None:
        raise NotFound(f"there is no dead letter {letter_id}")
    if letter.consumer == dead_letters.RELAY:
        return await _publish_again(pool, letter, relay_wait)
    await _apply_again(pool, letter)
    return "resolved"


def _already_resolved(letter: DeadLetter) -> WrongState:
    return WrongState(
        f"dead letter {letter.id} was resolved at {letter.resolved_at}", code="already_resolved"
    )


def _still_fails(letter: DeadLetter, error: str) -> WrongState:
    detail = f"event {letter.event_id} still fails for {letter.consumer}: {error}"
    return WrongState(detail, code="replay_failed")


async def _apply_again(pool: Any, letter: DeadLetter) -> None:
    """Apply the event to the projection that set it aside, skipping the tracking that
    marked it applied; the projections' own versions keep a later event from applying
    twice."""
    projector = projections.PROJECTORS[letter.consumer]
    try:
        async with pool.acquire() as connection, connection.transaction():
            locked = await dead_letters.find(connection, letter.id, lock=True)
            if locked is None or locked.resolved_at is not None:
                raise _already_resolved(locked or letter)
            stored = await connection.fetchval(
                "SELECT envelope FROM events WHERE position = $1", letter.position
            )
            await projector(connection, [read_envelope(stored)])
            await dead_letters.resolve(connection, letter.id)
    except WrongState:
        raise
    except Exception as error:
        if dead_letters.is_transient(error):
            raise
        described = dead_letters.describe(error)
        await dead_letters.failed_again(pool, letter.id, described)
        raise _still_fails(letter, described) from error


async def _publish_again(pool: Any, letter: DeadLetter, wait: float) -> Replayed:
    """Queue the event for the relay, and wait for its answer: published resolves the
    letter; refused again updates its error and takes it out of the outbox."""
    async with pool.acquire() as connection, connection.transaction():
        locked = await dead_letters.find(connection, letter.id, lock=True)
        if locked is None or locked.resolved_at is not None:
            raise _already_resolved(locked or letter)
        await connection.execute(
            "INSERT INTO outbox (position) VALUES ($1) ON CONFLICT DO NOTHING", letter.position
        )
    until = time.monotonic() + wait
    while time.monotonic() < until:
        await asyncio.sleep(0.1)
        row = await pool.fetchrow(
            "SELECT resolved_at, error, attempts,"
            " EXISTS (SELECT 1 FROM outbox WHERE position = $2) AS queued"
            " FROM dead_letters WHERE id = $1",
            letter.id,
            letter.position,
        )
        if row["resolved_at"] is not None:
            return "resolved"
        if not row["queued"] and row["attempts"] > letter.attempts:
            raise _still_fails(letter, row["error"])
    return "queued"
