"""The contracts of a release: drawn, signed by both, amended, carried out and ended, and the
contracts section with their amendments and implementation.

**Dates.** Dates without a time (a contract's period, a milestone's due date) are the start
of that day in UTC, and a period's last day ends at 23:59:59.
"""

from datetime import UTC, datetime, time
from typing import Any

from contracts.contract import Contract, Milestone, ocds_status
from contracts.contract import evolve as evolve_contract
from publication.ocds.parties import reference
from publication.ocds.procedure import Handler, Procedure, release_id
from publication.ocds.standard import day_start, iso, value_of
from publication.ocds.tendering import item_of
from schemas.contracts import ContractAmended, ContractDrawn, MilestoneRecorded, Period
from schemas.events import Envelope


def contract_event(tag: str) -> Handler:
    def handle(procedure: Procedure, envelope: Envelope) -> list[str]:
        key = envelope.aggregate_id
        before = procedure.contracts.get(key)
        procedure.contracts[key] = evolve_contract(before, envelope.event)
        return [tag]

    return handle


def contract_drawn(procedure: Procedure, envelope: Envelope) -> list[str]:
    assert isinstance(envelope.event, ContractDrawn)
    tags = contract_event("contract")(procedure, envelope)
    award = procedure.awards.get(envelope.event.award_id)
    if award is None or award["status"] == "active":
        return tags
    award["status"] = "active"  # a contract is drawn only once the standstill is over
    return ["awardUpdate", *tags]


def contract_signed(procedure: Procedure, envelope: Envelope) -> list[str]:
    contract_event("contract")(procedure, envelope)
    return []  # still pending until both have signed: ContractActivated tells


def contract_amended(procedure: Procedure, envelope: Envelope) -> list[str]:
    event = envelope.event
    assert isinstance(event, ContractAmended)
    tags = contract_event("contractAmendment")(procedure, envelope)
    amendment = {
        "id": event.amendment_id,
        "date": iso(envelope.occurred_at),
        "rationale": event.reason,
        "description": _contract_change(event),
        "releaseID": release_id(procedure, envelope),
    }
    if procedure.last_release is not None:
        amendment["amendsReleaseID"] = procedure.last_release
    procedure.contract_amendments.setdefault(envelope.aggregate_id, []).append(amendment)
    return tags


def _contract_change(event: ContractAmended) -> str:
    changes = []
    if event.value != event.previous_value:
        changes.append(
            f"value {event.previous_value.amount} to {event.value.amount} {event.value.currency}"
        )
    if event.end_date != event.previous_end_date:
        changes.append(f"end date {event.previous_end_date} to {event.end_date}")
    total = f"{event.cumulative_change_percent}% of the original value in all, limit {event.threshold_percent}%"
    needs = " A new procedure is needed." if event.needs_new_procedure else ""
    return f"Changed {' and '.join(changes)} ({total}).{needs}"


def milestone_recorded(procedure: Procedure, envelope: Envelope) -> list[str]:
    event = envelope.event
    assert isinstance(event, MilestoneRecorded)
    known = procedure.contracts.get(envelope.aggregate_id)
    update = known is not None and event.milestone_id in known.milestones
    return contract_event("implementationUpdate" if update else "implementation")(
        procedure, envelope
    )


def contract_of(procedure: Procedure, key: str) -> dict[str, Any]:
    contract = procedure.contracts[key]
    drawn = contract.drawn
    published: dict[str, Any] = {
        "id": drawn.contract_id,
        "awardID": drawn.award_id,
        "title": drawn.title,
        "status": ocds_status(contract),
        "value": value_of(contract.value),
        "period": _period(contract.period),
        "items": [item_of(item, drawn.lot_id) for item in drawn.items],
    }
    if contract.activated_at is not None:
        published["dateSigned"] = iso(contract.activated_at)
    if key in procedure.contract_amendments:
        published["amendments"] = procedure.contract_amendments[key]
    if contract.milestones or contract.payments:
        published["implementation"] = _implementation(procedure, contract)
    return published


def _implementation(procedure: Procedure, contract: Contract) -> dict[str, Any]:
    implementation: dict[str, Any] = {}
    if contract.milestones:
        implementation["milestones"] = [_milestone_of(m) for m in contract.milestones.values()]
    if contract.payments:
        implementation["transactions"] = [
            {
                "id": payment.payment_id,
                "date": iso(payment.paid_at),
                "value": value_of(payment.value),
                "payer": reference(procedure, contract.buyer_id),
                "payee": reference(procedure, contract.supplier_id),
            }
            for payment in contract.payments.values()
        ]
    return implementation


def _milestone_of(milestone: Milestone) -> dict[str, Any]:
    published = {
        "id": milestone.milestone_id,
        "title": milestone.title,
        "dueDate": iso(day_start(milestone.due_date)),
        "status": str(milestone.status),
    }
    if milestone.date_met is not None:
        published["dateMet"] = iso(day_start(milestone.date_met))
    return published


def _period(period: Period) -> dict[str, str]:
    end = datetime.combine(period.end_date, time(23, 59, 59), UTC)  # the last day is included
    return {"startDate": iso(day_start(period.start_date)), "endDate": iso(end)}
