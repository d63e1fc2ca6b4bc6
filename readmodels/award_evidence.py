"""Reading a tender's award evidence and its bid log's leaves from the event store.

The evidence is compiled on each read from the events themselves (``publication.award_evidence``),
so it is what the recorded history says, not a projection of it. The bid log's entries are
read as their receipts only: their ciphertexts are never loaded.
"""

from dataclasses import dataclass
from typing import Any

from adapters.postgres import eventstore
from bidding import receipts as leaves
from procurement import auction, evaluation, tender
from publication.award_evidence import BidLogFacts, compile_evidence
from schemas.award_evidence import AwardEvidence
from schemas.bids import Receipt
from schemas.events import BidLogSealed, BidRejected
from schemas.upcasting import read_envelope

_ENTRY_TYPES = ["BidSubmitted", "BidWithdrawn"]
_RECEIPTS = """
SELECT envelope -> 'event' -> 'receipt' AS receipt FROM events
WHERE aggregate_id = $1 AND type = ANY($2) ORDER BY sequence
"""
_OUTCOMES = """
SELECT envelope FROM events
WHERE aggregate_id = $1 AND type IN ('BidLogSealed', 'BidRejected') ORDER BY sequence
"""


class UnknownTender(LookupError):
    """No tender was published under this ocid."""


@dataclass(frozen=True)
class SealedLeaves:
    tree_size: int
    root: str
    leaves: list[str]  # hex, in log order


def bid_log_id(ocid: str) -> str:
    return f"{ocid}:bids"


async def award_evidence(pool: Any, ocid: str) -> AwardEvidence:
    """The tender's award evidence; ``UnknownTender`` if there is no such tender."""
    published = tender.replay([item.event for item in await eventstore.load(pool, ocid)])
    if published is None:
        raise UnknownTender(ocid)
    lot_ids = [lot.id for lot in published.requirements.lots]
    history = await eventstore.load(pool, evaluation.evaluation_id(ocid))  # with their times
    evaluated = [item.event for item in history]
    auctions = {
        lot_id: [e.event for e in await eventstore.load(pool, auction.auction_id(ocid, lot_id))]
        for lot_id in lot_ids
    }
    state = evaluation.replay(evaluated)
    committee = list(state.facts.committee) if state else []
    return compile_evidence(
        ocid,
        lot_ids,
        history,
        auctions,
        await _bid_log(pool, ocid),
        await _signing_keys(pool, committee),
    )


async def sealed_leaves(pool: Any, ocid: str) -> SealedLeaves | None:
    """The sealed bid log's leaf hashes, in order; None while it is not sealed (or the
    tender has no bid log). ``UnknownTender`` if there is no such tender."""
    if not await pool.fetchval(
        "SELECT EXISTS (SELECT 1 FROM events WHERE aggregate_id = $1)", ocid
    ):
        raise UnknownTender(ocid)
    log = await _bid_log(pool, ocid)
    if log.sealed is None:
        return None
    hashes = [leaves.leaf_hash(receipt).hex() for receipt in log.receipts[: log.sealed.tree_size]]
    return SealedLeaves(log.sealed.tree_size, log.sealed.root, hashes)


async def _bid_log(pool: Any, ocid: str) -> BidLogFacts:
    log_id = bid_log_id(ocid)
    rows = await pool.fetch(_RECEIPTS, log_id, _ENTRY_TYPES)
    found = [_receipt(row["receipt"]) for row in rows]
    outcomes = [read_envelope(row["envelope"]).event for row in await pool.fetch(_OUTCOMES, log_id)]
    sealed = next((e for e in outcomes if isinstance(e, BidLogSealed)), None)
    return BidLogFacts(
        receipts=found,
        sealed=sealed,
        rejected=[e for e in outcomes if isinstance(e, BidRejected)],
    )


def _receipt(stored: str | dict[str, Any]) -> Receipt:
    if isinstance(stored, str):  # json, as the events table keeps it
        return Receipt.model_validate_json(stored)
    return Receipt.model_validate(stored)


async def _signing_keys(pool: Any, members: list[str]) -> dict[str, bytes]:
    rows = await pool.fetch(
        "SELECT party_id, signing_key FROM party_keys WHERE party_id = ANY($1) AND role = 'officer'",
        members,
    )
    return {row["party_id"]: bytes(row["signing_key"]) for row in rows}
