"""How a lot's procedure ends other than by its first award: the buyer annuls an award and
the next-ranked bid may win; a lot left with no bid that can win becomes unsuccessful by
itself; a concluded contract closes the lot; and a cancelled tender cancels its evaluation.

Every lot reaches an end: a concluded contract, unsuccessful, or cancelled. No step here
waits for a person: the decision that leaves a lot with nothing to award records
``LotUnsuccessful`` with it.
"""

from collections.abc import Sequence

from procurement.errors import WrongState
from procurement.evaluation.evolution import evolve
from procurement.evaluation.rules import (
    lot_must_be,
    lot_must_exist,
    procedure_must_not_be_cancelled,
    system_must_act,
)
from procurement.evaluation.scoring import ranking
from procurement.evaluation.state import LIVE, Evaluation, FlagStatus, LotStatus
from procurement.tender import officer_must_act_for_the_buyer
from schemas.commands import Actor
from schemas.evaluation import (
    AnnulAward,
    AnnulmentReason,
    AwardAnnulled,
    ContractConcluded,
    LotUnsuccessful,
    ProcedureCancelled,
    RecordContractConcluded,
    UnsuccessfulReason,
)
from schemas.events import Event

_ANNULMENT_GROUNDS = {
    AnnulmentReason.REFUSED_TO_SIGN: "the winner refused to sign the contract",
    AnnulmentReason.NO_SUPPORTING_DOCUMENTS: (
        "the winner did not supply the supporting documents "
        "(Directive 2014/24/EU, Articles 59(4) and 60)"
    ),
    AnnulmentReason.EXCLUSION_GROUND: (
        "the winner is in an exclusion situation (Directive 2014/24/EU, Article 57)"
    ),
}


def annul_award(state: Evaluation, command: AnnulAward, actor: Actor) -> list[Event]:
    """The buyer annuls the lot's award: the bid leaves the ranking for good, and the lot
    is ranked again without it, or is unsuccessful when no bid is left."""
    lot = lot_must_exist(state, command.lot_id)
    officer_must_act_for_the_buyer(actor, state.facts.buyer_id)
    procedure_must_not_be_cancelled(state)
    lot_must_be(lot, [LotStatus.AWARDED], "annul its award")
    assert lot.award is not None, "an awarded lot has its award"
    annulled = AwardAnnulled(
        lot_id=lot.lot_id,
        bid_id=lot.award.bid_id,
        bidder_id=lot.award.bidder_id,
        award_number=lot.award.number,
        reason_code=command.reason_code,
        reason=command.reason,
        officer_id=actor.id,
    )
    return [annulled, *unsuccessful_if_nothing_left(evolve(state, annulled), lot.lot_id)]


def annulment_grounds(reason_code: AnnulmentReason) -> str:
    return _ANNULMENT_GROUNDS[reason_code]


def unsuccessful_if_nothing_left(state: Evaluation, lot_id: str) -> list[Event]:
    """``LotUnsuccessful`` when the lot, as ``state`` leaves it, has no bid that can win:
    ranked with an empty ranking, or in evaluation with every bid decided and none
    admissible and no clarification pending on it."""
    lot = state.lots[lot_id]
    bids = [bid for bid in state.bids.values() if lot_id in bid.lot_ids]
    if lot.status is LotStatus.RANKED and not ranking(state, lot_id):
        reason = "no bid is left that can win it: "
        reason += "; ".join(_left_out(state, lot_id)) or "none was admissible"
        return [_unsuccessful(lot_id, UnsuccessfulReason.NO_BID_LEFT, reason)]
    if lot.status is not LotStatus.EVALUATION:
        return []
    if not bids:
        return [_unsuccessful(lot_id, UnsuccessfulReason.NO_BIDS, "no bid was opened for it")]
    pending = any(
        lot_id in request.lot_ids and request.answer is None
        for request in state.clarifications.values()
    )
    decided = [lot.decisions.get(bid.bid_id) for bid in bids]
    if pending or any(d is None or d.admissible for d in decided):
        return []
    return [no_admissible_bids(lot_id, len(bids))]


def no_admissible_bids(lot_id: str, count: int) -> LotUnsuccessful:
    reason = "its only bid was rejected" if count == 1 else f"all {count} of its bids were rejected"
    return _unsuccessful(lot_id, UnsuccessfulReason.NO_ADMISSIBLE_BIDS, reason)


def _left_out(state: Evaluation, lot_id: str) -> list[str]:
    lot = state.lots[lot_id]
    why = [
        f"the award to bid {bid_id} was annulled ({code})" for bid_id, code in lot.annulled.items()
    ]
    why += [
        f"bid {bid_id}'s abnormally low price was rejected"
        for bid_id, flag in (lot.flags or {}).items()
        if flag.status is FlagStatus.REJECTED
    ]
    return why


def _unsuccessful(lot_id: str, code: UnsuccessfulReason, reason: str) -> LotUnsuccessful:
    return LotUnsuccessful(lot_id=lot_id, reason_code=code, reason=f"Lot {lot_id}: {reason}")


def unsuccessful_lots_at_start(state: Evaluation) -> list[Event]:
    """The lots for which no bid was opened end as soon as the evaluation starts."""
    return [event for lot_id in state.lots for event in unsuccessful_if_nothing_left(state, lot_id)]


def record_contract_concluded(
    state: Evaluation, command: RecordContractConcluded, actor: Actor
) -> list[Event]:
    """The platform records, when both parties signed, that the lot's contract is concluded."""
    lot = lot_must_exist(state, command.lot_id)
    system_must_act(actor, "records a concluded contract, when both parties signed")
    if lot.status is LotStatus.CONTRACTED:
        return []
    lot_must_be(lot, [LotStatus.AWARDED], "conclude its contract")
    return [ContractConcluded(lot_id=lot.lot_id, contract_id=command.contract_id)]


def contracted_lots(state: Evaluation) -> list[str]:
    return sorted(lot.lot_id for lot in state.lots.values() if lot.status is LotStatus.CONTRACTED)


def no_contract_may_be_concluded(state: Evaluation, doing: str) -> None:
    """A lot whose contract is concluded stays so: only the contract's termination applies."""
    contracted = contracted_lots(state)
    if contracted:
        msg = (
            f"the contracts of lots {contracted} of {state.ocid} are concluded: one cannot "
            f"{doing}; terminate a contract instead, and cancel the lots still open one by one"
        )
        raise WrongState(msg, code="contract_concluded")


def cancel_with_the_tender(
    state: Evaluation | None, officer_id: str, reason: str
) -> Sequence[Event]:
    """The tender was cancelled after its bids were opened: its evaluation is cancelled
    with it, the same cancellation, so that nothing more happens in it."""
    if state is None or state.cancelled:
        return []
    return [ProcedureCancelled(officer_id=officer_id, reason=reason)]


def lot_must_have_an_award_to_contract(state: Evaluation, lot_id: str) -> None:
    """A contract is drawn only for a standing award of a live procedure: a cancelled
    procedure or lot, an unsuccessful lot or one already contracted gets a clear refusal."""
    procedure_must_not_be_cancelled(state)
    lot = lot_must_exist(state, lot_id)
    lot_must_be(lot, [LotStatus.AWARDED, LotStatus.SUSPENDED], "draw its contract")


def lot_must_await_its_auction(state: Evaluation, lot_id: str) -> None:
    """No auction is scheduled for a cancelled procedure, or for a lot that has ended."""
    procedure_must_not_be_cancelled(state)
    lot = lot_must_exist(state, lot_id)
    if lot.status not in LIVE:
        lot_must_be(lot, [LotStatus.AUCTION], "schedule its auction")
