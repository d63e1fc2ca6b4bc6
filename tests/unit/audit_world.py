"""A platform's public record made with its own pure code, served as its public routes
answer, for the audit's tests: a procedure's events in a transparency log with a signed
head and proofs, the sealed bid log's leaves, the award evidence, the committee keys, and
the committee's key material confirmed by its members with their entries in the key log."""

import base64
import hashlib
from collections.abc import Sequence
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from bidding import committee_material, keys, merkle, receipts
from publication.award_evidence import BidLogFacts, compile_evidence
from schemas.base import Event
from schemas.bids import Receipt
from schemas.committee import CommitteeMaterial
from schemas.evaluation import OpenedBid
from schemas.events import BidLogSealed
from sdk.audit.sources import Params, Unavailable, answer_file
from tests.unit.evaluation_examples import LOT, MEMBER_KEYS, OCID
from tests.unit.test_key_checks import KeyLogWorld, Member

PLATFORM = Ed25519PrivateKey.generate()
PUBLIC = keys.raw_public(PLATFORM)


def b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode()


class Record:
    """The answers of the public routes, by file name; ``get`` serves them."""

    def __init__(self) -> None:
        self.answers: dict[str, Any] = {}
        self.documents: list[dict[str, Any]] = []

    def get(self, path: str, params: Params | None = None) -> Any:
        key = str(answer_file(path, params))
        if key not in self.answers:
            raise Unavailable(f"GET {path}: 404")
        return self.answers[key]

    def serve(self, path: str, answer: Any, params: Params | None = None) -> None:
        self.answers[str(answer_file(path, params))] = answer

    def log(
        self, aggregate_id: str, events: Sequence[Event | dict[str, Any]], first: int = 1
    ) -> None:
        for sequence, event in enumerate(events, first):
            body = event if isinstance(event, dict) else event.model_dump(mode="json")
            at = f"2030-05-04T10:00:{len(self.documents):02d}.000000Z"
            payload = {"aggregate_id": aggregate_id, "sequence": sequence, "event": body}
            self.documents.append(
                {
                    "aggregate_id": aggregate_id,
                    "event_id": f"{aggregate_id}/{sequence}",
                    "payload": {**payload, "occurred_at": at},
                    "recorded_at": at,
                    "sequence": sequence,
                    "type": body["type"],
                }
            )

    def publish_log(self) -> None:
        """Entries, the signed head, the events by aggregate and every inclusion proof."""
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
            for i, d in enumerate(self.documents)
        ]
        leaves = [merkle.leaf_hash(keys.canonical_json(e)) for e in entries]
        size, root = len(leaves), merkle.root(leaves).hex()
        fields = {"root": root, "timestamp": "2030-05-04T11:00:00.000000Z", "tree_size": size}
        signature = keys.sign(PLATFORM, "procurement-transparency-head/1", fields)
        key_id = keys.key_id(PUBLIC)
        self.serve("/transparency/head", {**fields, "key_id": key_id, "signature": b64(signature)})
        key = {"key_id": key_id, "algorithm": "Ed25519", "public_key": b64(PUBLIC)}
        self.serve("/platform/keys", {"receipt_keys": [key]})
        by_aggregate: dict[str, list[Any]] = {}
        for i, (entry, document) in enumerate(zip(entries, self.documents, strict=True)):
            served = {
                "leaf_index": i,
                "entry": entry,
                "leaf_hash": leaves[i].hex(),
                "document": document,
                "withheld_until": None,
            }
            by_aggregate.setdefault(entry["aggregate_id"], []).append(served)
            proof = [h.hex() for h in merkle.inclusion_proof(leaves, i)]
            answer = {"leaf_index": i, "tree_size": size, "root": root, "audit_path": proof}
            self.serve("/transparency/inclusion", answer, {"leaf_index": i, "tree_size": size})
        procedures: dict[str, list[str]] = {}
        for aggregate_id in by_aggregate:
            procedures.setdefault(aggregate_id.split(":")[0], []).append(aggregate_id)
        for ocid, aggregates in procedures.items():
            self.serve(f"/transparency/procedures/{ocid}", {"ocid": ocid, "aggregates": aggregates})
        for aggregate_id, events in by_aggregate.items():
            params = {"aggregate_id": aggregate_id}
            self.serve(
                "/transparency/events", {"aggregate_id": aggregate_id, "events": events}, params
            )


