"""What a lot's events left that the evaluation's state does not keep: each flag with
its numbers, each justification decision, the standing award, and the signed scores."""

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from schemas.award_evidence import Cancellation, Justification
from schemas.evaluation import (
    AbnormallyLowFlagged,
    AuctionResultRecorded,
    AwardDecided,
    ComplaintUpheld,
    EvaluationStarted,
    JustificationAccepted,
    JustificationRejected,
    JustificationRequested,
    LotCancelled,
    LotEvaluated,
    ProcedureCancelled,
    QualityScored,
    Remedy,
)
from schemas.events import Envelope, Event


@dataclass
class LotTrail:
    """What a lot's events left that the evaluation's state does not keep."""

    flags: dict[str, AbnormallyLowFlagged] = field(default_factory=dict)
    justifications: dict[str, Justification] = field(default_factory=dict)
    award: AwardDecided | None = None


def trails(events: Iterable[Event]) -> dict[str, LotTrail]:
    """Each lot's flags, justification decisions and standing award, as its events left
    them: a new check of the final prices, or an upheld complaint, starts them afresh."""
    found: dict[str, LotTrail] = {}
    for event in events:
        lot_id = getattr(event, "lot_id", None)
        if lot_id is None:
            continue
        trail = found.setdefault(lot_id, LotTrail())
        match event:
            case LotEvaluated() | AuctionResultRecorded():
                found[lot_id] = LotTrail()
            case AbnormallyLowFlagged():
                trail.flags[event.bid_id] = event
            case JustificationRequested():
                trail.justifications[event.bid_id] = Justification(decision="awaited")
            case JustificationAccepted() | JustificationRejected():
                decision = "accepted" if isinstance(event, JustificationAccepted) else "rejected"
                trail.justifications[event.bid_id] = Justification(
                    decision=decision, officer_id=event.officer_id, reason=event.reason
                )
            case AwardDecided():
                trail.award = event
            case ComplaintUpheld() if event.remedy is Remedy.RE_EVALUATE:
                found[lot_id] = LotTrail()
            case ComplaintUpheld():
                trail.award = None
    return found


def latest_scores(events: Iterable[Event]) -> dict[tuple[str, str, str, str], QualityScored]:
    """(lot, bid, criterion, member) -> the member's latest signed score: the one that counts."""
    latest: dict[tuple[str, str, str, str], QualityScored] = {}
    for event in events:
        if isinstance(event, QualityScored):
            key = (event.lot_id, event.bid_id, event.criterion_id, event.officer_id)
            latest[key] = event
    return latest


def cancellations(history: Sequence[Event] | Sequence[Envelope]) -> dict[str, Cancellation]:
    """Each cancelled lot's cancellation: the event that cancelled it, its place in the
    evaluation's history (its sequence; without envelopes, its position from 1) and, from
    an envelope, its time. A procedure's cancellation cancels the lots still live."""
    found: dict[str, Cancellation] = {}
    lots: list[str] = []
    for position, item in enumerate(history, start=1):
        event = item.event if isinstance(item, Envelope) else item
        sequence = item.sequence if isinstance(item, Envelope) else position
        at = item.occurred_at if isinstance(item, Envelope) else None
        match event:
            case EvaluationStarted():
                lots = [lot.lot_id for lot in event.facts.lots]
            case LotCancelled():
                found[event.lot_id] = Cancellation(
                    event_type=event.type,
                    sequence=sequence,
                    officer_id=event.officer_id,
                    reason=event.reason,
                    cancelled_at=at,
                )
            case ComplaintUpheld() if event.remedy is Remedy.CANCEL:
                found[event.lot_id] = Cancellation(
                    event_type=event.type,
                    sequence=sequence,
                    officer_id=event.reviewer_id,
                    reason=event.reason,
                    cancelled_at=at,
                )
            case ProcedureCancelled():
                for lot_id in lots:
                    found.setdefault(
                        lot_id,
                        Cancellation(
                            event_type=event.type,
                            sequence=sequence,
                            officer_id=event.officer_id,
                            reason=event.reason,
                            cancelled_at=at,
                        ),
                    )
    return found
