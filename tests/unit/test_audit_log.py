"""The audit's checks of the platform key, the transparency log and the sealed bid log: each
passes on faithful data and fails, saying why, on an altered event or a foreign receipt."""

import base64
import hashlib
from datetime import UTC, datetime
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from bidding import keys, merkle, receipts
from schemas.bids import Receipt
from sdk.audit.bidlog import check_receipt, check_seal, sealed_log
from sdk.audit.sources import answer_file
from sdk.audit.transparency import check_aggregate, check_head, check_platform_key
from tests.unit.test_audit_sources import Answers

PLATFORM = Ed25519PrivateKey.generate()
PUBLIC = keys.raw_public(PLATFORM)
OCID = "ocds-audit-000002"


def b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode()


def receipt(index: int) -> Receipt:
    return Receipt(
        kind="bid",
        bid_id=f"b-{index}",
        ocid=OCID,
        bidder_id=f"s-{index}",
        lots=("lot-1",),
        version=1,
        ciphertext_sha256="ab" * 32,
        received_at=datetime(2026, 12, 1, 9, index, tzinfo=UTC),
        log_index=index,
    )


def world() -> dict[str, Any]:
    """A platform with a sealed bid log of three bids and a transparency log of its events."""
    bid_leaves = [receipts.leaf_hash(receipt(i)) for i in range(3)]
    bid_root = merkle.root(bid_leaves).hex()
    documents = [
        {"aggregate_id": OCID, "event_id": "e-1", "payload": {"event": {"type": "TenderPublished"}},
         "recorded_at": "2026-11-01T00:00:00.000000Z", "sequence": 1, "type": "TenderPublished"},
        {"aggregate_id": f"{OCID}:bids", "event_id": "e-2",
         "payload": {"event": {"type": "BidLogSealed", "tree_size": 3, "root": bid_root}},
         "recorded_at": "2026-12-02T00:00:00.000000Z", "sequence": 5, "type": "BidLogSealed"},
    ]  # fmt: skip
    entries = [
        {
            "aggregate_id": d["aggregate_id"],
            "event_id": d["event_id"],
            "event_sha256": hashlib.sha256(keys.canonical_json(d)).hexdigest(),
            "leaf_index": i,
            "recorded_at": d["recorded_at"],
            "sequence": d["sequence"],
            "type": d["type"],
        }
        for i, d in enumerate(documents)
    ]
    leaves = [merkle.leaf_hash(keys.canonical_json(e)) for e in entries]
    root = merkle.root(leaves).hex()
    fields = {"root": root, "timestamp": "2026-12-02T00:00:01.000000Z", "tree_size": 2}
    signature = keys.sign(PLATFORM, "procurement-transparency-head/1", fields)
    answers: dict[str, Any] = {
        "/platform/keys": {"receipt_keys": [
            {"key_id": keys.key_id(PUBLIC), "algorithm": "Ed25519", "public_key": b64(PUBLIC)}]},
        "/transparency/head": {**fields, "key_id": keys.key_id(PUBLIC), "signature": b64(signature)},
        f"/tenders/{OCID}/bid-log/leaves": {"ocid": OCID, "tree_size": 3, "root": bid_root,
                                           "leaves": [leaf.hex() for leaf in bid_leaves]},
    }  # fmt: skip
    for i, (entry, document) in enumerate(zip(entries, documents, strict=True)):
        served = {"leaf_index": i, "entry": entry, "document": document, "withheld_until": None}
        answers[f"events:{entry['aggregate_id']}"] = {"events": [served]}
        path = [h.hex() for h in merkle.inclusion_proof(leaves, i)]
        answers[f"inclusion:{i}"] = {
            "leaf_index": i,
            "tree_size": 2,
            "root": root,
            "audit_path": path,
        }
    return answers


def source(answers: dict[str, Any]) -> Answers:
    files = {}
    for key, value in answers.items():
        if key.startswith("events:"):
            files[str(answer_file("/transparency/events", {"aggregate_id": key[7:]}))] = value
        elif key.startswith("inclusion:"):
            params = {"leaf_index": int(key[10:]), "tree_size": 2}
            files[str(answer_file("/transparency/inclusion", params))] = value
        else:
            files[str(answer_file(key))] = value
    return Answers(files)


