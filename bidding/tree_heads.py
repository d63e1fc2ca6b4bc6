"""Signed heads of a tender's bid log: pure signing and checking (no I/O).

The signed bytes are the canonical JSON (``bidding.keys``) of ``{"purpose":
"procurement-bid-log-head/1", "ocid", "tree_size", "root", "timestamp"}``. An RFC 3161
time-stamp, when an authority is configured, is over the SHA-256 of those same bytes
(``message_imprint``), so it can be added after signing and checked by anyone.
"""

import hashlib
from datetime import UTC, datetime
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from bidding import keys
from schemas.bids import Receipt
from schemas.tree_heads import (
    HEAD_PURPOSE,
    PLATFORM_CLOCK_ONLY,
    TSA_TIME_STAMP,
    SignedTreeHead,
)


def rfc3339(moment: datetime) -> str:
    """UTC with microseconds and a ``Z``: one text per instant."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _fields(ocid: str, tree_size: int, root_hex: str, timestamp: str) -> dict[str, Any]:
    return {"ocid": ocid, "root": root_hex, "timestamp": timestamp, "tree_size": tree_size}


def _head_fields(head: SignedTreeHead) -> dict[str, Any]:
    return _fields(head.ocid, head.tree_size, head.root, head.timestamp)


def signed_json(head: SignedTreeHead) -> bytes:
    """The exact bytes the platform signed (purpose included)."""
    return keys.signed_message(HEAD_PURPOSE, _head_fields(head))


def message_imprint(head: SignedTreeHead) -> bytes:
    """What an RFC 3161 time-stamp of this head covers: the SHA-256 of its signed JSON."""
    return hashlib.sha256(signed_json(head)).digest()


def sign_head(
    ocid: str,
    tree_size: int,
    root: bytes,
    timestamp: datetime,
    platform_key: Ed25519PrivateKey,
    timestamp_token: bytes | None = None,
    tsa: str | None = None,
) -> SignedTreeHead:
    text = rfc3339(timestamp)
    fields = _fields(ocid, tree_size, root.hex(), text)
    return SignedTreeHead(
        ocid=ocid,
        tree_size=tree_size,
        root=root.hex(),
        timestamp=text,
        key_id=keys.key_id(keys.raw_public(platform_key)),
        signature=keys.sign(platform_key, HEAD_PURPOSE, fields),
        timestamp_token=timestamp_token,
        tsa=tsa,
        time_source=TSA_TIME_STAMP if timestamp_token is not None else PLATFORM_CLOCK_ONLY,
    )


def with_time_stamp(head: SignedTreeHead, token: bytes, tsa: str) -> SignedTreeHead:
    """The same signed head with an authority's time-stamp token over its signed JSON."""
    return SignedTreeHead.model_validate(
        {**head.model_dump(), "timestamp_token": token, "tsa": tsa, "time_source": TSA_TIME_STAMP}
    )


def head_valid(head: SignedTreeHead, platform_key: bytes) -> bool:
    """True only when ``platform_key`` (raw Ed25519) is the key named and its signature holds.
    The time-stamp token, if any, is checked apart (``bidding.timestamps``)."""
    return head.key_id == keys.key_id(platform_key) and keys.verify(
        platform_key, head.signature, HEAD_PURPOSE, _head_fields(head)
    )


class HeadNotVerified(ValueError):
    """A signed head does not prove what it is offered for; the message says why."""


def check_head(head: SignedTreeHead, platform_key: bytes) -> None:
    if head.key_id != keys.key_id(platform_key):
        msg = f"the head is signed by key {head.key_id}, not by {keys.key_id(platform_key)}"
        raise HeadNotVerified(msg)
    if not head_valid(head, platform_key):
        raise HeadNotVerified("the head's signature is not the platform key's")


def check_receipt_head(head: SignedTreeHead, receipt: Receipt) -> None:
    """An older receipt's signed head (receipts given before positions were kept private
    came with one) is the head of its own tender's log just after its entry, signed no
    earlier than the entry was received: so the receipt's time is bound to it."""
    if receipt.log_index is None:
        msg = "the receipt names no position: check it against the sealed head instead"
        raise HeadNotVerified(msg)
    if head.ocid != receipt.ocid:
        raise HeadNotVerified(f"the head is of the log of {head.ocid}, not of {receipt.ocid}")
    if head.tree_size != receipt.log_index + 1:
        msg = f"the head has {head.tree_size} entries; entry {receipt.log_index} needs {receipt.log_index + 1}"
        raise HeadNotVerified(msg)
    if datetime.fromisoformat(head.timestamp) < receipt.received_at:
        msg = f"the head is timed {head.timestamp}, before the entry was received"
        raise HeadNotVerified(msg)
