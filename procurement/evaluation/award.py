"""From a ranked lot to its award and the standstill: abnormally low prices are justified, an
officer of the buyer confirms the award, and during the standstill bidders may complain to
a review officer.
"""

from datetime import datetime

from procurement.errors import Rejected, WrongState
from procurement.evaluation.complaints import tenderers_concerned
from procurement.evaluation.endings import unsuccessful_if_nothing_left
from procurement.evaluation.evolution import evolve
from procurement.evaluation.rules import (
    bid_must_exist,
    lot_must_be,
    lot_must_exist,
    price_must_be_flagged,
    procedure_must_not_be_cancelled,
    respond_by_must_be_ahead,
    supplier_must_act_for_itself,
    what_the_evaluation_still_needs,
)
from procurement.evaluation.scoring import ranking
from procurement.evaluation.state import (
    Evaluation,
    FlagStatus,
    LotState,
    LotStatus,
)
from procurement.standstill import award_standstill
from procurement.tender import officer_must_act_for_the_buyer
from schemas.commands import Actor
from schemas.evaluation import (
    AcceptJustification,
    AwardDecided,
    DecideAward,
    JustificationAccepted,
    JustificationRejected,
    JustificationRequested,
    JustificationSubmitted,
    LossReason,
    RankedBid,
    RejectJustification,
    RequestJustification,
    SubmitJustification,
    Unsuccessful,
)
from schemas.events import Event


def request_justification(
    state: Evaluation, command: RequestJustification, actor: Actor, now: datetime
) -> list[Event]:
    lot = lot_must_exist(state, command.lot_id)
    bid = bid_must_exist(state, command.bid_id)
    officer_must_act_for_the_buyer(actor, state.facts.buyer_id)
    procedure_must_not_be_cancelled(state)
    lot_must_be(lot, [LotStatus.RANKED], "ask for the justification of a price")
    flag = price_must_be_flagged(lot, bid.bid_id)
    if flag.status is not FlagStatus.FLAGGED:
        msg = f"the justification of bid {bid.bid_id} for lot {lot.lot_id} is already {flag.status}"
        raise WrongState(msg, code="justification_already_requested")
    respond_by_must_be_ahead(command.respond_by, now)
    return [
        JustificationRequested(
            lot_id=lot.lot_id,
            bid_id=bid.bid_id,
            bidder_id=bid.bidder_id,
            officer_id=actor.id,
            question=command.question,
            respond_by=command.respond_by,
        )
    ]


def submit_justification(
    state: Evaluation, command: SubmitJustification, actor: Actor, now: datetime
) -> list[Event]:
    lot = lot_must_exist(state, command.lot_id)
    bid = bid_must_exist(state, command.bid_id)
    supplier_must_act_for_itself(actor, bid.bidder_id, f"justify the price of bid {bid.bid_id}")
    procedure_must_not_be_cancelled(state)
    lot_must_be(lot, [LotStatus.RANKED], "justify a price")
    flag = price_must_be_flagged(lot, bid.bid_id)
    if flag.status is not FlagStatus.REQUESTED:
        msg = f"no justification of bid {bid.bid_id} for lot {lot.lot_id} is awaited: it is {flag.status}"
        raise WrongState(msg, code="justification_not_requested")
    assert flag.respond_by is not None, "a requested justification has a time to respond"
    if now >= flag.respond_by:
        msg = f"the justification was due by {flag.respond_by.isoformat()}"
        raise WrongState(msg, code="too_late")
    return [
        JustificationSubmitted(
            lot_id=lot.lot_id,
            bid_id=bid.bid_id,
            bidder_id=bid.bidder_id,
            justification=command.justification,
        )
    ]


def decide_justification(
    state: Evaluation,
    command: AcceptJustification | RejectJustification,
    actor: Actor,
    now: datetime,
) -> list[Event]:
    """The officer accepts or rejects a submitted justification; one not submitted in time
    may only be rejected."""
    lot = lot_must_exist(state, command.lot_id)
    bid = bid_must_exist(state, command.bid_id)
    officer_must_act_for_the_buyer(actor, state.facts.buyer_id)
    procedure_must_not_be_cancelled(state)
    lot_must_be(lot, [LotStatus.RANKED], "decide on a justification")
    flag = price_must_be_flagged(lot, bid.bid_id)
    lapsed = flag.status is FlagStatus.REQUESTED and now >= (flag.respond_by or now)
    rejecting = isinstance(command, RejectJustification)
    if flag.status is not FlagStatus.SUBMITTED and not (rejecting and lapsed):
        msg = f"the justification of bid {bid.bid_id} for lot {lot.lot_id} is {flag.status}: there is none to decide on"
        raise WrongState(msg, code="no_justification")
    names = {"lot_id": lot.lot_id, "bid_id": bid.bid_id, "officer_id": actor.id}
    if rejecting:
        rejected = JustificationRejected(**names, reason=command.reason)
        return [rejected, *unsuccessful_if_nothing_left(evolve(state, rejected), lot.lot_id)]
    return [JustificationAccepted(**names, reason=command.reason)]