def receipt_of(opened: OpenedBid, index: int) -> Receipt:
    return Receipt(
        kind="bid",
        bid_id=opened.bid_id,
        ocid=OCID,
        bidder_id=opened.bidder_id,
        lots=opened.lot_ids,
        version=1,
        ciphertext_sha256=f"{index:064x}",
        received_at=opened.received_at,
        log_index=index,
    )


def bid_opened(opened: OpenedBid) -> dict[str, Any]:
    """The parts of a BidOpened event the audit reads: who, and the prices offered."""
    offers = [{"lot_id": o.lot_id, "price": o.price.model_dump(mode="json")} for o in opened.offers]
    return {
        "type": "BidOpened",
        "bid_id": opened.bid_id,
        "bidder_id": opened.bidder_id,
        "version": 1,
        "content": {"ocid": OCID, "bidder_id": opened.bidder_id, "offers": offers},
    }


def kept_receipts(bids: Sequence[OpenedBid]) -> list[Any]:
    """Each bidder's signed receipt, as the bidder keeps it."""
    return [
        receipts.sign_receipt(receipt_of(b, i), PLATFORM).model_dump(mode="json")
        for i, b in enumerate(bids)
    ]


def record_of(
    bids: Sequence[OpenedBid],
    evaluation: Sequence[Event],
    auctions: dict[str, Sequence[Event]] | None = None,
) -> Record:
    """The public record of a procedure whose evaluation recorded ``evaluation``."""
    record = Record()
    entries = [receipt_of(b, i) for i, b in enumerate(bids)]
    leaves = [receipts.leaf_hash(r) for r in entries]
    sealed = BidLogSealed(tree_size=len(entries), root=merkle.root(leaves).hex())
    members = {m: keys.raw_public(k) for m, k in MEMBER_KEYS.items()}
    log = BidLogFacts(receipts=entries, sealed=sealed, rejected=())
    evidence = compile_evidence(OCID, [LOT], evaluation, auctions or {}, log, members)
    record.serve(f"/tenders/{OCID}/award-evidence", evidence.model_dump(mode="json"))
    leaves_answer = {"ocid": OCID, "tree_size": len(leaves), "root": sealed.root}
    record.serve(f"/tenders/{OCID}/bid-log/leaves", {**leaves_answer, "leaves": [h.hex() for h in leaves]})  # fmt: skip
    bid_log = {"ocid": OCID, "tree_size": len(leaves), "root": sealed.root, "sealed": True}
    record.serve(f"/tenders/{OCID}/bid-log", bid_log | {"sealed_root": sealed.root})
    for member, public in members.items():
        record.serve(f"/officers/{member}/committee-keys", {"signing_key": b64(public)})
    serve_committee(record)
    record.log(OCID, [{"type": "TenderPublished"}])
    opening = {"type": "BidsOpened", "opened": len(bids), "rejected": 0}
    logged: list[Event | dict[str, Any]] = [sealed, *(bid_opened(b) for b in bids), opening]
    record.log(f"{OCID}:bids", logged, first=len(bids) + 2)
    record.log(f"{OCID}:evaluation", evaluation)
    for lot_id, events in (auctions or {}).items():
        record.log(f"{OCID}:auction:{lot_id}", events)
    record.publish_log()
    return record


def serve_committee(record: Record) -> None:
    """Every member of ``MEMBER_KEYS`` on the committee, k = 2, each confirming it, and each
    one's keys logged under heads the platform key signs."""
    members = [Member(officer_id, MEMBER_KEYS[officer_id]) for officer_id in sorted(MEMBER_KEYS)]
    world = KeyLogWorld(members)
    world.platform = world.head_signer = PLATFORM
    material = CommitteeMaterial.model_validate(
        {
            "ocid": OCID,
            "suite": "x25519",
            "threshold": 2,
            "members": [
                {
                    "officer_id": m.officer_id,
                    "encryption_key": b64(m.public[0]),
                    "signing_key": b64(m.public[1]),
                }
                for m in members
            ],
        }
    )
    confirmations = [committee_material.confirm(material, m.officer_id, m.signing) for m in members]
    record.serve(
        f"/tenders/{OCID}/committee", committee_material.public_view(material, confirmations)
    )
    for member in members:
        path = f"/transparency/keys/{member.officer_id}"
        record.serve(path, world.get(path))
