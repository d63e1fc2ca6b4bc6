"""The sealed bid log: its root against the ``BidLogSealed`` event, its leaves against its
root, each opened bid's receipt as its leaf, and the receipts bidders kept.

A receipt's leaf is ``SHA-256(0x00 || canonical JSON of the receipt object)`` (RFC 9162, see
docs/sealed-bids.md); the sealed tree is the RFC 9162 tree over the leaves in log order.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pydantic import ValidationError

from bidding import keys, merkle, receipts
from schemas.bids import SignedReceipt
from sdk.audit.model import DecidedLot
from sdk.audit.report import Check, failed, outcome, passed


@dataclass(frozen=True)
class SealedLog:
    """The bid log's leaves as served at ``/tenders/{ocid}/bid-log/leaves``."""

    tree_size: int
    root: str
    leaves: tuple[str, ...]


def sealed_log(answer: Any) -> SealedLog:
    return SealedLog(
        tree_size=int(answer["tree_size"]),
        root=str(answer["root"]),
        leaves=tuple(str(leaf) for leaf in answer["leaves"]),
    )


def check_seal(
    ocid: str,
    sealed_event: dict[str, Any] | None,
    log: SealedLog,
    lots: Sequence[DecidedLot],
    served_head: Any = None,
) -> list[Check]:
    """The root sealed at the deadline, as logged, is the root of the served leaves, the
    ``sealed_root`` of ``GET /tenders/{ocid}/bid-log`` (``served_head``) and the head every
    decided lot's evidence names."""
    subject = f"{ocid} bid log"
    checks = []
    if sealed_event is None:
        checks.append(failed(f"{subject}: seal", "no BidLogSealed event is logged for the tender"))
    else:
        logged = (sealed_event.get("tree_size"), sealed_event.get("root"))
        problems = []
        if logged != (log.tree_size, log.root):
            problems.append(
                f"the BidLogSealed event seals {logged[0]} entries with root {logged[1]}, "
                f"the served log {log.tree_size} with root {log.root}"
            )
        if not isinstance(served_head, dict) or served_head.get("sealed_root") != logged[1]:
            shown = served_head.get("sealed_root") if isinstance(served_head, dict) else None
            problems.append(f"GET /tenders/{ocid}/bid-log names the sealed root {shown}")
        for lot in lots:
            if (lot.sealed_tree_size, lot.sealed_root) != logged:
                problems.append(
                    f"lot {lot.lot_id}'s evidence names the head {lot.sealed_tree_size} "
                    f"{lot.sealed_root}, not the sealed one"
                )
        verified = f"sealed root {log.root} of {log.tree_size} entries, as logged"
        checks.append(outcome(f"{subject}: seal", problems, verified))
    leaves = _hashes(log.leaves)
    if leaves is None or len(leaves) != log.tree_size:
        detail = f"{len(log.leaves)} leaves served for a tree of {log.tree_size}, or not hex"
        checks.append(failed(f"{subject}: leaves", detail))
    elif merkle.root(leaves).hex() != log.root:
        detail = (
            f"the {log.tree_size} leaves served hash to {merkle.root(leaves).hex()}, not {log.root}"
        )
        checks.append(failed(f"{subject}: leaves", detail))
    else:
        checks.append(
            passed(f"{subject}: leaves", f"{log.tree_size} leaves hash to the sealed root")
        )
    return checks


def check_opened_bids(lot: DecidedLot, log: SealedLog) -> Check:
    """Each opened bid of the lot is a bid entry of the sealed log: its receipt is its leaf,
    at its index, for this tender, bidder and lot, received when the evidence says."""
    problems = []
    for bid in lot.bids:
        what = f"bid {bid.bid_id}"
        receipt = bid.receipt
        if receipt is None or bid.leaf_index is None or bid.leaf_hash is None:
            problems.append(f"{what} has no receipt, leaf index or leaf hash")
            continue
        leaf = merkle.leaf_hash(keys.canonical_json(receipt)).hex()
        index = bid.leaf_index
        if leaf != bid.leaf_hash:
            problems.append(f"{what}: its receipt hashes to {leaf}, not the leaf {bid.leaf_hash}")
        if not 0 <= index < len(log.leaves) or log.leaves[index] != leaf:
            problems.append(f"{what}: its receipt is not leaf {index} of the sealed log")
        expected = {
            "kind": "bid",
            "log_index": index,  # only older receipts name it
            "ocid": lot.ocid,
            "bid_id": bid.bid_id,
            "bidder_id": bid.bidder_id,
        }
        given = {"log_index": index} | receipt  # a receipt naming no position is at its leaf
        wrong = sorted(name for name, value in expected.items() if given.get(name) != value)
        if wrong:
            problems.append(f"{what}: its receipt differs in {', '.join(wrong)}")
        if lot.lot_id not in (receipt.get("lots") or ()):
            problems.append(f"{what}: its receipt is not for lot {lot.lot_id}")
        if bid.opened and _time(receipt.get("received_at")) != bid.received_at:
            problems.append(
                f"{what}: received at {receipt.get('received_at')} by its receipt, "
                f"{bid.received_at.isoformat()} by the evidence"
            )
    verified = f"{len(lot.bids)} bids are leaves of the sealed log, received as published"
    return outcome(f"{lot.ocid} lot {lot.lot_id}: bids in the sealed log", problems, verified)


