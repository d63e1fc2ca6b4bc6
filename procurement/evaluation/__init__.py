"""Evaluation, award, standstill and complaints of one tender, per lot, as pure functions.

One aggregate per tender, id ``<ocid>:evaluation``, holding the state of each lot. ``decide``
turns a command into events, ``evolve`` applies one, ``replay`` rebuilds the state from the
aggregate's own events: ``EvaluationStarted`` carries every fact the rules need. Time and the
validity of signatures come in as arguments; ids of clarifications and complaints are
numbered from the state (``clarification-1``, ``complaint-1``...).

Per lot: the committee qualifies the bids (asking for clarifications) and, for ratedCriteria,
scores them; the lot's evaluation is completed (``LotEvaluated``), or handed to the auction
(``LotReadyForAuction``, then ``AuctionResultRecorded``); abnormally low prices are flagged
on the final prices and justified; an officer of the buyer confirms the award; a standstill
follows, during which bidders may complain to a review officer. The legal moves of a lot are
the table ``LOT_LIFECYCLE``.

Where each part lives:

- ``state``: the state of each lot and ``LOT_LIFECYCLE``;
- ``facts``: what the evaluation takes from the tender and the opened bids;
- ``scoring``: the published formula, the ranking and its ties, abnormally low prices;
- ``promises``: what a bid promises about itself (validity, self-declaration), checked;
- ``rules``: the rules, named as the sentences they enforce;
- ``qualification``, ``award`` and ``complaints``: the handlers of the commands, by phase;
- ``endings``: annulled awards, unsuccessful lots, concluded contracts, a cancelled tender;
- ``decisions``: every command, dispatched; ``evolution``: every event, applied;
- ``messages``: what bidders are told.
"""

from procurement.evaluation.award import (
    decide_award,
    decide_justification,
    request_justification,
    submit_justification,
)
from procurement.evaluation.complaints import file_complaint, rule_on_complaint
from procurement.evaluation.decisions import cancel_lot, cancel_procedure, decide, start
from procurement.evaluation.endings import (
    annul_award,
    annulment_grounds,
    cancel_with_the_tender,
    contracted_lots,
    lot_must_await_its_auction,
    lot_must_have_an_award_to_contract,
    no_contract_may_be_concluded,
    record_contract_concluded,
    unsuccessful_if_nothing_left,
)
from procurement.evaluation.evolution import evolve, replay
from procurement.evaluation.facts import QUALITY_SCORE, facts_from_tender, opened_bid, score_fields
from procurement.evaluation.messages import notices
from procurement.evaluation.qualification import (
    answer_clarification,
    complete,
    qualify,
    record_auction_result,
    request_clarification,
    score,
)
from procurement.evaluation.rules import (
    actor_must_sit_on_the_committee,
    bid_must_await_no_clarification,
    bid_must_offer_for_the_lot,
    bids_must_be_for_the_tender,
    contract_may_be_signed,
    evaluation_must_have_started,
    lot_must_be,
    officer_of_the_buyer_or_system_must_act,
    procedure_must_not_be_cancelled,
    respond_by_must_be_ahead,
    reviewer_must_rule,
    supplier_must_act_for_itself,
    system_must_act,
    what_the_evaluation_still_needs,
)
from procurement.evaluation.scoring import (
    CENT,
    HUNDRED,
    POINT,
    TIE_BREAK,
    abnormally_low,
    admissible_bids,
    price_score,
    quality_part,
    ranked_prices,
    ranking,
)
from procurement.evaluation.state import (
    LOT_LIFECYCLE,
    Award,
    Clarification,
    Complaint,
    ComplaintStatus,
    Decision,
    Evaluation,
    Flag,
    FlagStatus,
    LotState,
    LotStatus,
    MemberScore,
    award_id,
    evaluation_id,
)

__all__ = [
    "CENT",
    "HUNDRED",
    "LOT_LIFECYCLE",
    "POINT",
    "QUALITY_SCORE",
    "TIE_BREAK",
    "Award",
    "Clarification",
    "Complaint",
    "ComplaintStatus",
    "Decision",
    "Evaluation",
    "Flag",
    "FlagStatus",
    "LotState",
    "LotStatus",
    "MemberScore",
    "abnormally_low",
    "actor_must_sit_on_the_committee",
    "admissible_bids",
    "annul_award",
    "annulment_grounds",
    "answer_clarification",
    "award_id",
    "bid_must_await_no_clarification",
    "bid_must_offer_for_the_lot",
    "bids_must_be_for_the_tender",
    "cancel_lot",
    "cancel_procedure",
    "cancel_with_the_tender",
    "complete",
    "contract_may_be_signed",
    "contracted_lots",
    "decide",
    "decide_award",
    "decide_justification",
    "evaluation_id",
    "evaluation_must_have_started",
    "evolve",
    "facts_from_tender",
    "file_complaint",
    "lot_must_await_its_auction",
    "lot_must_be",
    "lot_must_have_an_award_to_contract",
    "no_contract_may_be_concluded",
    "notices",
    "officer_of_the_buyer_or_system_must_act",
    "opened_bid",
    "price_score",
    "procedure_must_not_be_cancelled",
    "qualify",
    "quality_part",
    "ranked_prices",
    "ranking",
    "record_auction_result",
    "record_contract_concluded",
    "replay",
    "request_clarification",
    "request_justification",
    "respond_by_must_be_ahead",
    "reviewer_must_rule",
    "rule_on_complaint",
    "score",
    "score_fields",
    "start",
    "submit_justification",
    "supplier_must_act_for_itself",
    "system_must_act",
    "unsuccessful_if_nothing_left",
    "what_the_evaluation_still_needs",
]
