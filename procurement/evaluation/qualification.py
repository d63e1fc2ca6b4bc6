"""Qualification and scoring of a lot's bids, up to its ranking or its auction.

The committee qualifies the bids (asking for clarifications) and, for ratedCriteria, scores
them; the lot's evaluation is completed (``LotEvaluated``), or handed to the auction
(``LotReadyForAuction``, then ``AuctionResultRecorded``); either way abnormally low prices
are flagged on the final prices.
"""

from datetime import datetime

from procurement.errors import NotFound, Rejected, WrongState
from procurement.evaluation.endings import no_admissible_bids, unsuccessful_if_nothing_left
from procurement.evaluation.evolution import evolve
from procurement.evaluation.promises import bid_whose_promises_fail_is_admitted_only_with_a_reason
from procurement.evaluation.rules import (
    actor_must_sit_on_the_committee,
    bid_must_await_no_clarification,
    bid_must_exist,
    bid_must_have_a_lot_in_evaluation,
    bid_must_offer_for_the_lot,
    lot_must_be,
    lot_must_exist,
    officer_of_the_buyer_or_system_must_act,
    procedure_must_not_be_cancelled,
    respond_by_must_be_ahead,
    supplier_must_act_for_itself,
    system_must_act,
    what_the_evaluation_still_needs,
)
from procurement.evaluation.scoring import abnormally_low, admissible_bids, quality_part
from procurement.evaluation.state import Evaluation, LotState, LotStatus
from schemas.commands import Actor
from schemas.evaluation import (
    AnswerClarification,
    AuctionBidder,
    AuctionResultRecorded,
    BidDisqualified,
    BidQualified,
    ClarificationAnswered,
    ClarificationRequested,
    CompleteLotEvaluation,
    DisqualifyBid,
    LotEvaluated,
    LotReadyForAuction,
    OpenedBid,
    QualifyBid,
    QualityScored,
    RecordAuctionResult,
    RequestClarification,
    ScoreQuality,
)
from schemas.events import Event
from schemas.values import AwardCriteria


def request_clarification(
    state: Evaluation, command: RequestClarification, actor: Actor, now: datetime
) -> list[Event]:
    bid = bid_must_exist(state, command.bid_id)
    actor_must_sit_on_the_committee(state, actor)
    procedure_must_not_be_cancelled(state)
    lots = bid_must_have_a_lot_in_evaluation(state, bid)
    respond_by_must_be_ahead(command.respond_by, now)
    return [
        ClarificationRequested(
            request_id=f"clarification-{len(state.clarifications) + 1}",
            bid_id=bid.bid_id,
            bidder_id=bid.bidder_id,
            lot_ids=lots,
            officer_id=actor.id,
            question=command.question,
            respond_by=command.respond_by,
        )
    ]


def answer_clarification(
    state: Evaluation, command: AnswerClarification, actor: Actor, now: datetime
) -> list[Event]:
    request = state.clarifications.get(command.request_id)
    if request is None:
        msg = f"{state.ocid} has no clarification request {command.request_id}"
        raise NotFound(msg, code="unknown_request")
    supplier_must_act_for_itself(actor, request.bidder_id, f"answer {request.request_id}")
    procedure_must_not_be_cancelled(state)
    if request.answer is not None:
        msg = f"{request.request_id} was already answered; a clarification is answered once"
        raise WrongState(msg, code="already_answered")
    if now >= request.respond_by:
        msg = f"{request.request_id} had to be answered by {request.respond_by.isoformat()}"
        raise WrongState(msg, code="too_late")
    lots = tuple(lot for lot in request.lot_ids if state.lots[lot].status is LotStatus.EVALUATION)
    if not lots:
        msg = f"the lots {list(request.lot_ids)} that {request.request_id} was about were cancelled"
        raise WrongState(msg, code="lot_cancelled")
    return [
        ClarificationAnswered(
            request_id=request.request_id,
            bid_id=request.bid_id,
            bidder_id=request.bidder_id,
            lot_ids=lots,
            answer=command.answer,
        )
    ]


def qualify(
    state: Evaluation, command: QualifyBid | DisqualifyBid, actor: Actor, now: datetime
) -> list[Event]:
    """The committee's decision on a bid, for the lot the command names or else for each of
    the bid's lots in evaluation; the latest decision counts until the lot's evaluation is
    completed. A bid whose own promises fail is admitted only with a reason."""
    bid = bid_must_exist(state, command.bid_id)
    actor_must_sit_on_the_committee(state, actor)
    procedure_must_not_be_cancelled(state)
    lots = _lots_decided(state, bid, command.lot_id)
    bid_must_await_no_clarification(state, bid.bid_id, now)
    names = {"bid_id": bid.bid_id, "bidder_id": bid.bidder_id, "lot_ids": lots}
    if isinstance(command, DisqualifyBid):
        rejected = BidDisqualified(**names, officer_id=actor.id, reason=command.reason)
        after = evolve(state, rejected)
        return [rejected, *(e for lot in lots for e in unsuccessful_if_nothing_left(after, lot))]
    bid_whose_promises_fail_is_admitted_only_with_a_reason(bid, command.reason, now)
    return [BidQualified(**names, officer_id=actor.id, reason=command.reason)]


def _lots_decided(state: Evaluation, bid: OpenedBid, lot_id: str | None) -> tuple[str, ...]:
    if lot_id is None:
        return bid_must_have_a_lot_in_evaluation(state, bid)
    lot = lot_must_exist(state, lot_id)
    bid_must_offer_for_the_lot(bid, lot.lot_id)
    lot_must_be(lot, [LotStatus.EVALUATION], "qualify or reject its bids")
    return (lot.lot_id,)