def check_receipt(
    name: str, receipt: Any, platform_key: bytes | None, log: SealedLog | None
) -> Check:
    """A receipt a bidder kept: signed by the platform, and a leaf of the sealed log."""
    subject = f"receipt {name}"
    try:
        fields = ("receipt", "key_id", "signature")  # an API answer adds "replayed"
        kept = {name: receipt[name] for name in fields if name in receipt}
        signed = SignedReceipt.model_validate(kept)
    except (ValidationError, TypeError) as error:
        return failed(subject, f"not a signed receipt: {error}"[:300])
    problems = []
    if platform_key is None:
        problems.append("the platform key is not known, so the signature cannot be checked")
    elif not receipts.receipt_valid(signed, platform_key):
        problems.append("the signature is not the platform key's")
    # A receipt names no position (an older one does): its leaf is looked for in the log.
    index = signed.receipt.log_index
    leaf = receipts.leaf_hash(signed.receipt).hex()
    if log is None:
        problems.append(f"the sealed log of {signed.receipt.ocid} is not available to look it up")
    elif index is None:
        found = log.leaves[: log.tree_size]
        index = found.index(leaf) if leaf in found else None
        if index is None:
            problems.append(f"it is no leaf of the sealed log of {signed.receipt.ocid}")
    elif index >= log.tree_size or log.leaves[index] != leaf:
        problems.append(f"it is not leaf {index} of the sealed log of {signed.receipt.ocid}")
    what = f"{signed.receipt.kind} {signed.receipt.bid_id} of {signed.receipt.bidder_id}"
    return outcome(subject, problems, f"{what}, signed, leaf {index} of the sealed log")


def _hashes(values: Sequence[str]) -> list[bytes] | None:
    try:
        hashes = [bytes.fromhex(value) for value in values]
    except ValueError:
        return None
    return hashes if all(len(h) == merkle.HASH_BYTES for h in hashes) else None


def _time(value: Any) -> datetime | None:
    try:
        return datetime.fromisoformat(str(value))
    except ValueError:
        return None


def check_current_bids(
    ocid: str, kept: Sequence[Any], opened: set[str], rejected: set[str], opening_done: bool
) -> Check:
    """Each bidder's latest receipt given (by version: each entry of a bidder takes the next
    one), if it is a bid, was opened or rejected at the opening: a bid in the sealed log
    cannot silently drop out."""
    subject = f"{ocid} bid log: receipts' current bids at the opening"
    latest: dict[str, dict[str, Any]] = {}
    for content in kept:
        receipt = content.get("receipt") if isinstance(content, dict) else None
        if isinstance(receipt, dict) and isinstance(receipt.get("version"), int):
            bidder = str(receipt.get("bidder_id"))
            if bidder not in latest or receipt["version"] > latest[bidder]["version"]:
                latest[bidder] = receipt
    current = sorted(str(r["bid_id"]) for r in latest.values() if r.get("kind") == "bid")
    if not opening_done:
        return passed(subject, f"{len(current)} current bids await the opening")
    problems = [
        f"bid {bid_id} is its bidder's latest entry but was neither opened nor rejected"
        " (dropped, unless a later entry not given here replaced or withdrew it)"
        for bid_id in current
        if bid_id not in opened | rejected
    ]
    fates = sum(bid_id in opened for bid_id in current), sum(b in rejected for b in current)
    verified = f"{len(current)} current bids: {fates[0]} opened, {fates[1]} rejected"
    return outcome(subject, problems, verified)
