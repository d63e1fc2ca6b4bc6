"""Nothing about the bids is public before the deadline (Directive 2014/24/EU Art. 22(3)),
in the pure core: a receipt names no position, yet binds the platform to its leaf and is
placed in the sealed tree afterwards; older receipts with a position stay verifiable; and a
confirmation recorded once bids are taken waits for the log's close in the transparency log."""

import hashlib
import json
from datetime import UTC, datetime, timedelta

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from bidding import keys, merkle, receipts, tree_heads, verify
from publication import transparency
from schemas.bids import Receipt
from schemas.events import BidSubmitted, BidWithdrawn

PLATFORM_KEY = Ed25519PrivateKey.generate()
PLATFORM = keys.raw_public(PLATFORM_KEY)
NOW = datetime(2030, 3, 1, 9, 0, tzinfo=UTC)
OCID = "ocds-000000-2030-000001"


def receipt(n: int, log_index: int | None = None) -> Receipt:
    return Receipt(
        kind="bid",
        bid_id=f"bid-{n:032x}",
        ocid=OCID,
        bidder_id=f"supplier-RO-CUI-{n}",
        lots=("lot-1",),
        version=1,
        ciphertext_sha256=hashlib.sha256(bytes([n])).hexdigest(),
        received_at=NOW + timedelta(seconds=n),
        log_index=log_index,
    )


def sealed_log(entries: list[Receipt]) -> tuple[list[bytes], bytes]:
    leaves = [receipts.leaf_hash(entry) for entry in entries]
    return leaves, merkle.root(leaves)


def proof(leaves: list[bytes], index: int) -> dict[str, object]:
    return {
        "leaf_index": index,
        "tree_size": len(leaves),
        "root": merkle.root(leaves).hex(),
        "audit_path": [h.hex() for h in merkle.inclusion_proof(leaves, index)],
    }


def test_a_receipt_names_no_position_in_its_json_its_leaf_or_its_signature() -> None:
    """A receipt without a position has no ``log_index`` at all, not even null: the bidder's
    JSON, the leaf anyone computes from it and what the platform signed are the same bytes
    whether one or a thousand bids came before it."""
    signed = receipts.sign_receipt(receipt(1), PLATFORM_KEY)
    published = json.loads(signed.model_dump_json())
    assert "log_index" not in published["receipt"]
    data = json.dumps(published["receipt"], sort_keys=True, separators=(",", ":")).encode()
    assert receipts.leaf_hash(signed.receipt) == hashlib.sha256(b"\x00" + data).digest()
    verify.check_receipt(signed, PLATFORM)
    reread = type(signed).model_validate_json(signed.model_dump_json())
    assert reread == signed


def test_a_receipt_is_placed_in_the_sealed_tree_by_the_proof_of_its_leaf() -> None:
    """After the seal a receipt verifies against the sealed root at the leaf where it is;
    a proof for another leaf, or against another root, does not pass."""
    entries = [receipt(n) for n in range(5)]
    leaves, root = sealed_log(entries)
    signed = receipts.sign_receipt(entries[3], PLATFORM_KEY)
    verify.check_inclusion(signed, proof(leaves, 3), root.hex(), 5)
    with pytest.raises(verify.NotVerified):
        verify.check_inclusion(signed, proof(leaves, 2), root.hex(), 5)
    with pytest.raises(verify.NotVerified):
        verify.check_inclusion(signed, proof(leaves, 3), "ab" * 32, 5)
    with pytest.raises(verify.NotVerified, match="names no leaf"):
        verify.check_inclusion(signed, proof(leaves, 3) | {"leaf_index": None}, root.hex(), 5)


def test_an_older_receipt_with_its_position_stays_verifiable() -> None:
    """A receipt given before positions were kept private keeps its position in its leaf
    and signature: it still verifies, only at its own leaf, and with its own signed head."""
    entries = [receipt(n, log_index=n) for n in range(3)]
    leaves, root = sealed_log(entries)
    signed = receipts.sign_receipt(entries[1], PLATFORM_KEY)
    assert json.loads(signed.model_dump_json())["receipt"]["log_index"] == 1
    verify.check_receipt(signed, PLATFORM)
    verify.check_inclusion(signed, proof(leaves, 1), root.hex(), 3)
    moved = proof(leaves, 2)
    with pytest.raises(verify.NotVerified, match="the receipt is entry 1"):
        verify.check_inclusion(signed, moved, root.hex(), 3)
    head = tree_heads.sign_head(
        OCID, 2, merkle.root(leaves[:2]), NOW + timedelta(seconds=9), PLATFORM_KEY
    )
    tree_heads.check_receipt_head(head, signed.receipt)


def test_a_head_offered_with_a_receipt_that_names_no_position_is_refused_with_a_reason() -> None:
    """A signed head proves nothing of a receipt without a position: it is refused, saying
    to check the receipt against the sealed head."""
    head = tree_heads.sign_head(OCID, 1, b"\x00" * 32, NOW, PLATFORM_KEY)
    with pytest.raises(tree_heads.HeadNotVerified, match="names no position"):
        tree_heads.check_receipt_head(head, receipt(1))


def test_an_entry_keeps_its_position_with_the_event_and_older_ones_in_their_receipt() -> None:
    """The position the opening and the store order by: the event's own, or an older
    event's receipt's."""
    signature = b"\x01" * 64
    new = BidWithdrawn(receipt=receipt(1), log_index=7, signature=signature)
    old = BidWithdrawn(receipt=receipt(1, log_index=4), signature=signature)
    assert (new.position, old.position) == (7, 4)
    assert "log_index" not in new.model_dump(mode="json")["receipt"]
    assert BidSubmitted.model_fields["log_index"].default is None


def test_a_confirmation_once_bids_are_taken_waits_for_the_close_in_the_transparency_log() -> None:
    """A confirmation recorded once k members had confirmed (bids may come from then on)
    would count them by its sequence number, and tell whether there are any by being logged
    at once or not: it is held until the log's seal or its tender's cancellation, which
    release it, whether or not anyone bid. Before that no bid can exist: logged at once."""
    assert transparency.held_until_the_close("CommitteeConfirmed", taking_bids=True)
    assert not transparency.held_until_the_close("CommitteeConfirmed", taking_bids=False)
    assert not transparency.held_until_the_close("CommitteeNamed", taking_bids=False)
    assert not transparency.held_until_the_close("BidLogSealed", taking_bids=True)
    assert transparency.bid_log_closed_by(f"{OCID}:bids", "BidLogSealed") == f"{OCID}:bids"
    assert transparency.bid_log_closed_by(OCID, "TenderCancelled") == f"{OCID}:bids"
    assert transparency.bid_log_closed_by(OCID, "TenderAmended") is None
    assert not transparency.is_logged("BidSubmitted")
    assert not transparency.is_logged("BidWithdrawn")
