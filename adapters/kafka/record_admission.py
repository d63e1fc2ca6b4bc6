"""Which Kafka records a projection may apply: the event store is the truth.

A record is applied only if the relay signed it and the store holds the very same event
(same id, same bytes). Anything else (forged, altered, unreadable, on the wrong topic)
changes nothing: it is logged and counted in ``forged_records`` for the operator.

An event larger than ``INLINE_LIMIT`` travels as a reference: a small record naming the
event's id, type and SHA-256, whose event the consumer reads from the store. No event is
then too large for the broker, however many bids it carries.
"""

import hashlib
import json
import logging
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError

from adapters.kafka.record_signing import is_signed
from adapters.kafka.topology import Topic
from schemas import MAX_EVENT_BYTES
from schemas.events import Envelope
from schemas.upcasting import read_envelope

log = logging.getLogger(__name__)

INLINE_LIMIT = MAX_EVENT_BYTES  # larger events travel as references
REFERENCE_HEADER = "procurement-reference"  # marks a record whose value is a reference


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
class Reference:
    """An event sent by reference: the consumer takes it from the store, if its bytes have
    this SHA-256."""

    event_id: uuid.UUID
    type: str
    sha256: bytes

    def value(self) -> bytes:
        fields = {"event_id": str(self.event_id), "type": self.type, "sha256": self.sha256.hex()}
        return json.dumps(fields).encode()

    @classmethod
    def to(cls, event_id: uuid.UUID, event_type: str, body: bytes) -> "Reference":
        return cls(event_id, event_type, hashlib.sha256(body).digest())

    @classmethod
    def read(cls, value: bytes) -> "Reference":
        fields = json.loads(value)
        if not isinstance(fields, dict) or set(fields) != {"event_id", "type", "sha256"}:
            raise ValueError("a reference names an event_id, a type and a sha256")
        return cls(
            uuid.UUID(fields["event_id"]), str(fields["type"]), bytes.fromhex(fields["sha256"])
        )


@dataclass(frozen=True)
class Refusal:
    record: Record
    reason: str
    event_id: uuid.UUID | None = None


def first_look(signing_key: bytes, topic: Topic, record: Record) -> Envelope | Reference | Refusal:
    """The record's event, or the reference to it, if it is signed, readable and belongs on
    the topic (pure)."""
    if not is_signed(signing_key, record.topic, record.key, record.value, record.headers):
        return Refusal(record, "it does not carry the relay's signature", _claimed_id(record))
    by_reference = any(name == REFERENCE_HEADER for name, _ in record.headers)
    try:
        item = Reference.read(record.value) if by_reference else read_envelope(record.value)
    except (ValidationError, ValueError, TypeError) as error:
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
    record: Record, item: Envelope | Reference, stored_sha256: bytes | None
) -> Refusal | None:
    """Why the store does not vouch for the record's event, or None if it does (pure)."""
    if stored_sha256 is None:
        return Refusal(record, "the event store has no such event", item.event_id)
    sent = item.sha256 if isinstance(item, Reference) else hashlib.sha256(record.value).digest()
    if stored_sha256 != sent:
        return Refusal(record, "it differs from the event in the event store", item.event_id)
    return None


# The envelope column keeps the JSON text exactly as the relay sent it; the text itself is
# read only for the events sent by reference ($2).
_STORED_DIGESTS = """
SELECT event_id, sha256(convert_to(envelope::text, 'UTF8')) AS digest,
       CASE WHEN event_id = ANY($2::uuid[]) THEN envelope::text END AS text
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
        if not isinstance(item, Refusal)
    ]
    refused = [item for item in looked if isinstance(item, Refusal)]
    stored: dict[uuid.UUID, Any] = {}
    if candidates:
        referenced = [item.event_id for _, item in candidates if isinstance(item, Reference)]
        ids = [item.event_id for _, item in candidates]
        stored = {
            row["event_id"]: row for row in await pool.fetch(_STORED_DIGESTS, ids, referenced)
        }
    admitted = []
    for record, item in candidates:
        row = stored.get(item.event_id)
        refusal = matches_the_store(record, item, None if row is None else bytes(row["digest"]))
        if refusal is not None:
            refused.append(refusal)
        elif isinstance(item, Reference):
            try:
                admitted.append(read_envelope(stored[item.event_id]["text"].encode()))
            except (ValidationError, ValueError) as error:  # the repair timer sets it aside
                reason = f"the stored event is unreadable: {error}"
                refused.append(Refusal(record, reason, item.event_id))
        else:
            admitted.append(item)
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
