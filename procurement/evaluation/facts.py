"""The facts the evaluation takes from the rest of the platform: a closed tender, its
opened bids, and what a committee member signs for a score.
"""

from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any

from procurement.evaluation.scoring import CENT
from procurement.procedures import PROCEDURES
from procurement.tender import Tender
from schemas.evaluation import EvaluationFacts, LotFacts, OfferedPrice, OpenedBid
from schemas.events import BidOpened

QUALITY_SCORE = "procurement-quality-score/1"  # the purpose of a member's signed score


def facts_from_tender(
    tender: Tender, committee: Sequence[str], tenderers: Sequence[str] = ()
) -> EvaluationFacts:
    """The facts of a closed tender that its evaluation needs, with its committee's members
    and its tenderers (whose bids were opened, or rejected at the opening)."""
    requirements = tender.requirements
    return EvaluationFacts(
        ocid=tender.ocid,
        buyer_id=tender.buyer_id,
        lots=tuple(LotFacts(lot_id=lot.id, estimated_value=lot.value) for lot in requirements.lots),
        award_criteria=requirements.award_criteria,
        price_weight=requirements.price_weight,
        quality_criteria=requirements.quality_criteria,
        abnormally_low_share=requirements.abnormally_low_share,
        standstill_days=requirements.standstill_days,
        standstill_ground=requirements.standstill_ground,
        has_auction=PROCEDURES[tender.procedure_type].has_auction,
        committee=tuple(committee),
        tenderers=tuple(tenderers),
    )


def opened_bid(opened: BidOpened, received_at: datetime) -> OpenedBid:
    """What the evaluation needs of an opened bid, its own promises included;
    ``received_at`` is from its receipt."""
    content = opened.content
    return OpenedBid(
        bid_id=opened.bid_id,
        bidder_id=opened.bidder_id,
        is_sme=content.declaration.is_sme,
        received_at=received_at,
        offers=tuple(
            OfferedPrice(
                lot_id=offer.lot_id,
                price=offer.price,
                value_added_tax_included=offer.value_added_tax_included,
            )
            for offer in content.offers
        ),
        valid_until=content.valid_until,
        no_exclusion_grounds=content.declaration.no_exclusion_grounds,
        meets_selection_criteria=content.declaration.meets_selection_criteria,
    )


def score_fields(
    ocid: str,
    lot_id: str,
    bid_id: str,
    criterion_id: str,
    officer_id: str,
    score: Decimal,
    revision: int,
) -> dict[str, Any]:
    """What a member signs for a score, with purpose ``QUALITY_SCORE`` (see bidding.keys).

    The score is written with two decimals, so 87.5 and 87.50 sign the same bytes."""
    return {
        "ocid": ocid,
        "lot_id": lot_id,
        "bid_id": bid_id,
        "criterion_id": criterion_id,
        "officer_id": officer_id,
        "score": str(score.quantize(CENT)),
        "revision": revision,
    }
