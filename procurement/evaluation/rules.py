"""The rules of the evaluation, named as the sentences they enforce, the look-ups that name
what is missing, and what stands between a lot and its next step.
"""

from collections import Counter
from collections.abc import Iterable, Sequence
from datetime import datetime

from procurement.errors import NotAllowed, NotFound, Rejected, WrongState
from procurement.evaluation.scoring import admissible_bids
from procurement.evaluation.state import Evaluation, Flag, LotState, LotStatus
from procurement.tender import officer_must_act_for_the_buyer
from schemas.commands import Actor, Role
from schemas.evaluation import EvaluationFacts, OfferedPrice, OpenedBid

# The error code for a step refused because the lot is in this status.
_STATUS_CODES = {
    LotStatus.EVALUATION: "evaluation_in_progress",
    LotStatus.AUCTION: "auction_pending",
    LotStatus.RANKED: "evaluation_complete",
    LotStatus.AWARDED: "awarded",
    LotStatus.SUSPENDED: "suspended",
    LotStatus.CANCELLED: "lot_cancelled",
    LotStatus.UNSUCCESSFUL: "lot_unsuccessful",
    LotStatus.CONTRACTED: "contract_concluded",
}


def contract_may_be_signed(state: Evaluation, lot_id: str, now: datetime) -> bool:
    """Awarded, standstill over, no open complaint, not cancelled."""
    lot = state.lots.get(lot_id)
    if state.cancelled or lot is None or lot.status is not LotStatus.AWARDED:
        return False
    return lot.award is not None and now >= lot.award.standstill_ends


def what_the_evaluation_still_needs(state: Evaluation, lot_id: str, now: datetime) -> list[str]:
    """What stands between the lot and the end of its qualification and scoring, in words."""
    lot = state.lots[lot_id]
    needs = []
    bids = [bid for bid in state.bids.values() if lot_id in bid.lot_ids]
    undecided = sorted(bid.bid_id for bid in bids if bid.bid_id not in lot.decisions)
    if undecided:
        needs.append(f"qualify or reject bids {undecided}")
    waiting = sorted(
        request.request_id
        for request in state.clarifications.values()
        if lot_id in request.lot_ids and request.is_open(now)
    )
    if waiting:
        needs.append(f"wait for the answers to {waiting}")
    unscored = [
        f"{bid.bid_id}/{criterion.id}"
        for bid in admissible_bids(state, lot_id)
        for criterion in state.facts.quality_criteria
        if not any(key[:2] == (bid.bid_id, criterion.id) for key in lot.scores)
    ]
    if unscored:
        needs.append(f"score {unscored}")
    return needs


# Rules, named as the sentences they enforce


def evaluation_must_have_started(state: Evaluation | None, ocid: str) -> Evaluation:
    if state is None:
        msg = f"the evaluation of {ocid} has not started: it starts when the bids are opened"
        raise NotFound(msg, code="evaluation_not_started")
    if state.ocid != ocid:
        raise Rejected(f"this is the evaluation of {state.ocid}, not {ocid}", code="wrong_tender")
    return state


def system_must_act(actor: Actor, what: str) -> None:
    if actor.role is not Role.SYSTEM:
        raise NotAllowed(f"only the platform {what}; {actor.id} is {actor.role}")


def actor_must_sit_on_the_committee(state: Evaluation, actor: Actor) -> None:
    facts = state.facts
    member = actor.id in facts.committee and actor.agency_id == facts.buyer_id
    if actor.role is not Role.OFFICER or not member:
        msg = f"{actor.id} is not on the evaluation committee of {state.ocid}: only its members qualify and score bids"
        raise NotAllowed(msg)


def officer_of_the_buyer_or_system_must_act(state: Evaluation, actor: Actor) -> None:
    if actor.role is not Role.SYSTEM:
        officer_must_act_for_the_buyer(actor, state.facts.buyer_id)


def supplier_must_act_for_itself(actor: Actor, bidder_id: str, what: str) -> None:
    if actor.role is not Role.SUPPLIER or actor.id != bidder_id:
        raise NotAllowed(f"only {bidder_id} may {what}; {actor.id} is not that supplier")


def reviewer_must_rule(state: Evaluation, actor: Actor) -> None:
    if actor.role is not Role.REVIEWER:
        msg = f"only a review officer rules on complaints; {actor.id} is {actor.role}"
        raise NotAllowed(msg)
    if actor.agency_id == state.facts.buyer_id:
        msg = f"{actor.id} works for the buyer, {state.facts.buyer_id}, and may not rule on complaints against it"
        raise NotAllowed(msg, code="conflict_of_interest")


