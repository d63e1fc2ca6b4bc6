"""Every event of a contract, applied; replaying them rebuilds the contract."""

from collections.abc import Iterable
from dataclasses import replace

from contracts.contract.documents import document_of, document_sha256
from contracts.contract.state import (
    LIFECYCLE,
    Amendment,
    Contract,
    ContractStatus,
    Milestone,
    Payment,
    Signed,
)
from schemas.contracts import (
    ContractActivated,
    ContractAmended,
    ContractCompleted,
    ContractDrawn,
    ContractSigned,
    ContractTerminated,
    MilestoneRecorded,
    Party,
    PaymentRecorded,
    Period,
)
from schemas.events import Event


def evolve(contract: Contract | None, event: Event) -> Contract:
    """Apply one event; an event that the lifecycle does not allow is a corrupt history."""
    status = contract.status if contract else None
    after = LIFECYCLE.get((status, getattr(event, "type", "")))
    if after is None:
        msg = f"{type(event).__name__} cannot happen to a contract that is {status or 'not drawn'}"
        raise ValueError(msg)
    if isinstance(event, ContractDrawn):
        return _drawn(event)
    assert contract is not None
    contract = _apply(contract, event)
    return replace(contract, status=after, version=contract.version + 1)


def replay(events: Iterable[Event]) -> Contract | None:
    contract: Contract | None = None
    for event in events:
        contract = evolve(contract, event)
    return contract


def _drawn(event: ContractDrawn) -> Contract:
    if document_sha256(document_of(event)) != event.document_sha256:
        raise ValueError(f"contract {event.contract_id} names a document it does not describe")
    return Contract(
        drawn=event,
        status=ContractStatus.DRAWN,
        value=event.value,
        period=event.period,
        signatures={},
        activated_at=None,
        amendments=(),
        milestones={},
        payments={},
        version=1,
    )


def _apply(contract: Contract, event: Event) -> Contract:
    match event:
        case ContractSigned():
            if event.party in contract.signatures:
                raise ValueError(f"ContractSigned cannot happen twice for the {event.party}")
            signed = Signed(event.signer_id, event.public_key, event.signature, event.signed_at)
            return replace(contract, signatures={**contract.signatures, event.party: signed})
        case ContractActivated():
            if set(contract.signatures) != set(Party):
                raise ValueError("ContractActivated cannot happen before both parties signed")
            return replace(contract, activated_at=event.activated_at)
        case ContractAmended():
            amendment = Amendment(
                amendment_id=event.amendment_id,
                reason=event.reason,
                value=event.value,
                end_date=event.end_date,
                cumulative_change_percent=event.cumulative_change_percent,
                needs_new_procedure=event.needs_new_procedure,
            )
            return replace(
                contract,
                value=event.value,
                period=Period(start_date=contract.period.start_date, end_date=event.end_date),
                amendments=(*contract.amendments, amendment),
            )
        case MilestoneRecorded():
            milestone = Milestone(
                milestone_id=event.milestone_id,
                title=event.title,
                due_date=event.due_date,
                status=event.status,
                date_met=event.date_met,
            )
            return replace(
                contract, milestones={**contract.milestones, event.milestone_id: milestone}
            )
        case PaymentRecorded():
            payment = Payment(event.payment_id, event.value, event.paid_at)
            return replace(contract, payments={**contract.payments, event.payment_id: payment})
        case ContractCompleted() | ContractTerminated():
            return contract
    raise ValueError(f"{type(event).__name__} is not an event of a contract")
