"""The relay's signature on every Kafka record: an HMAC-SHA256 of its topic, key and value.

A Kafka-protocol broker without authentication (the embedded one, for every local user)
takes records from anyone who reaches its port. Consumers apply nothing whose signature
does not check, and then only what the event store holds (``adapters.kafka.record_admission``).
"""

import hashlib
import hmac
import secrets
from collections.abc import Iterable
from typing import Any

from aiokafka import AIOKafkaProducer

HEADER = "procurement-signature"
_KEY_NAME = "kafka-records"


def sign(key: bytes, topic: str, record_key: bytes | None, value: bytes) -> bytes:
    """The signature of one record; each part is length-prefixed so parts cannot shift."""
    mac = hmac.new(key, digestmod=hashlib.sha256)
    for part in (topic.encode(), record_key or b"", value):
        mac.update(len(part).to_bytes(8, "big"))
        mac.update(part)
    return mac.digest()


def is_signed(
    key: bytes,
    topic: str,
    record_key: bytes | None,
    value: bytes,
    headers: Iterable[tuple[str, bytes]],
) -> bool:
    """True when the record carries exactly one signature header and it checks."""
    given = [value_ for name, value_ in headers if name == HEADER]
    return len(given) == 1 and hmac.compare_digest(given[0], sign(key, topic, record_key, value))


async def load_key(pool: Any) -> bytes:
    """The deployment's signing key, made by whichever process asks first."""
    await pool.execute(
        "INSERT INTO stream_keys (name, secret) VALUES ($1, $2) ON CONFLICT DO NOTHING",
        _KEY_NAME,
        secrets.token_bytes(32),
    )
    secret: bytes = await pool.fetchval("SELECT secret FROM stream_keys WHERE name = $1", _KEY_NAME)
    return secret


class SigningProducer(AIOKafkaProducer):  # type: ignore[misc]  # aiokafka has no type hints
    """A producer that signs every record it sends."""

    def __init__(self, signing_key: bytes, **config: Any) -> None:
        super().__init__(**config)
        self._signing_key = signing_key

    async def send(
        self,
        topic: str,
        value: bytes | None = None,
        key: bytes | None = None,
        partition: int | None = None,
        timestamp_ms: int | None = None,
        headers: list[tuple[str, bytes]] | None = None,
    ) -> Any:
        signature = sign(self._signing_key, topic, key, value or b"")
        signed = [*(headers or []), (HEADER, signature)]
        return await super().send(topic, value, key, partition, timestamp_ms, signed)
