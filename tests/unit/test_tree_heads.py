"""Signed bid-log heads: what the platform signs, how it is served and how it is checked."""

import base64
import json
import re
from datetime import UTC, datetime, timedelta, timezone

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from pydantic import ValidationError

from bidding import keys, tree_heads
from schemas.tree_heads import PLATFORM_CLOCK_ONLY, TSA_TIME_STAMP, SignedTreeHead

OCID = "ocds-000000-2026-000001"
ROOT = bytes.fromhex("704c1c467d797895999e6e1cb4bb59cd5134b1b7e7421737a905d60ef9166178")
MOMENT = datetime(2026, 12, 27, 10, 0, 0, 6305, tzinfo=UTC)


@pytest.fixture
def platform_key() -> Ed25519PrivateKey:
    return Ed25519PrivateKey.from_private_bytes(b"\x2a" * 32)


def test_the_signature_covers_exactly_the_documented_json(platform_key: Ed25519PrivateKey) -> None:
    """The Ed25519 signature verifies over the canonical JSON of purpose, ocid, tree_size,
    root (hex) and timestamp (RFC 3339, UTC, Z), and nothing else."""
    head = tree_heads.sign_head(OCID, 1, ROOT, MOMENT, platform_key)
    signed = (
        b'{"ocid":"ocds-000000-2026-000001","purpose":"procurement-bid-log-head/1",'
        b'"root":"704c1c467d797895999e6e1cb4bb59cd5134b1b7e7421737a905d60ef9166178",'
        b'"timestamp":"2026-12-27T10:00:00.006305Z","tree_size":1}'
    )
    assert tree_heads.signed_json(head) == signed
    platform_key.public_key().verify(head.signature, signed)
    assert head.key_id == keys.key_id(keys.raw_public(platform_key))


def test_a_head_is_valid_under_its_key_only(platform_key: Ed25519PrivateKey) -> None:
    """head_valid accepts the platform's key and refuses any other key."""
    head = tree_heads.sign_head(OCID, 3, ROOT, MOMENT, platform_key)
    assert tree_heads.head_valid(head, keys.raw_public(platform_key))
    other = keys.raw_public(Ed25519PrivateKey.generate())
    assert not tree_heads.head_valid(head, other)


@pytest.mark.parametrize(
    "change",
    [
        {"tree_size": 4},
        {"root": "00" * 32},
        {"ocid": "ocds-000000-2026-000002"},
        {"timestamp": "2026-12-27T10:00:01.006305Z"},
    ],
)
def test_any_changed_field_breaks_the_signature(
    platform_key: Ed25519PrivateKey, change: dict[str, object]
) -> None:
    """A head whose tree size, root, tender or time was changed no longer verifies."""
    head = tree_heads.sign_head(OCID, 3, ROOT, MOMENT, platform_key)
    forged = head.model_copy(update=change)
    assert not tree_heads.head_valid(forged, keys.raw_public(platform_key))


def test_times_in_other_zones_are_written_in_utc(platform_key: Ed25519PrivateKey) -> None:
    """One instant has one text: a time given in another zone is signed as UTC with a Z."""
    local = MOMENT.astimezone(timezone(timedelta(hours=2)))
    head = tree_heads.sign_head(OCID, 1, ROOT, local, platform_key)
    assert head.timestamp == "2026-12-27T10:00:00.006305Z"


def test_without_an_authority_the_head_says_the_time_is_the_platforms_alone(
    platform_key: Ed25519PrivateKey,
) -> None:
    """With no time-stamping authority the served head has tsa and token null and says so."""
    served = tree_heads.sign_head(OCID, 1, ROOT, MOMENT, platform_key).model_dump(mode="json")
    assert served["tsa"] is None
    assert served["timestamp_token"] is None
    assert served["time_source"] == PLATFORM_CLOCK_ONLY
    assert "platform's word alone" in PLATFORM_CLOCK_ONLY


