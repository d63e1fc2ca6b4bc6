"""Applying the evaluation's events: ``evolve`` one, ``replay`` them all."""

from collections.abc import Iterable
from dataclasses import replace
from typing import Any

from procurement.evaluation.state import (
    LIVE,
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
)
from schemas.evaluation import (
    AbnormallyLowFlagged,
    AuctionResultRecorded,
    AwardAnnulled,
    AwardDecided,
    BidDisqualified,
    BidQualified,
    ClarificationAnswered,
    ClarificationRequested,
    ComplaintDismissed,
    ComplaintFiled,
    ComplaintSubject,
    ComplaintUpheld,
    ContractConcluded,
    EvaluationStarted,
    JustificationAccepted,
    JustificationRejected,
    JustificationRequested,
    JustificationSubmitted,
    LotCancelled,
    LotEvaluated,
    LotReadyForAuction,
    LotUnsuccessful,
    ProcedureCancelled,
    QualityScored,
    Remedy,
)
from schemas.events import Event


def evolve(state: Evaluation | None, event: Event) -> Evaluation:
    """Apply one event; an event that ``LOT_LIFECYCLE`` does not allow is a corrupt history."""
    kind = type(event).__name__
    if state is None or isinstance(event, EvaluationStarted):
        if state is not None or not isinstance(event, EvaluationStarted):
            raise ValueError(
                f"{kind} cannot happen to an evaluation that is {'started' if state else 'not started'}"
            )
        return _started(event)
    if state.cancelled:
        raise ValueError(f"{kind} cannot happen to a cancelled procedure")
    moved = _lots_moved(state, event)
    for lot_id in moved:
        if (state.lots[lot_id].status, kind) not in LOT_LIFECYCLE:
            raise ValueError(
                f"{kind} cannot happen to lot {lot_id} that is {state.lots[lot_id].status}"
            )
    after = _apply(state, event)
    for lot_id in moved:
        was, now = state.lots[lot_id].status, after.lots[lot_id].status
        if now not in LOT_LIFECYCLE[was, kind]:
            raise ValueError(f"{kind} cannot take lot {lot_id} from {was} to {now}")
    return replace(after, version=state.version + 1)


def replay(events: Iterable[Event]) -> Evaluation | None:
    state: Evaluation | None = None
    for event in events:
        state = evolve(state, event)
    return state


def _lots_moved(state: Evaluation, event: Event) -> tuple[str, ...]:
    """The lots an event is about: the lots it names, or, for ProcedureCancelled, every lot
    that has not ended yet."""
    if isinstance(event, ProcedureCancelled):  # a lot cancelled or unsuccessful keeps its end
        ended = (LotStatus.CANCELLED, LotStatus.UNSUCCESSFUL)
        return tuple(lot.lot_id for lot in state.lots.values() if lot.status not in ended)
    lot_ids: tuple[str, ...] = getattr(event, "lot_ids", ())
    lot_id: str | None = getattr(event, "lot_id", None)
    moved = lot_ids if lot_id is None else (lot_id,)
    if not moved or any(lot not in state.lots for lot in moved):
        raise ValueError(f"{type(event).__name__} names lots {moved} the evaluation does not have")
    return moved


def _started(event: EvaluationStarted) -> Evaluation:
    return Evaluation(
        ocid=event.facts.ocid,
        facts=event.facts,
        bids={bid.bid_id: bid for bid in event.bids},
        lots={
            lot.lot_id: LotState(
                lot_id=lot.lot_id, status=LotStatus.EVALUATION, decisions={}, scores={}
            )
            for lot in event.facts.lots
        },
        clarifications={},
        complaints={},
        cancelled=False,
        version=1,
    )


def _with_lot(state: Evaluation, lot_id: str, **changes: Any) -> Evaluation:
    lots = dict(state.lots)
    lots[lot_id] = replace(lots[lot_id], **changes)
    return replace(state, lots=lots)


def _with_flag(state: Evaluation, lot_id: str, bid_id: str, **changes: Any) -> Evaluation:
    flags = dict(state.lots[lot_id].flags or {})
    flags[bid_id] = replace(flags[bid_id], **changes)
    return _with_lot(state, lot_id, flags=flags)


def _with_complaint(state: Evaluation, complaint_id: str, status: ComplaintStatus) -> Evaluation:
    complaints = dict(state.complaints)
    complaints[complaint_id] = replace(complaints[complaint_id], status=status)
    return replace(state, complaints=complaints)


