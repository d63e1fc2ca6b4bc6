"""The relay's signature on Kafka records, and what a consumer makes of a record before and
after asking the event store (the pure parts of ``adapters.kafka.record_admission``)."""

import hashlib
import uuid
from datetime import UTC, datetime

from hypothesis import given
from hypothesis import strategies as st

from adapters.kafka.record_admission import (
    REFERENCE_HEADER,
    Record,
    Reference,
    Refusal,
    first_look,
    matches_the_store,
)
from adapters.kafka.record_signing import HEADER, is_signed, sign
from adapters.kafka.topology import EVALUATIONS, TENDERS
from schemas.events import Envelope, TenderCancelled, envelope

KEY = b"k" * 32


def cancellation() -> bytes:
    item = envelope(
        TenderCancelled(reason="Budget withdrawn"),
        event_id=uuid.UUID(int=1),
        aggregate_id="ocds-test00-2026-000001",
        sequence=2,
        actor="officer-1",
        occurred_at=datetime(2026, 12, 4, tzinfo=UTC),
    )
    return item.model_dump_json().encode()


def signed_record(value: bytes, topic: str = TENDERS.name, key: bytes = b"ocid") -> Record:
    return Record(topic, 0, 0, key, value, ((HEADER, sign(KEY, topic, key, value)),))


@given(st.binary(), st.binary(), st.text())
def test_a_signature_checks_only_for_its_own_topic_key_and_value(
    value: bytes, record_key: bytes, topic: str
) -> None:
    """Any change of topic, key or value, or of the key that signs, fails the check."""
    headers = [(HEADER, sign(KEY, topic, record_key, value))]
    assert is_signed(KEY, topic, record_key, value, headers)
    assert not is_signed(KEY, topic + "x", record_key, value, headers)
    assert not is_signed(KEY, topic, record_key + b"x", value, headers)
    assert not is_signed(KEY, topic, record_key, value + b"x", headers)
    assert not is_signed(b"o" * 32, topic, record_key, value, headers)


def test_parts_cannot_shift_between_key_and_value() -> None:
    """Moving bytes from the record's key to its value changes the signature."""
    assert sign(KEY, "t", b"ab", b"c") != sign(KEY, "t", b"a", b"bc")


def test_an_unsigned_or_twice_signed_record_is_refused_before_reading_it() -> None:
    """No signature, or two of them, is a refusal that still names the claimed event id."""
    value = cancellation()
    good = signed_record(value)
    for headers in ((), (*good.headers, *good.headers)):
        verdict = first_look(KEY, TENDERS, Record(TENDERS.name, 0, 7, b"ocid", value, headers))
        assert verdict == Refusal(
            Record(TENDERS.name, 0, 7, b"ocid", value, headers),
            "it does not carry the relay's signature",
            uuid.UUID(int=1),
        )


def test_a_signed_record_is_read_and_must_belong_on_its_topic() -> None:
    """A signed event on its own topic is read; on another topic it is refused."""
    assert isinstance(first_look(KEY, TENDERS, signed_record(cancellation())), Envelope)
    elsewhere = first_look(KEY, EVALUATIONS, signed_record(cancellation(), EVALUATIONS.name))
    assert isinstance(elsewhere, Refusal)
    assert elsewhere.reason == "a TenderCancelled does not belong on procurement.evaluations"


def test_the_store_vouches_only_for_the_same_bytes() -> None:
    """A record is admitted when the store holds its event with the same SHA-256, and refused
    when the store lacks it or holds something else under its id."""
    record = signed_record(cancellation())
    item = first_look(KEY, TENDERS, record)
    assert isinstance(item, Envelope)
    digest = hashlib.sha256(record.value).digest()
    assert matches_the_store(record, item, digest) is None
    missing = matches_the_store(record, item, None)
    assert missing is not None
    assert missing.reason == "the event store has no such event"
    other = matches_the_store(record, item, hashlib.sha256(b"other").digest())
    assert other is not None
    assert other.reason == "it differs from the event in the event store"


def reference_record(value: bytes, topic: str = TENDERS.name) -> Record:
    signed = signed_record(value, topic)
    return Record(
        signed.topic, 0, 0, signed.key, value, (*signed.headers, (REFERENCE_HEADER, b"1"))
    )


def test_a_large_event_travels_as_a_reference_the_store_resolves() -> None:
    """A reference names the event's id, type and digest; the store's bytes must have that
    digest, and any other bytes are refused."""
    body = cancellation()
    reference = Reference.to(uuid.UUID(int=1), "TenderCancelled", body)
    record = reference_record(reference.value())
    assert len(record.value) < 200
    assert first_look(KEY, TENDERS, record) == reference
    assert matches_the_store(record, reference, hashlib.sha256(body).digest()) is None
    altered = hashlib.sha256(body + b" ").digest()
    assert matches_the_store(record, reference, altered) == Refusal(
        record, "it differs from the event in the event store", uuid.UUID(int=1)
    )
    assert matches_the_store(record, reference, None) is not None


def test_a_reference_is_read_only_as_a_reference() -> None:
    """A reference without its header is no event, an event with the header is no
    reference, and a reference to a type the topic does not carry is refused."""
    body = cancellation()
    reference = Reference.to(uuid.UUID(int=1), "TenderCancelled", body).value()
    assert isinstance(first_look(KEY, TENDERS, signed_record(reference)), Refusal)
    assert isinstance(first_look(KEY, TENDERS, reference_record(body)), Refusal)
    foreign = reference_record(reference, EVALUATIONS.name)
    assert isinstance(first_look(KEY, EVALUATIONS, foreign), Refusal)
