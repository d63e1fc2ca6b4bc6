"""Each bid of a lot, from its receipt in the sealed bid log to its final price: the
leaf, the opening, the qualification, the abnormally-low check and its justification, and
the committee's signed scores with each member's key."""

import base64
from collections.abc import Mapping, Sequence

from bidding import receipts as leaves
from procurement import evaluation
from procurement.evaluation import Evaluation
from publication.award_evidence.trail import LotTrail
from schemas.award_evidence import (
    AbnormallyLowCheck,
    EvidenceBid,
    OpeningOutcome,
    Qualification,
    SignedScore,
)
from schemas.bids import Receipt
from schemas.evaluation import AbnormallyLowFlagged, OpenedBid, QualityScored
from schemas.events import BidRejected
from schemas.values import Value


def _receipt_fields(receipt: Receipt | None, leaf_index: int | None) -> dict[str, object]:
    if receipt is None:
        return {"receipt": None, "leaf_index": None, "leaf_hash": None}
    return {
        "receipt": receipt,
        "leaf_index": leaf_index,
        "leaf_hash": leaves.leaf_hash(receipt).hex(),
    }


def opened_bid(
    state: Evaluation,
    lot_id: str,
    bid: OpenedBid,
    trail: LotTrail,
    lot_scores: Sequence[QualityScored],
    receipt: Receipt | None,
    signing_keys: Mapping[str, bytes],
    leaf_index: int | None,
) -> EvidenceBid:
    lot = state.lots[lot_id]
    offer = bid.offer(lot_id)
    assert offer is not None
    decision = lot.decisions.get(bid.bid_id)
    if decision is None:
        qualification = Qualification(verdict="not_decided")
    else:
        verdict = "qualified" if decision.admissible else "disqualified"
        qualification = Qualification(
            verdict=verdict, officer_id=decision.officer_id, reason=decision.reason
        )
    flag = trail.flags.get(bid.bid_id)
    final = (lot.final_prices or {}).get(bid.bid_id)
    return EvidenceBid(
        bid_id=bid.bid_id,
        bidder_id=bid.bidder_id,
        **_receipt_fields(receipt, leaf_index),
        received_at=bid.received_at,
        opening=OpeningOutcome(opened=True),
        opened_price=offer.price,
        qualification=qualification,
        abnormally_low=_check(flag) if flag else None,
        justification=trail.justifications.get(bid.bid_id) if flag else None,
        quality_scores=tuple(
            _signed(score, signing_keys) for score in lot_scores if score.bid_id == bid.bid_id
        ),
        final_price=offer.price
        if final is None
        else Value(amount=final, currency=offer.price.currency),
    )


def unopened_bid(
    rejected: BidRejected, receipt: Receipt | None, leaf_index: int | None
) -> EvidenceBid:
    return EvidenceBid(
        bid_id=rejected.bid_id,
        bidder_id=rejected.bidder_id,
        **_receipt_fields(receipt, leaf_index),
        received_at=receipt.received_at if receipt else None,
        opening=OpeningOutcome(
            opened=False, reason_code=rejected.reason_code, reason=rejected.reason
        ),
        opened_price=None,
        qualification=Qualification(verdict="not_decided"),
        abnormally_low=None,
        justification=None,
        quality_scores=(),
        final_price=None,
    )


def _check(flag: AbnormallyLowFlagged) -> AbnormallyLowCheck:
    return AbnormallyLowCheck(
        price=flag.price,
        basis=flag.basis,
        reference=flag.reference,
        share=flag.share,
        threshold=flag.threshold,
    )


def _b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode("ascii")


def _signed(score: QualityScored, signing_keys: Mapping[str, bytes]) -> SignedScore:
    key = signing_keys.get(score.officer_id)
    return SignedScore(
        criterion_id=score.criterion_id,
        officer_id=score.officer_id,
        score=score.score,
        revision=score.revision,
        purpose=evaluation.QUALITY_SCORE,
        signature=_b64(score.signature),
        signing_key=_b64(key) if key is not None else None,
    )
