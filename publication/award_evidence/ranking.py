"""The award and its ranking, each line with every term of the formula."""

from collections.abc import Mapping, Sequence
from decimal import Decimal

from contracts.contract import award_id
from procurement.evaluation import Evaluation
from schemas.award_evidence import AwardMade, QualityTerm, RankingRow
from schemas.bids import Receipt
from schemas.evaluation import AwardDecided, QualityScored


def ranking(
    state: Evaluation,
    award: AwardDecided,
    lot_scores: Sequence[QualityScored],
    by_bid: Mapping[str, Receipt],
    leaf_indexes: Mapping[str, int],
) -> tuple[RankingRow, ...]:
    """The award's ranking, each line with the terms the formula was applied to."""
    lowest = min(row.price.amount for row in award.ranking)
    rows = []
    for row in award.ranking:
        terms = []
        for criterion in state.facts.quality_criteria:
            given = [
                s.score
                for s in lot_scores
                if (s.bid_id, s.criterion_id) == (row.bid_id, criterion.id)
            ]
            terms.append(
                QualityTerm(
                    criterion_id=criterion.id,
                    weight=criterion.weight,
                    scores=len(given),
                    score_sum=sum(given, Decimal(0)),
                )
            )
        receipt = by_bid.get(row.bid_id)
        rows.append(
            RankingRow(
                **row.model_dump(exclude={"received_at"}),
                received_at=row.received_at,
                lowest_price=lowest,
                price_weight=state.facts.price_weight,
                quality_terms=tuple(terms),
                leaf_index=leaf_indexes.get(row.bid_id) if receipt else None,
            )
        )
    return tuple(rows)


def award_made(award: AwardDecided) -> AwardMade:
    return AwardMade(
        award_id=award_id(award.lot_id, award.bid_id, award.award_number),
        bid_id=award.bid_id,
        bidder_id=award.bidder_id,
        value=award.value,
        officer_id=award.officer_id,
        decided_at=award.decided_at,
        standstill_ends=award.standstill_ends,
    )
