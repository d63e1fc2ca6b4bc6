"""The award evidence of a tender: for each lot whose award is decided, everything the award
rests on, compiled from the evaluation's events, the lot's auction and the bid log.

Pure: the reader (``readmodels.award_evidence``) loads the events and the committee's keys.
What each field means and how to check it is in docs/award-evidence.md; the rules quoted
below are those of ``procurement.evaluation.scoring``, in words an outsider can recompute.

**Labels.** An auction's bidders are named ``Bidder 1`` .. ``Bidder n`` in the order of its
participants as scheduled (``AuctionScheduled.participants``); which label is which bidder
is revealed once the auction is closed or cancelled.
"""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from procurement import evaluation
from procurement.evaluation import Evaluation, LotStatus
from publication.award_evidence.auction import auction_evidence, auction_labels
from publication.award_evidence.bids import opened_bid, unopened_bid
from publication.award_evidence.ranking import award_made, ranking
from publication.award_evidence.rules import (
    ABNORMALLY_LOW_RULE,
    ROUNDING,
    SCORE_FORMULA,
    TIE_BREAK,
    rules_of,
)
from publication.award_evidence.trail import LotTrail, cancellations, latest_scores, trails
from schemas.award_evidence import (
    AwardEvidence,
    BidLogHead,
    Cancellation,
    DecidedLot,
    Loss,
    PendingLot,
)
from schemas.bids import Receipt
from schemas.evaluation import QualityScored
from schemas.events import BidLogSealed, BidRejected, Envelope, Event

__all__ = [
    "ABNORMALLY_LOW_RULE",
    "ROUNDING",
    "SCORE_FORMULA",
    "TIE_BREAK",
    "BidLogFacts",
    "auction_labels",
    "compile_evidence",
    "rules_of",
]


_DECIDED = {
    LotStatus.AWARDED: "awarded",
    LotStatus.SUSPENDED: "awarded",  # a complaint is open: the award stands until ruled on
    LotStatus.CANCELLED: "cancelled",
    LotStatus.CONTRACTED: "awarded",  # the award stands, its contract concluded
}


@dataclass(frozen=True)
class BidLogFacts:
    """What the bid log holds that the evidence needs: every entry's receipt, the seal and
    the bids that could not be opened."""

    receipts: Sequence[Receipt] = ()  # every entry's, in log order
    sealed: BidLogSealed | None = None
    rejected: Sequence[BidRejected] = ()

    def leaf_indexes(self) -> dict[str, int]:
        """Each entry's leaf in the sealed tree: its place in the log. Receipts given since
        positions are kept private do not carry it (older ones do, and agree)."""
        return {receipt.bid_id: at for at, receipt in enumerate(self.receipts)}


def compile_evidence(
    ocid: str,
    lot_ids: Sequence[str],
    evaluation_history: Sequence[Event] | Sequence[Envelope],
    auction_events: Mapping[str, Sequence[Event]],
    bid_log: BidLogFacts,
    signing_keys: Mapping[str, bytes],
) -> AwardEvidence:
    """The evidence of every lot: decided lots in full, the others with their status.
    ``lot_ids`` are the tender's lots, for a tender whose evaluation has not started.
    ``evaluation_history`` is the evaluation's whole history from its first event; as
    recorded envelopes it also gives each cancellation its time."""
    evaluation_events = [
        item.event if isinstance(item, Envelope) else item for item in evaluation_history
    ]
    state = evaluation.replay(evaluation_events)
    if state is None:
        return AwardEvidence(
            ocid=ocid, lots=tuple(PendingLot(lot_id=lot, status="not_evaluated") for lot in lot_ids)
        )
    lot_trails = trails(evaluation_events)
    ends = cancellations(evaluation_history)
    scores = latest_scores(evaluation_events)
    lots: list[DecidedLot | PendingLot] = []
    for lot_id, lot in state.lots.items():
        status = _DECIDED.get(lot.status)
        if status is None:
            lots.append(PendingLot(lot_id=lot_id, status=lot.status.value))
            continue
        lots.append(
            _decided_lot(
                state,
                lot_id,
                ends.get(lot_id) if status == "cancelled" else None,
                lot_trails.get(lot_id, LotTrail()),
                scores,
                auction_events.get(lot_id, ()),
                bid_log,
                signing_keys,
            )
        )
    return AwardEvidence(ocid=ocid, lots=tuple(lots))


def _decided_lot(
    state: Evaluation,
    lot_id: str,
    cancellation: Cancellation | None,
    trail: LotTrail,
    scores: Mapping[tuple[str, str, str, str], QualityScored],
    auction_events: Sequence[Event],
    bid_log: BidLogFacts,
    signing_keys: Mapping[str, bytes],
) -> DecidedLot:
    lot_facts = state.facts.lot(lot_id)
    assert lot_facts is not None, f"lot {lot_id} is in the evaluation, so in its facts"
    by_bid = {r.bid_id: r for r in bid_log.receipts if r.kind == "bid"}
    leaf_indexes = bid_log.leaf_indexes()
    lot_scores = [s for key, s in scores.items() if key[0] == lot_id]
    bids = [
        opened_bid(
            state,
            lot_id,
            bid,
            trail,
            lot_scores,
            by_bid.get(bid.bid_id),
            signing_keys,
            leaf_indexes.get(bid.bid_id),
        )
        for bid in state.bids.values()
        if bid.offer(lot_id) is not None
    ]
    bids += [
        unopened_bid(rejected, by_bid.get(rejected.bid_id), leaf_indexes.get(rejected.bid_id))
        for rejected in bid_log.rejected
        if lot_id in getattr(by_bid.get(rejected.bid_id), "lots", ())
    ]
    bids.sort(key=lambda bid: (bid.leaf_index is None, bid.leaf_index or 0, bid.bid_id))
    # A cancelled lot has no award and no ranking, even when it was cancelled after one.
    award = trail.award if cancellation is None else None
    sealed = bid_log.sealed
    return DecidedLot(
        lot_id=lot_id,
        status="awarded" if cancellation is None else "cancelled",
        cancellation=cancellation,
        estimated_value=lot_facts.estimated_value,
        rules=rules_of(state.facts),
        bid_log=BidLogHead(tree_size=sealed.tree_size, root=sealed.root) if sealed else None,
        bids=tuple(bids),
        auction=auction_evidence(auction_events),
        ranking=ranking(state, award, lot_scores, by_bid, leaf_indexes) if award else (),
        award=award_made(award) if award else None,
        unsuccessful=tuple(
            Loss(**loss.model_dump(include={"bid_id", "bidder_id", "reason_code", "reason"}))
            for loss in (award.unsuccessful if award else ())
        ),
    )
