"""The worked examples in docs/sealed-bids.md are what the published algorithms compute: the
platform key's id, a receipt's leaf and signature, the transparency log's event document,
entries, root, audit path and signed head. A reader who recomputes them gets these bytes."""

import base64
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from uuid import UUID

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from bidding import keys, merkle, receipts
from publication import transparency
from schemas.bids import Receipt
from schemas.events import BidLogSealed, TenderClosed, envelope

DOC = Path(__file__).parents[2] / "docs" / "sealed-bids.md"
OCID = "ocds-000000-2026-000001"
# The example platform key: the Ed25519 key whose 32-byte seed is 0x2a repeated. Never use it.
EXAMPLE_KEY = Ed25519PrivateKey.from_private_bytes(bytes([0x2A]) * 32)
RECEIPT = Receipt(
    kind="bid",
    bid_id="bid-0b1c",
    ocid=OCID,
    bidder_id="supplier-RO-CUI-14399840",
    lots=("lot-1",),
    version=1,
    ciphertext_sha256="9f" * 32,
    material_sha256="7e" * 32,
    shares_sha256="5a" * 32,
    received_at=datetime(2026, 11, 26, 21, 39, 15, 386089, tzinfo=UTC),
)  # no log_index: a receipt names no position (older receipts kept one)
DEADLINE = datetime(2026, 12, 27, 10, 0, tzinfo=UTC)


def _document(event: Any, aggregate_id: str, sequence: int, event_id: str, at: str) -> Any:
    stored = envelope(
        event,
        event_id=UUID(event_id),
        aggregate_id=aggregate_id,
        sequence=sequence,
        actor="deadline-service",
        occurred_at=DEADLINE,
    )
    payload = json.loads(stored.model_dump_json())
    return transparency.event_document(aggregate_id, event_id, sequence, event.type, at, payload)


def examples() -> dict[str, Any]:
    """Every value the page shows, computed."""
    public = keys.raw_public(EXAMPLE_KEY)
    signed = receipts.sign_receipt(RECEIPT, EXAMPLE_KEY)
    leaf = receipts.leaf_hash(RECEIPT)
    closed = _document(
        TenderClosed(submission_deadline=DEADLINE),
        OCID,
        2,
        "0e4d9a3c-6f1b-4c2e-9a57-3b8f1d2c4e60",
        "2026-12-27T10:00:00.004210Z",
    )
    sealed = _document(
        BidLogSealed(tree_size=1, root=leaf.hex()),
        f"{OCID}:bids",
        3,
        "7a1f3e52-93c4-4d8b-b2e6-5c0d9f4a8e17",
        "2026-12-27T10:00:00.006305Z",
    )
    entries = [transparency.entry_for(i, doc) for i, doc in enumerate((closed, sealed))]
    leaves = [entry.leaf_hash() for entry in entries]
    root = merkle.root(leaves)
    head = transparency.sign_head(
        EXAMPLE_KEY, 2, root, datetime(2026, 12, 27, 10, 0, 1, 500000, tzinfo=UTC)
    )
    return {
        "public_key": base64.b64encode(public).decode(),
        "key_id": keys.key_id(public),
        "receipt_leaf_data": receipts.leaf_data(RECEIPT).decode(),
        "receipt_leaf_hash": leaf.hex(),
        "receipt_signature": base64.b64encode(signed.signature).decode(),
        "documents": [keys.canonical_json(doc).decode() for doc in (closed, sealed)],
        "event_sha256": [entry.event_sha256 for entry in entries],
        "entry_leaf_data": [entry.leaf_data().decode() for entry in entries],
        "entry_leaf_hash": [h.hex() for h in leaves],
        "root": root.hex(),
        "audit_path": [h.hex() for h in merkle.inclusion_proof(leaves, 1)],
        "head_signed": keys.canonical_json(
            {"purpose": transparency.HEAD_PURPOSE, **head.fields()}
        ).decode(),
        "head_signature": base64.b64encode(head.signature).decode(),
    }


def flattened(value: Any) -> list[str]:
    if isinstance(value, dict):
        return [text for item in value.values() for text in flattened(item)]
    if isinstance(value, list):
        return [text for item in value for text in flattened(item)]
    return [str(value)]


def test_every_value_of_the_worked_examples_is_on_the_page() -> None:
    """Each hash, key, leaf, document and signature the page shows is recomputed here."""
    page = DOC.read_text(encoding="utf-8")
    missing = [text for text in flattened(examples()) if text not in page]
    assert missing == []


def test_the_example_head_and_receipt_verify_with_the_example_key() -> None:
    """The signatures shown check out against the public key shown, as a verifier would."""
    shown = examples()
    public = base64.b64decode(shown["public_key"])
    head_fields = json.loads(shown["head_signed"])
    head_fields.pop("purpose")
    assert keys.verify(
        public,
        base64.b64decode(shown["head_signature"]),
        transparency.HEAD_PURPOSE,
        head_fields,
    )
    assert merkle.root([bytes.fromhex(h) for h in shown["entry_leaf_hash"]]).hex() == shown["root"]


if __name__ == "__main__":
    print(json.dumps(examples(), indent=1, ensure_ascii=False))