def score(
    state: Evaluation, command: ScoreQuality, actor: Actor, signature_valid: bool
) -> list[Event]:
    """A member's score of one criterion, signed; see ``score_fields``."""
    lot = lot_must_exist(state, command.lot_id)
    bid = bid_must_exist(state, command.bid_id)
    if state.facts.award_criteria is AwardCriteria.PRICE_ONLY:
        msg = f"{state.ocid} is awarded on price only: there is no quality to score"
        raise Rejected(msg, code="price_only")
    if state.facts.criterion(command.criterion_id) is None:
        criteria = [c.id for c in state.facts.quality_criteria]
        msg = f"{state.ocid} has no quality criterion {command.criterion_id}; it has {criteria}"
        raise NotFound(msg, code="unknown_criterion")
    actor_must_sit_on_the_committee(state, actor)
    procedure_must_not_be_cancelled(state)
    lot_must_be(lot, [LotStatus.EVALUATION], "score bids")
    bid_must_offer_for_the_lot(bid, lot.lot_id)
    decision = lot.decisions.get(bid.bid_id)
    if decision is None or not decision.admissible:
        was = "rejected" if decision else "not qualified yet"
        msg = f"bid {bid.bid_id} is {was} for lot {lot.lot_id}: only admissible bids are scored"
        raise WrongState(msg, code="bid_not_admissible")
    if not signature_valid:
        msg = f"the signature is not {actor.id}'s committee key's over this score"
        raise Rejected(msg, code="invalid_signature")
    previous = lot.scores.get((bid.bid_id, command.criterion_id, actor.id))
    if previous is not None and command.revision <= previous.revision:
        msg = f"{actor.id} already gave revision {previous.revision} of this score; a new one needs a higher revision"
        raise Rejected(msg, code="stale_revision")
    return [
        QualityScored(
            lot_id=lot.lot_id,
            bid_id=bid.bid_id,
            criterion_id=command.criterion_id,
            officer_id=actor.id,
            score=command.score,
            revision=command.revision,
            signature=command.signature,
        )
    ]


def complete(
    state: Evaluation, command: CompleteLotEvaluation, actor: Actor, now: datetime
) -> list[Event]:
    """Close the lot's qualification and scoring: hand it to the auction when there is one
    and at least two bids to compete in it, otherwise rank it and flag abnormally low prices.
    A lot whose auction is over (back in evaluation after an upheld complaint) is ranked on
    the auction's final prices: its bidders are bound by them, and there is no second auction."""
    lot = lot_must_exist(state, command.lot_id)
    officer_of_the_buyer_or_system_must_act(state, actor)
    procedure_must_not_be_cancelled(state)
    lot_must_be(lot, [LotStatus.EVALUATION], "complete the evaluation")
    needs = what_the_evaluation_still_needs(state, lot.lot_id, now)
    if needs:
        msg = f"the evaluation of lot {lot.lot_id} is not complete: {'; '.join(needs)}"
        raise WrongState(msg, code="evaluation_incomplete")
    admissible = admissible_bids(state, lot.lot_id)
    if not admissible:  # every bid rejected: the lot ends here
        bids = sum(lot.lot_id in bid.lot_ids for bid in state.bids.values())
        return [no_admissible_bids(lot.lot_id, bids)]
    if state.facts.has_auction and len(admissible) >= 2 and lot.final_prices is None:
        return [_ready_for_auction(state, lot, admissible)]
    evaluated = LotEvaluated(lot_id=lot.lot_id)
    return [evaluated, *abnormally_low(evolve(state, evaluated), lot.lot_id)]


def _ready_for_auction(
    state: Evaluation, lot: LotState, admissible: list[OpenedBid]
) -> LotReadyForAuction:
    """The bidders in the order their bids were received, which is how the auction breaks a
    tie between prices that were never lowered (see ``scoring.TIE_BREAK``)."""
    return LotReadyForAuction(
        lot_id=lot.lot_id,
        price_weight=state.facts.price_weight,
        bidders=tuple(
            AuctionBidder(
                bid_id=bid.bid_id,
                bidder_id=bid.bidder_id,
                initial_price=bid_must_offer_for_the_lot(bid, lot.lot_id).price,
                quality_part=quality_part(state.facts, lot, bid.bid_id),
            )
            for bid in sorted(admissible, key=lambda bid: (bid.received_at, bid.bid_id))
        ),
    )


def record_auction_result(
    state: Evaluation, command: RecordAuctionResult, actor: Actor
) -> list[Event]:
    lot = lot_must_exist(state, command.lot_id)
    system_must_act(actor, "records the result of an auction")
    procedure_must_not_be_cancelled(state)
    lot_must_be(lot, [LotStatus.AUCTION], "record the result of its auction")
    entries = {entry.bid_id: entry for entry in lot.auction or ()}
    given = {price.bid_id: price.price for price in command.final_prices}
    if set(given) != set(entries):
        msg = f"the auction of lot {lot.lot_id} was between {sorted(entries)}, not {sorted(given)}"
        raise Rejected(msg, code="auction_bidders_mismatch")
    for bid_id, price in sorted(given.items()):
        initial = entries[bid_id].initial_price
        if price.currency != initial.currency:
            msg = f"the final price of {bid_id} is in {price.currency}, not {initial.currency}"
            raise Rejected(msg, code="wrong_currency")
        if price.amount > initial.amount:
            msg = f"the final price of {bid_id}, {price.amount}, is above its initial {initial.amount}: a reverse auction only lowers prices"
            raise Rejected(msg, code="price_increased")
    recorded = AuctionResultRecorded(
        lot_id=lot.lot_id, final_prices=tuple(sorted(command.final_prices, key=lambda p: p.bid_id))
    )
    return [recorded, *abnormally_low(evolve(state, recorded), lot.lot_id)]