def procedure_must_not_be_cancelled(state: Evaluation) -> None:
    if state.cancelled:
        msg = f"the procedure {state.ocid} was cancelled: nothing more happens in it"
        raise WrongState(msg, code="procedure_cancelled")


def lot_must_be(lot: LotState, allowed: Iterable[LotStatus], doing: str) -> None:
    allowed = tuple(allowed)
    if lot.status not in allowed:
        when = " or ".join(allowed)
        msg = f"lot {lot.lot_id} is {lot.status}: one can {doing} only when it is {when}"
        raise WrongState(msg, code=_STATUS_CODES[lot.status])


def respond_by_must_be_ahead(respond_by: datetime, now: datetime) -> None:
    if respond_by <= now:
        msg = (
            f"the time to respond, {respond_by.isoformat()}, must be after now ({now.isoformat()})"
        )
        raise Rejected(msg, code="respond_by_in_past")


def bid_must_offer_for_the_lot(bid: OpenedBid, lot_id: str) -> OfferedPrice:
    offer = bid.offer(lot_id)
    if offer is None:
        msg = f"bid {bid.bid_id} makes no offer for lot {lot_id}; it offers for {list(bid.lot_ids)}"
        raise Rejected(msg, code="no_offer_for_lot")
    return offer


def bid_must_await_no_clarification(state: Evaluation, bid_id: str, now: datetime) -> None:
    waiting = sorted(
        f"{request.request_id} (due {request.respond_by.isoformat()})"
        for request in state.clarifications.values()
        if request.bid_id == bid_id and request.is_open(now)
    )
    if waiting:
        msg = (
            f"bid {bid_id} awaits the answer to {', '.join(waiting)}; decide on it after the answer"
        )
        raise WrongState(msg, code="clarification_open")


def bids_must_be_for_the_tender(facts: EvaluationFacts, bids: Sequence[OpenedBid]) -> None:
    for kind, ids in (("bid", [b.bid_id for b in bids]), ("bidder", [b.bidder_id for b in bids])):
        repeated = sorted(i for i, n in Counter(ids).items() if n > 1)
        if repeated:
            msg = f"each {kind} is evaluated once, but {repeated} repeat"
            raise Rejected(msg, code="duplicate_bid")
    for bid in bids:
        for offer in bid.offers:
            lot = facts.lot(offer.lot_id)
            if lot is None:
                msg = f"bid {bid.bid_id} offers for lot {offer.lot_id}, which {facts.ocid} does not have"
                raise Rejected(msg, code="unknown_lot")
            if offer.price.currency != lot.estimated_value.currency:
                msg = f"bid {bid.bid_id} prices lot {lot.lot_id} in {offer.price.currency}, not {lot.estimated_value.currency}"
                raise Rejected(msg, code="wrong_currency")


# Look-ups that name what is missing


def lot_must_exist(state: Evaluation, lot_id: str) -> LotState:
    lot = state.lots.get(lot_id)
    if lot is None:
        raise NotFound(f"{state.ocid} has no lot {lot_id}", code="unknown_lot")
    return lot


def bid_must_exist(state: Evaluation, bid_id: str) -> OpenedBid:
    bid = state.bids.get(bid_id)
    if bid is None:
        raise NotFound(f"{state.ocid} has no opened bid {bid_id}", code="unknown_bid")
    return bid


def price_must_be_flagged(lot: LotState, bid_id: str) -> Flag:
    flag = (lot.flags or {}).get(bid_id)
    if flag is None:
        msg = f"the price of bid {bid_id} for lot {lot.lot_id} was not flagged as abnormally low"
        raise WrongState(msg, code="not_flagged")
    return flag


def bid_must_have_a_lot_in_evaluation(state: Evaluation, bid: OpenedBid) -> tuple[str, ...]:
    lots = tuple(lot for lot in bid.lot_ids if state.lots[lot].status is LotStatus.EVALUATION)
    if not lots:
        statuses = {lot: str(state.lots[lot].status) for lot in bid.lot_ids}
        msg = f"bid {bid.bid_id} has no lot in evaluation ({statuses}): that is done during the evaluation"
        raise WrongState(msg, code="not_in_evaluation")
    return lots