def _apply(state: Evaluation, event: Event) -> Evaluation:
    match event:
        case ClarificationRequested():
            request = Clarification(
                request_id=event.request_id,
                bid_id=event.bid_id,
                bidder_id=event.bidder_id,
                lot_ids=event.lot_ids,
                question=event.question,
                respond_by=event.respond_by,
            )
            return replace(
                state, clarifications={**state.clarifications, event.request_id: request}
            )
        case ClarificationAnswered():
            answered = replace(state.clarifications[event.request_id], answer=event.answer)
            return replace(
                state, clarifications={**state.clarifications, event.request_id: answered}
            )
        case BidQualified() | BidDisqualified():
            decision = Decision(isinstance(event, BidQualified), event.officer_id, event.reason)
            for lot_id in event.lot_ids:
                decisions = {**state.lots[lot_id].decisions, event.bid_id: decision}
                state = _with_lot(state, lot_id, decisions=decisions)
            return state
        case QualityScored():
            key = (event.bid_id, event.criterion_id, event.officer_id)
            scores = {
                **state.lots[event.lot_id].scores,
                key: MemberScore(event.score, event.revision),
            }
            return _with_lot(state, event.lot_id, scores=scores)
        case LotEvaluated():
            return _with_lot(state, event.lot_id, status=LotStatus.RANKED, flags={})
        case LotReadyForAuction():
            return _with_lot(state, event.lot_id, status=LotStatus.AUCTION, auction=event.bidders)
        case AuctionResultRecorded():
            prices = {final.bid_id: final.price.amount for final in event.final_prices}
            sequences = {final.bid_id: final.auction_sequence for final in event.final_prices}
            return _with_lot(
                state,
                event.lot_id,
                status=LotStatus.RANKED,
                final_prices=prices,
                auction_sequences=sequences,
                flags={},
            )
        case AbnormallyLowFlagged():
            flag = Flag(event.basis, event.price.amount, event.threshold)
            flags = {**(state.lots[event.lot_id].flags or {}), event.bid_id: flag}
            return _with_lot(state, event.lot_id, flags=flags)
        case JustificationRequested():
            return _with_flag(
                state,
                event.lot_id,
                event.bid_id,
                status=FlagStatus.REQUESTED,
                respond_by=event.respond_by,
            )
        case JustificationSubmitted():
            return _with_flag(state, event.lot_id, event.bid_id, status=FlagStatus.SUBMITTED)
        case JustificationAccepted() | JustificationRejected():
            status = (
                FlagStatus.ACCEPTED
                if isinstance(event, JustificationAccepted)
                else FlagStatus.REJECTED
            )
            return _with_flag(state, event.lot_id, event.bid_id, status=status, reason=event.reason)
        case AwardDecided():
            lot = state.lots[event.lot_id]
            award = Award(
                award_id=award_id(event.lot_id, event.bid_id, event.award_number),
                number=event.award_number,
                bid_id=event.bid_id,
                bidder_id=event.bidder_id,
                value=event.value,
                total=event.ranking[0].total,
                decided_at=event.decided_at,
                standstill_ends=event.standstill_ends,
            )
            return _with_lot(
                state,
                event.lot_id,
                status=LotStatus.AWARDED,
                award=award,
                awards_decided=max(lot.awards_decided + 1, event.award_number),
            )
        case AwardAnnulled():
            annulled = {**state.lots[event.lot_id].annulled, event.bid_id: event.reason_code}
            return _with_lot(
                state, event.lot_id, status=LotStatus.RANKED, award=None, annulled=annulled
            )
        case LotUnsuccessful():
            return _with_lot(state, event.lot_id, status=LotStatus.UNSUCCESSFUL)
        case ContractConcluded():
            return _with_lot(state, event.lot_id, status=LotStatus.CONTRACTED)
        case ComplaintFiled():
            complaint = Complaint(
                event.complaint_id,
                event.lot_id,
                event.bidder_id,
                event.grounds,
                subject=event.subject,
            )
            state = replace(state, complaints={**state.complaints, event.complaint_id: complaint})
            if event.subject is ComplaintSubject.CANCELLATION:
                return state  # the lot stays cancelled until the review body annuls it
            return _with_lot(state, event.lot_id, status=LotStatus.SUSPENDED)
        case ComplaintUpheld():
            return _upheld(state, event)
        case ComplaintDismissed():
            state = _with_complaint(state, event.complaint_id, ComplaintStatus.DISMISSED)
            if event.subject is ComplaintSubject.CANCELLATION:
                return state
            still_open = any(
                c.lot_id == event.lot_id and c.status is ComplaintStatus.OPEN
                for c in state.complaints.values()
            )
            return _with_lot(
                state, event.lot_id, status=LotStatus.SUSPENDED if still_open else LotStatus.AWARDED
            )
        case LotCancelled():
            state = _complaints_moot(state, event.lot_id)
            was = state.lots[event.lot_id].status
            return _with_lot(
                state,
                event.lot_id,
                status=LotStatus.CANCELLED,
                cancelled_from=was,
                cancelled_at=event.cancelled_at,
            )
        case ProcedureCancelled():
            for lot_id in state.lots:
                state = _complaints_moot(state, lot_id)
            lots = {
                lot_id: replace(lot, status=LotStatus.CANCELLED) if lot.status in LIVE else lot
                for lot_id, lot in state.lots.items()
            }
            return replace(state, lots=lots, cancelled=True)
    raise ValueError(f"{type(event).__name__} is not an event of an evaluation")


def _complaints_moot(state: Evaluation, lot_id: str) -> Evaluation:
    for complaint in state.complaints.values():
        if complaint.lot_id == lot_id and complaint.status is ComplaintStatus.OPEN:
            state = _with_complaint(state, complaint.complaint_id, ComplaintStatus.MOOT)
    return state


def _upheld(state: Evaluation, event: ComplaintUpheld) -> Evaluation:
    """The complaint is upheld and the other open ones about the lot become moot. To
    re-evaluate, the lot goes back to evaluation: qualification decisions and scores are
    kept, and so are the auction's final prices, which the bidders are bound by (no second
    auction); the award and the abnormally-low checks are cleared, to be made again when
    the evaluation is completed."""
    state = _with_complaint(state, event.complaint_id, ComplaintStatus.UPHELD)
    state = _complaints_moot(state, event.lot_id)
    if event.remedy is Remedy.ANNUL_CANCELLATION:
        # The complaints about its award were moot when it was cancelled: it resumes awarded.
        was = state.lots[event.lot_id].cancelled_from
        resumed = LotStatus.AWARDED if was is LotStatus.SUSPENDED else was
        return _with_lot(
            state, event.lot_id, status=resumed, cancelled_from=None, cancelled_at=None
        )
    if event.remedy is Remedy.CANCEL:
        return _with_lot(state, event.lot_id, status=LotStatus.CANCELLED)
    return _with_lot(
        state,
        event.lot_id,
        status=LotStatus.EVALUATION,
        award=None,
        flags=None,
    )
