"""A cancelled lot against the transparency log: the cancellation the evidence names is the
evaluation's logged event at that place, of that kind, for that lot, with the same reason
and time; and no award or ranking is published for the lot, nor logged after it."""

from collections.abc import Sequence
from datetime import datetime

from sdk.audit.model import DecidedLot
from sdk.audit.report import Check, outcome, pending
from sdk.audit.transparency import LoggedEvent

_OF_ONE_LOT = ("LotCancelled", "ComplaintUpheld")  # ProcedureCancelled cancels every lot


def check_cancellation(lot: DecidedLot, evaluation: Sequence[LoggedEvent]) -> Check:
    """``evaluation``: the events of ``<ocid>:evaluation`` as the log serves them."""
    subject = f"{lot.ocid} lot {lot.lot_id}: cancellation"
    cancelled = lot.cancellation
    assert cancelled is not None, "only a cancelled lot is checked against its cancellation"
    withheld = [e for e in evaluation if e.document is None]
    if withheld:
        return pending(subject, f"the evaluation's events are served {withheld[0].withheld_until}")
    problems = []
    if lot.award is not None:
        problems.append(f"the lot is published with an award, to {lot.award.bid_id}")
    if lot.ranking:
        problems.append("the lot is published with a ranking")
    where = f"event #{cancelled.sequence} of {lot.ocid}:evaluation"
    logged = next((e for e in evaluation if e.sequence == cancelled.sequence), None)
    if logged is None:
        problems.append(f"no {where} is in the log")
    else:
        problems += _as_logged(lot, logged, where)
    later_awards = [
        e.sequence
        for e in evaluation
        if e.type == "AwardDecided"
        and e.event.get("lot_id") == lot.lot_id
        and e.sequence > cancelled.sequence
    ]
    if later_awards:
        problems.append(f"an award is logged after the cancellation (#{later_awards[0]})")
    at = "" if cancelled.cancelled_at is None else f" at {cancelled.cancelled_at.isoformat()}"
    verified = (
        f"{cancelled.event_type} #{cancelled.sequence} is logged for the lot{at} with the same"
        f" reason ({cancelled.reason!r}); no award or ranking is published"
    )
    return outcome(subject, problems, verified)


def _as_logged(lot: DecidedLot, logged: LoggedEvent, where: str) -> list[str]:
    cancelled = lot.cancellation
    assert cancelled is not None
    if logged.type != cancelled.event_type:
        return [f"{where} is {logged.type}, not {cancelled.event_type}"]
    event, problems = logged.event, []
    if logged.type in _OF_ONE_LOT and event.get("lot_id") != lot.lot_id:
        problems.append(f"{where} is about lot {event.get('lot_id')}")
    if logged.type == "ComplaintUpheld" and event.get("remedy") != "cancel":
        problems.append(f"{where} upholds a complaint with remedy {event.get('remedy')!r}")
    if event.get("reason") != cancelled.reason:
        problems.append(f"the reason logged is {event.get('reason')!r}, not {cancelled.reason!r}")
    # The time the platform gave the event, in its stored envelope (the document's payload).
    payload = (logged.document or {}).get("payload")
    occurred = str(payload.get("occurred_at")) if isinstance(payload, dict) else "None"
    if cancelled.cancelled_at is not None and _time(occurred) != cancelled.cancelled_at:
        problems.append(
            f"published as cancelled at {cancelled.cancelled_at.isoformat()}, logged at {occurred}"
        )
    return problems


def _time(value: str) -> datetime | None:
    try:
        return datetime.fromisoformat(value)
    except ValueError:
        return None