def test_the_served_head_reads_back_and_still_verifies(platform_key: Ed25519PrivateKey) -> None:
    """The JSON served (signature and token in base64) parses back into a valid head."""
    head = tree_heads.sign_head(
        OCID, 2, ROOT, MOMENT, platform_key, b"token-bytes", "http://tsa.example/"
    )
    served = json.loads(head.model_dump_json())
    assert served["signature"] == base64.b64encode(head.signature).decode()
    assert served["timestamp_token"] == base64.b64encode(b"token-bytes").decode()
    assert served["time_source"] == TSA_TIME_STAMP
    assert served["purpose"] == "procurement-bid-log-head/1"
    again = SignedTreeHead.model_validate(served)
    assert again == head
    assert tree_heads.head_valid(again, keys.raw_public(platform_key))


def test_a_token_without_its_authority_or_a_wrong_source_is_refused(
    platform_key: Ed25519PrivateKey,
) -> None:
    """A head cannot claim an authority's time without naming it, or a source it has not."""
    served = tree_heads.sign_head(OCID, 1, ROOT, MOMENT, platform_key).model_dump(mode="json")
    with pytest.raises(ValidationError):
        SignedTreeHead.model_validate({**served, "timestamp_token": "dG9rZW4="})
    with pytest.raises(ValidationError):
        SignedTreeHead.model_validate({**served, "time_source": TSA_TIME_STAMP})


def test_a_time_stamp_can_be_added_after_signing(platform_key: Ed25519PrivateKey) -> None:
    """The token is over the signed JSON, not the signature, so it is added to a signed head
    without signing again, and the head stays valid."""
    head = tree_heads.sign_head(OCID, 1, ROOT, MOMENT, platform_key)
    stamped = tree_heads.with_time_stamp(head, b"token", "http://tsa.example/")
    assert stamped.timestamp_token == b"token"
    assert stamped.tsa == "http://tsa.example/"
    assert stamped.time_source == TSA_TIME_STAMP
    assert tree_heads.head_valid(stamped, keys.raw_public(platform_key))
    assert tree_heads.message_imprint(stamped) == tree_heads.message_imprint(head)


def test_the_openapi_schema_bounds_the_base64_text(platform_key: Ed25519PrivateKey) -> None:
    """The schema's signature pattern matches a real signature's base64 and nothing shorter;
    the token's text is bounded by the base64 length of its byte limit."""
    schema = SignedTreeHead.model_json_schema(mode="serialization")["properties"]
    head = tree_heads.sign_head(OCID, 1, ROOT, MOMENT, platform_key)
    pattern = re.compile(schema["signature"]["pattern"])
    assert pattern.match(base64.b64encode(head.signature).decode())
    assert not pattern.match(base64.b64encode(head.signature[:63]).decode())
    token = next(s for s in schema["timestamp_token"]["anyOf"] if s.get("type") == "string")
    assert token["maxLength"] == len(base64.b64encode(bytes(16 * 1024)))


def test_the_documented_example_head_is_real(platform_key: Ed25519PrivateKey) -> None:
    """The worked example of docs/sealed-bids.md (example key 0x2a * 32, the example tender's
    sealed root at its deadline): its imprint and signature are what the code makes."""
    head = tree_heads.sign_head(OCID, 1, ROOT, datetime(2026, 12, 27, 10, tzinfo=UTC), platform_key)
    imprint = "cc6ee2f87bd453cb0b2e66fd9381afae1b44b627b05c9f656d944641933bcef8"
    assert tree_heads.message_imprint(head).hex() == imprint
    assert base64.b64encode(head.signature).decode() == (
        "hNStsUbggIAawb7SriInVqee42LEYYSdvaQI/RXudzsCogZtbMxjR4yEGWpQwfCwWAtgp6BH20t2jrIHcInGAA=="
    )
    assert head.key_id == "b600306cfa76723f"