def decide_award(
    state: Evaluation, command: DecideAward, actor: Actor, now: datetime
) -> list[Event]:
    """The officer confirms the award of the lot to the first of its ranking."""
    lot = lot_must_exist(state, command.lot_id)
    officer_must_act_for_the_buyer(actor, state.facts.buyer_id)
    procedure_must_not_be_cancelled(state)
    if lot.status is LotStatus.EVALUATION:
        needs = what_the_evaluation_still_needs(state, lot.lot_id, now) or ["complete it"]
        msg = (
            f"lot {lot.lot_id} is still in evaluation, it cannot be awarded yet: {'; '.join(needs)}"
        )
        raise WrongState(msg, code="evaluation_incomplete")
    lot_must_be(lot, [LotStatus.RANKED], "award the lot")
    ranked = ranking(state, lot.lot_id)
    if not ranked:
        msg = f"no bid is left in the ranking of lot {lot.lot_id}: cancel the lot"
        raise WrongState(msg, code="no_bid_left")
    winner = ranked[0]
    flag = (lot.flags or {}).get(winner.bid_id)
    if flag is not None and not flag.resolved:
        msg = (
            f"bid {winner.bid_id} ranks first for lot {lot.lot_id} but its price is abnormally low "
            f"and its justification is {flag.status}: it can win only once the justification is accepted"
        )
        raise WrongState(msg, code="abnormally_low_unresolved")
    if command.expected_winner not in (None, winner.bid_id):
        msg = f"the best bid for lot {lot.lot_id} is now {winner.bid_id}, not {command.expected_winner}"
        raise Rejected(msg, code="ranking_changed")
    concerned = tenderers_concerned(state, lot.lot_id)
    ends, ground = award_standstill(state.facts, concerned, winner.bidder_id, now)
    return [
        AwardDecided(
            lot_id=lot.lot_id,
            bid_id=winner.bid_id,
            bidder_id=winner.bidder_id,
            value=winner.price,
            ranking=tuple(ranked),
            unsuccessful=tuple(_unsuccessful(state, lot, ranked)),
            officer_id=actor.id,
            decided_at=now,
            standstill_ends=ends,
            standstill_ground=ground,
            award_number=lot.awards_decided + 1,
        )
    ]


def _unsuccessful(state: Evaluation, lot: LotState, ranked: list[RankedBid]) -> list[Unsuccessful]:
    winner, places = ranked[0], {row.bid_id: row for row in ranked}
    reasons = []
    for bid in state.bids.values():
        if lot.lot_id not in bid.lot_ids or bid.bid_id == winner.bid_id:
            continue
        code, reason = _why_not(lot, bid.bid_id, places.get(bid.bid_id), winner, len(ranked))
        reasons.append(
            Unsuccessful(
                bid_id=bid.bid_id, bidder_id=bid.bidder_id, reason_code=code, reason=reason
            )
        )
    return reasons


def _why_not(
    lot: LotState, bid_id: str, place: RankedBid | None, winner: RankedBid, out_of: int
) -> tuple[LossReason, str]:
    decision = lot.decisions[bid_id]
    if not decision.admissible:
        return LossReason.DISQUALIFIED, f"the bid was rejected: {decision.reason}"
    if bid_id in lot.annulled:
        return LossReason.AWARD_ANNULLED, f"its award was annulled: {lot.annulled[bid_id]}"
    if place is None:
        flag = (lot.flags or {})[bid_id]
        return LossReason.ABNORMALLY_LOW, (
            f"its price, {flag.price}, is abnormally low (below {flag.threshold}, "
            f"{flag.basis.replace('_', ' ')}) and its justification was rejected: {flag.reason}"
        )
    if place.total == winner.total and place.auction_sequence != winner.auction_sequence:
        return LossReason.TIE_REACHED_LATER, (
            f"it tied with the winning bid at {place.total} points; the winning bid reached its "
            f"price first in the auction ({_reached(winner)}, this one {_reached(place)})"
        )
    if place.total == winner.total:
        return LossReason.TIE_RECEIVED_LATER, (
            f"it tied with the winning bid at {place.total} points; the winning bid was received "
            f"first ({winner.received_at.isoformat()}, this one {place.received_at.isoformat()})"
        )
    return LossReason.LOWER_SCORE, (
        f"it ranked {place.rank} of {out_of} with {place.total} points "
        f"(price {place.price_score}, quality {place.quality_part}); "
        f"the winning bid scored {winner.total}"
    )


def _reached(row: RankedBid) -> str:
    return f"auction price #{row.auction_sequence}" if row.auction_sequence else "as opened"
