"""The published rules of an award, in words an outsider can recompute from: the
formula, the rounding, the tie-break and the abnormally-low test of
``procurement.evaluation.scoring``."""

from procurement.evaluation import scoring
from schemas.award_evidence import AwardRules, CriterionRule
from schemas.evaluation import EvaluationFacts

SCORE_FORMULA = (
    "price_score = price_weight * lowest_price / price; "
    "quality_part = sum over the quality criteria of weight * score_sum / (scores * 100), "
    "where score_sum is the sum of the latest scores of the members who scored the criterion "
    "and scores is how many they are; total = price_score + quality_part. "
    "lowest_price is the lowest price among the ranked bids; prices are the auction's final "
    "prices when the lot had an auction; priceOnly has no quality part"
)

ROUNDING = (
    "price_score and quality_part are each computed to 28 significant digits and rounded "
    "once, half up, to 0.0001 point; total is their sum; an abnormally-low reference and "
    "threshold are rounded half up to the cent"
)

TIE_BREAK = scoring.TIE_BREAK  # the same rule for the auction, the evaluation and the award

ABNORMALLY_LOW_RULE = (
    "a ranked bid is flagged when its final price is strictly below abnormally_low_share "
    "percent of either reference: the average of the other ranked bids' prices "
    "(others_average), or the lot's estimated value (estimated_value); each threshold is "
    "rounded half up to the cent; others_average is tested first and named as the basis "
    "when both apply. Checked once, when the lot's prices are final. A flagged bid stays "
    "in the ranking unless its justification is rejected, and wins only if it is accepted"
)


def rules_of(facts: EvaluationFacts) -> AwardRules:
    return AwardRules(
        award_criteria=facts.award_criteria,
        price_weight=facts.price_weight,
        quality_criteria=tuple(
            CriterionRule(id=c.id, name=c.name, weight=c.weight) for c in facts.quality_criteria
        ),
        abnormally_low_share=facts.abnormally_low_share,
        abnormally_low_rule=ABNORMALLY_LOW_RULE,
        score_formula=SCORE_FORMULA,
        tie_break=TIE_BREAK,
        rounding=ROUNDING,
    )
