"""Every command of the evaluation, dispatched in one place to the handler that decides it."""

from collections.abc import Sequence
from datetime import datetime

from procurement.errors import WrongState
from procurement.evaluation.award import (
    decide_award,
    decide_justification,
    request_justification,
    submit_justification,
)
from procurement.evaluation.complaints import file_complaint, rule_on_complaint
from procurement.evaluation.endings import (
    annul_award,
    no_contract_may_be_concluded,
    record_contract_concluded,
    unsuccessful_lots_at_start,
)
from procurement.evaluation.evolution import evolve
from procurement.evaluation.qualification import (
    answer_clarification,
    complete,
    qualify,
    record_auction_result,
    request_clarification,
    score,
)
from procurement.evaluation.rules import (
    bids_must_be_for_the_tender,
    evaluation_must_have_started,
    lot_must_be,
    lot_must_exist,
    procedure_must_not_be_cancelled,
    system_must_act,
)
from procurement.evaluation.state import LIVE, Evaluation
from procurement.tender import officer_must_act_for_the_buyer
from schemas.commands import Actor
from schemas.evaluation import (
    AcceptJustification,
    AnnulAward,
    AnswerClarification,
    AnyEvaluationCommand,
    CancelLot,
    CancelProcedure,
    CompleteLotEvaluation,
    DecideAward,
    DismissComplaint,
    DisqualifyBid,
    EvaluationFacts,
    EvaluationStarted,
    FileComplaint,
    LotCancelled,
    OpenedBid,
    ProcedureCancelled,
    QualifyBid,
    RecordAuctionResult,
    RecordContractConcluded,
    RejectJustification,
    RequestClarification,
    RequestJustification,
    ScoreQuality,
    StartEvaluation,
    SubmitJustification,
    UpholdComplaint,
)
from schemas.events import Event


def start(facts: EvaluationFacts, bids: Sequence[OpenedBid], now: datetime) -> list[Event]:
    """The evaluation of a tender whose bids were opened, in the order they were received;
    a lot with no bid is unsuccessful at once."""
    bids_must_be_for_the_tender(facts, bids)
    ordered = tuple(sorted(bids, key=lambda bid: (bid.received_at, bid.bid_id)))
    started = EvaluationStarted(facts=facts, bids=ordered, started_at=now)
    return [started, *unsuccessful_lots_at_start(evolve(None, started))]


def cancel_lot(
    state: Evaluation, command: CancelLot, actor: Actor, now: datetime | None = None
) -> list[Event]:
    lot = lot_must_exist(state, command.lot_id)
    officer_must_act_for_the_buyer(actor, state.facts.buyer_id)
    procedure_must_not_be_cancelled(state)
    lot_must_be(lot, LIVE, "cancel the lot")
    return [
        LotCancelled(
            lot_id=lot.lot_id, officer_id=actor.id, reason=command.reason, cancelled_at=now
        )
    ]


def cancel_procedure(state: Evaluation, command: CancelProcedure, actor: Actor) -> list[Event]:
    officer_must_act_for_the_buyer(actor, state.facts.buyer_id)
    procedure_must_not_be_cancelled(state)
    no_contract_may_be_concluded(state, "cancel the procedure")
    return [ProcedureCancelled(officer_id=actor.id, reason=command.reason)]


def decide(
    state: Evaluation | None,
    command: AnyEvaluationCommand,
    actor: Actor,
    now: datetime,
    *,
    signature_valid: bool = False,
) -> list[Event]:
    """Every command of the evaluation; ``signature_valid`` is the caller's check of a
    ``ScoreQuality`` signature against the member's committee key (bidding.keys.verify)."""
    if isinstance(command, StartEvaluation):
        system_must_act(actor, "starts an evaluation, when the bids are opened")
        if state is not None:
            msg = f"the evaluation of {command.ocid} has already started"
            raise WrongState(msg, code="already_started")
        return start(command.facts, command.bids, now)
    evaluation = evaluation_must_have_started(state, command.ocid)
    match command:
        case RequestClarification():
            return request_clarification(evaluation, command, actor, now)
        case AnswerClarification():
            return answer_clarification(evaluation, command, actor, now)
        case QualifyBid() | DisqualifyBid():
            return qualify(evaluation, command, actor, now)
        case ScoreQuality():
            return score(evaluation, command, actor, signature_valid)
        case CompleteLotEvaluation():
            return complete(evaluation, command, actor, now)
        case RecordAuctionResult():
            return record_auction_result(evaluation, command, actor)
        case RequestJustification():
            return request_justification(evaluation, command, actor, now)
        case SubmitJustification():
            return submit_justification(evaluation, command, actor, now)
        case AcceptJustification() | RejectJustification():
            return decide_justification(evaluation, command, actor, now)
        case DecideAward():
            return decide_award(evaluation, command, actor, now)
        case AnnulAward():
            return annul_award(evaluation, command, actor)
        case RecordContractConcluded():
            return record_contract_concluded(evaluation, command, actor)
        case FileComplaint():
            return file_complaint(evaluation, command, actor, now)
        case UpholdComplaint() | DismissComplaint():
            return rule_on_complaint(evaluation, command, actor)
        case CancelLot():
            return cancel_lot(evaluation, command, actor, now)
        case CancelProcedure():
            return cancel_procedure(evaluation, command, actor)