def test_a_faithful_log_verifies() -> None:
    """The key, the head's signature, each event's inclusion and document, and the seal."""
    answers = world()
    key_check, key = check_platform_key(answers["/platform/keys"])
    head_check, head = check_head(answers["/transparency/head"], key)
    assert key_check.ok, key_check
    assert head_check.ok, head_check
    tender, _ = check_aggregate(source(answers), OCID, head)
    bids, logged = check_aggregate(source(answers), f"{OCID}:bids", head)
    assert tender.ok, tender
    assert bids.ok, bids
    log = sealed_log(answers[f"/tenders/{OCID}/bid-log/leaves"])
    served_head = {"sealed_root": log.root}
    assert all(check.ok for check in check_seal(OCID, logged[0].event, log, [], served_head))
    other = check_seal(OCID, logged[0].event, log, [], {"sealed_root": "22" * 32})
    assert any("names the sealed root 2222" in check.detail for check in other if not check.ok)


def test_a_head_not_signed_by_the_platform_fails() -> None:
    """A head signed by another key is refused."""
    answers = world()
    answers["/transparency/head"]["tree_size"] = 3
    check, head = check_head(answers["/transparency/head"], PUBLIC)
    assert not check.ok
    assert head is None
    assert "does not verify" in check.detail


def test_an_altered_event_document_fails() -> None:
    """A document rewritten after it was logged no longer hashes to its entry's digest."""
    answers = world()
    document = answers[f"events:{OCID}:bids"]["events"][0]["document"]
    document["payload"]["event"]["root"] = "11" * 32
    _, head = check_head(answers["/transparency/head"], PUBLIC)
    check, _ = check_aggregate(source(answers), f"{OCID}:bids", head)
    assert not check.ok
    assert "event altered" in check.detail


def test_an_entry_not_in_the_signed_tree_fails() -> None:
    """An entry whose fields were changed is not included in the signed tree."""
    answers = world()
    answers[f"events:{OCID}"]["events"][0]["entry"]["type"] = "TenderCancelled"
    _, head = check_head(answers["/transparency/head"], PUBLIC)
    check, _ = check_aggregate(source(answers), OCID, head)
    assert not check.ok
    assert "not included in the signed tree" in check.detail


def test_a_sealed_root_other_than_the_logged_one_fails() -> None:
    """The leaves served must hash to the root the BidLogSealed event logged."""
    answers = world()
    leaves = answers[f"/tenders/{OCID}/bid-log/leaves"]
    leaves["leaves"] = leaves["leaves"][:2]
    logged = {"tree_size": 3, "root": leaves["root"]}
    head = {"sealed_root": leaves["root"]}
    checks = check_seal(OCID, logged, sealed_log(leaves), [], head)
    problems = [c.detail for c in checks if not c.ok]
    assert problems == ["2 leaves served for a tree of 3, or not hex"]


def test_a_kept_receipt_verifies_and_one_not_in_the_tree_fails() -> None:
    """A bidder's receipt is the platform's and a leaf of the sealed log; another is not."""
    log = sealed_log(world()[f"/tenders/{OCID}/bid-log/leaves"])
    good = receipts.sign_receipt(receipt(1), PLATFORM).model_dump(mode="json")
    assert check_receipt("r1.json", good, PUBLIC, log).ok
    foreign = receipt(1).model_copy(update={"bid_id": "b-9"})
    outside = receipts.sign_receipt(foreign, PLATFORM).model_dump(mode="json")
    check = check_receipt("r9.json", outside, PUBLIC, log)
    assert not check.ok
    assert "not leaf 1 of the sealed log" in check.detail
    forged = receipts.sign_receipt(receipt(1), Ed25519PrivateKey.generate())
    check = check_receipt("forged.json", forged.model_dump(mode="json"), PUBLIC, log)
    assert not check.ok
    assert "not the platform key's" in check.detail
