"""Which Kafka records a projection may apply: the event store is the truth.

A record is applied only if the relay signed it and the store holds the very same event
(same id, same bytes). Anything else (forged, altered, unreadable, on the wrong topic)
changes nothing: it is logged and counted in ``forged_records`` for the operator.
"""

import hashlib
import json
import logging
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError

from schemas.events import Envelope
from schemas.upcasting import read_envelope
from streams.record_signing import is_signed
from streams.topology import Topic

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Record:
    """One Kafka record as a consumer received it."""

    topic: str
    partition: int
    offset: int
    key: bytes | None
    value: bytes
    headers: Sequence[tuple[str, bytes]] = ()


@dataclass(frozen=True)
class Refusal:
    record: Record
    reason: str
    event_id: uuid.UUID | None = None


def first_look(signing_key: bytes, topic: Topic, record: Record) -> Envelope | Refusal:
    """The record's event if it is signed, readable and belongs on the topic (pure)."""
    if not is_signed(signing_key, record.topic, record.key, record.value, record.headers):
        return Refusal(record, "it does not carry the relay's signature", _claimed_id(record))
    try:
        item = read_envelope(record.value)
    except (ValidationError, ValueError) as error:
        return Refusal(record, f"it is signed but unreadable: {error}")
    if item.type not in topic.event_types:
        return Refusal(record, f"a {item.type} does not belong on {topic.name}", item.event_id)
    return item


def _claimed_id(record: Record) -> uuid.UUID | None:
    """The event id an unsigned record claims, for the operator's count only."""
    try:
        return uuid.UUID(str(json.loads(record.value)["event_id"]))
    except (ValueError, TypeError, KeyError):
        return None


def matches_the_store(
    record: Record, item: Envelope, stored_sha256: bytes | None
) -> Refusal | None:
    """Why the store does not vouch for the record's event, or None if it does (pure)."""
    if stored_sha256 is None:
        return Refusal(record, "the event store has no such event", item.event_id)
    if stored_sha256 != hashlib.sha256(record.value).digest():
        return Refusal(record, "it differs from the event in the event store", item.event_id)
    return None


# The envelope column keeps the JSON text exactly as the relay sent it.
_STORED_DIGESTS = """
SELECT event_id, sha256(convert_to(envelope::text, 'UTF8')) AS digest
FROM events WHERE event_id = ANY($1::uuid[])
"""


async def admit(
    pool: Any, signing_key: bytes, topic: Topic, records: Sequence[Record]
) -> list[Envelope]:
    """The events of ``records`` that the store vouches for, in order; refusals are counted."""
    looked = [first_look(signing_key, topic, record) for record in records]
    candidates = [
        (record, item)
        for record, item in zip(records, looked, strict=True)
        if isinstance(item, Envelope)
    ]
    refused = [item for item in looked if isinstance(item, Refusal)]
    stored: dict[uuid.UUID, bytes] = {}
    if candidates:
        rows = await pool.fetch(_STORED_DIGESTS, [item.event_id for _, item in candidates])
        stored = {row["event_id"]: bytes(row["digest"]) for row in rows}
    admitted = []
    for record, item in candidates:
        refusal = matches_the_store(record, item, stored.get(item.event_id))
        if refusal is None:
            admitted.append(item)
        else:
            refused.append(refusal)
    if refused:
        await _count(pool, refused)
    return admitted


async def _count(pool: Any, refused: Sequence[Refusal]) -> None:
    first = refused[0]
    log.error(
        "refused %d forged record(s) on %s, nothing applied; first at partition %d offset %d: %s",
        len(refused),
        first.record.topic,
        first.record.partition,
        first.record.offset,
        first.reason,
    )
    await pool.executemany(
        'INSERT INTO forged_records (topic, partition, "offset", event_id, reason)'
        " VALUES ($1, $2, $3, $4, $5)",
        [
            (r.record.topic, r.record.partition, r.record.offset, r.event_id, r.reason)
            for r in refused
        ],
    )
