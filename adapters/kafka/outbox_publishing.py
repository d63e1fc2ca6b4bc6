"""The relay's publishing step: one batch of the outbox to Kafka, in commit order, keyed by
aggregate id, forgotten once the broker has acknowledged it.

An event larger than the inline limit goes as a reference that the consumers resolve in the
store (``adapters.kafka.record_admission``), so no event is too large for the broker. A record the
broker refuses for what it is all the same (of a type no topic carries, say) would be
refused forever and hold the whole outbox behind it: it is set aside as the relay's dead
letter and leaves the outbox. Any other failure (the broker away, a timeout) is the
platform's, not the record's: it is raised and the batch is sent again.
"""

import asyncio
import logging
from typing import Any

from aiokafka import AIOKafkaProducer

from adapters.kafka.record_admission import INLINE_LIMIT, REFERENCE_HEADER, Reference
from adapters.kafka.topology import TOPIC_OF_EVENT
from adapters.postgres import dead_letters

log = logging.getLogger(__name__)

BATCH = 2000

# One statement, so one implicit transaction: forget what the broker acknowledged, resolve
# the relay's dead letters of those events (they were replayed), and remember how far each
# partition must reach.
_SENT = """
WITH sent AS (DELETE FROM outbox WHERE position = ANY($1::bigint[])),
replayed AS (UPDATE dead_letters SET resolved_at = clock_timestamp()
             WHERE consumer = 'relay' AND resolved_at IS NULL AND position = ANY($1::bigint[]))
INSERT INTO relay_watermarks (topic, partition, end_offset)
SELECT * FROM unnest($2::text[], $3::int[], $4::bigint[])
ON CONFLICT (topic, partition) DO UPDATE
SET end_offset = GREATEST(relay_watermarks.end_offset, EXCLUDED.end_offset)
"""


# A snapshot, and those of the transactions running when it was taken that still run.
_RUNNING = """
SELECT s::text AS snapshot,
       ARRAY(SELECT x::text FROM pg_snapshot_xip(s) AS x
             WHERE pg_xact_status(x) = 'in progress') AS running
FROM pg_current_snapshot() AS s
"""
_STILL_RUNNING = """
SELECT ARRAY(SELECT x FROM unnest($1::text[]::xid8[]) AS x WHERE pg_xact_status(x) = 'in progress')::text[]
"""
SETTLE_LIMIT = 10.0  # seconds: past this, one stalled transaction no longer holds everyone


async def settled_snapshot(pool: Any, limit: float = SETTLE_LIMIT) -> str:
    """A snapshot once every transaction running when it was taken has ended.

    Positions come from a sequence: a transaction may commit after a later position was
    committed. An event committed before the snapshot was taken is safe to send once the
    transactions that were running then have ended: any position before it was taken by a
    transaction that had its id by then (``eventstore.append`` takes the id first), so
    that position is now committed or rolled back, and a consumer reading the store finds
    every event before the one it was sent. Sending earlier would let the OCDS releases be
    built from a history with a hole that no later recomputation fills."""
    row = await pool.fetchrow(_RUNNING)
    running, pause, waited = row["running"], 0.002, 0.0
    while running:
        if waited >= limit:
            log.warning("sending the outbox although transactions %s still run", running)
            break
        await asyncio.sleep(pause)
        waited += pause
        pause = min(pause * 2, 0.05)
        running = await pool.fetchval(_STILL_RUNNING, running)
    return str(row["snapshot"])


class NoTopic(Exception):
    """An event type that no topic carries (renamed, or written by a newer version)."""


REFUSED = (*dead_letters.REFUSED_RECORD, NoTopic)


async def publish_pending(
    pool: Any, producer: AIOKafkaProducer, inline_limit: int = INLINE_LIMIT
) -> int:
    """Send one batch of the outbox, events over ``inline_limit`` bytes by reference;
    returns how many rows it held."""
    snapshot = await settled_snapshot(pool)
    rows = await pool.fetch(
        "SELECT o.position, e.event_id, e.aggregate_id, e.type, e.envelope AS body"
        " FROM outbox o JOIN events e USING (position)"
        " WHERE pg_visible_in_snapshot(o.written_by, $2::text::pg_snapshot)"
        " ORDER BY o.position LIMIT $1",
        BATCH,
        snapshot,
    )
    if not rows:
        return 0
    answers = [await _send(producer, row, inline_limit) for row in rows]
    outcomes = await asyncio.gather(*answers, return_exceptions=True)
    # A floor for each partition's end offset that any broker must still report: the
    # embedded broker reports the start of its last batch + 1, not the last offset + 1.
    ends: dict[tuple[str, int], int] = {}
    sent, refused, retry = [], [], None
    for row, outcome in zip(rows, outcomes, strict=True):
        if isinstance(outcome, REFUSED):
            refused.append((row, dead_letters.describe(outcome)))
        elif isinstance(outcome, BaseException):
            retry = retry or outcome
        else:
            sent.append(row["position"])
            place = (outcome.topic, outcome.partition)
            ends[place] = min(ends.get(place, outcome.offset + 1), outcome.offset + 1)
    await _forget(pool, sent, ends, refused)
    if retry is not None:
        raise retry
    return len(rows)


async def _send(producer: AIOKafkaProducer, row: Any, inline_limit: int) -> "asyncio.Future[Any]":
    """The broker's answer to come for one outbox row; a record refused before it is sent
    (larger than the limit, or with no topic) is an answer already."""
    topic = TOPIC_OF_EVENT.get(row["type"])
    try:
        if topic is None:
            raise NoTopic(f"no topic carries {row['type']} events")
        value, headers = row["body"].encode(), []
        if len(value) > inline_limit:  # the consumers read it from the store
            value = Reference.to(row["event_id"], row["type"], value).value()
            headers = [(REFERENCE_HEADER, b"1")]
        sending: asyncio.Future[Any] = await producer.send(
            topic, key=row["aggregate_id"].encode(), value=value, headers=headers
        )
    except REFUSED as error:
        answer: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        answer.set_exception(error)
        return answer
    return sending


async def _forget(
    pool: Any, sent: list[int], ends: dict[tuple[str, int], int], refused: list[tuple[Any, str]]
) -> None:
    watermarks = ([t for t, _ in ends], [p for _, p in ends], list(ends.values()))
    if not refused:  # the usual case: one statement
        await pool.execute(_SENT, sent, *watermarks)
        return
    for row, error in refused:
        log.error("set aside event %s as the relay's dead letter: %s", row["event_id"], error)
    async with pool.acquire() as connection, connection.transaction():
        await dead_letters.set_aside(
            connection, dead_letters.RELAY, [(row["event_id"], error) for row, error in refused]
        )
        await connection.execute(
            "DELETE FROM outbox WHERE position = ANY($1::bigint[])",
            [row["position"] for row, _ in refused],
        )
        await connection.execute(_SENT, sent, *watermarks)
