"""A contract's life, as pure functions: drawn from an award, signed by both parties, amended,
carried out, and completed or terminated.

One aggregate per contract, id ``contract_id``. ``decide`` turns a command into events,
``evolve`` applies one, ``replay`` rebuilds the contract from its own events. Time, ids, the
award, whether the award's standstill is over and the signer's registered public key are all
arguments: the caller looks them up (``award_facts`` and
``procurement.evaluation.contract_may_be_signed`` do it from the tender and its evaluation).

**The document.** ``contract_document`` is exactly what is signed: its SHA-256 over the
canonical JSON (``bidding.keys.canonical_json``) is ``ContractDrawn.document_sha256``. Amounts
are written with two decimals and quantities without trailing zeros, so 10 and 10.0000 pieces
are the same document.

**Signatures.** Each party signs, with Ed25519, ``signature_fields`` (contract id, document
hash and the party: ``buyer`` or ``supplier``) under the purpose ``CONTRACT_SIGNATURE``: an
officer of the buyer with the signing key it registered, the supplier with its own. Once both
have signed, the same decision records ``ContractActivated``: the contract is in force. The
activation is an event of its own, not derived, so that read models and notices need not
count signatures. Amendments are not signed again in this version.

**Amendments** (Directive 2014/24/EU, Article 72(2)): percentages are of the ORIGINAL value;
the cumulative one is the net change over all amendments, (value now - original) / original.
A new procedure is needed when that cumulative change is an increase strictly above the
threshold: 10 % for supplies and services, 15 % for works (the tender's main CPV code is in
division 45). The comparison is exact; the published percentages are rounded half up to
0.01. The amendment is recorded either way, with ``needs_new_procedure``: the platform
publishes what happened, the law decides what follows.

**Completion.** Recording the milestone that leaves every milestone met completes the
contract in the same decision (``on_last_milestone``), so schedule every milestone before
marking any of them met. An officer may also complete it explicitly once no milestone is
still scheduled (each met or not met). Completed and terminated are final; a contract
terminated before activation was never in force (OCDS ``cancelled``).
"""

import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Context, Decimal, localcontext
from enum import StrEnum
from typing import Any

from bidding import keys
from procurement.errors import NotAllowed, NotFound, Rejected, WrongState
from procurement.evaluation import Evaluation
from procurement.tender import Tender, officer_must_act_for_the_buyer
from schemas.commands import Actor, Role
from schemas.contracts import (
    AmendContract,
    AnyContractCommand,
    AwardFacts,
    CompleteContract,
    ContractActivated,
    ContractAmended,
    ContractCompleted,
    ContractDrawn,
    ContractSigned,
    ContractTerminated,
    DrawContract,
    MilestoneRecorded,
    MilestoneStatus,
    Party,
    PaymentRecorded,
    Period,
    RecordMilestone,
    RecordPayment,
    SignContract,
    TerminateContract,
)
from schemas.events import Event
from schemas.values import Item, Value

DOCUMENT_FORMAT = "procurement-contract-document/1"
CONTRACT_SIGNATURE = "procurement-contract-signature/1"
WORKS_DIVISION = "45"  # CPV division 45: construction work
CENT = Decimal("0.01")
HUNDRED = Decimal(100)
_EXACT = Context(prec=60, rounding=ROUND_HALF_UP)  # wide enough that nothing here rounds


def contract_id_for(ocid: str, lot_id: str) -> str:
    """The aggregate id of the contract drawn from a lot's award."""
    return f"{ocid}:contract:{lot_id}"


class ContractStatus(StrEnum):
    DRAWN = "drawn"  # waiting for both signatures
    PARTLY_SIGNED = "partly_signed"  # one party signed
    ACTIVE = "active"  # both signed: in force, amended and carried out
    COMPLETED = "completed"  # final
    TERMINATED = "terminated"  # final


FINAL = frozenset({ContractStatus.COMPLETED, ContractStatus.TERMINATED})

# The lifecycle as data: (status before, event type) -> status after. Anything else is illegal.
# The second ContractSigned leaves the contract partly signed for the instant until the
# ContractActivated that the same decision records with it.
LIFECYCLE: dict[tuple[ContractStatus | None, str], ContractStatus] = {
    (None, "ContractDrawn"): ContractStatus.DRAWN,
    (ContractStatus.DRAWN, "ContractSigned"): ContractStatus.PARTLY_SIGNED,
    (ContractStatus.PARTLY_SIGNED, "ContractSigned"): ContractStatus.PARTLY_SIGNED,
    (ContractStatus.PARTLY_SIGNED, "ContractActivated"): ContractStatus.ACTIVE,
    (ContractStatus.ACTIVE, "ContractAmended"): ContractStatus.ACTIVE,
    (ContractStatus.ACTIVE, "MilestoneRecorded"): ContractStatus.ACTIVE,
    (ContractStatus.ACTIVE, "PaymentRecorded"): ContractStatus.ACTIVE,
    (ContractStatus.ACTIVE, "ContractCompleted"): ContractStatus.COMPLETED,
    (ContractStatus.DRAWN, "ContractTerminated"): ContractStatus.TERMINATED,
    (ContractStatus.PARTLY_SIGNED, "ContractTerminated"): ContractStatus.TERMINATED,
    (ContractStatus.ACTIVE, "ContractTerminated"): ContractStatus.TERMINATED,
}


@dataclass(frozen=True)
class AmendmentLimits:
    """How far, in percent of the original value, amendments may raise a contract's value
    before a new procedure is needed (Directive 2014/24/EU, Article 72(2))."""

    supplies_and_services: Decimal = Decimal(10)
    works: Decimal = Decimal(15)

    def for_cpv(self, cpv: str) -> Decimal:
        return self.works if is_works(cpv) else self.supplies_and_services


AMENDMENT_LIMITS = AmendmentLimits()


@dataclass(frozen=True)
class Signed:
    signer_id: str
    public_key: bytes
    signature: bytes
    signed_at: datetime


@dataclass(frozen=True)
class Amendment:
    amendment_id: str
    reason: str
    value: Value
    end_date: date
    cumulative_change_percent: Decimal
    needs_new_procedure: bool


@dataclass(frozen=True)
class Milestone:
    milestone_id: str
    title: str
    due_date: date
    status: MilestoneStatus
    date_met: date | None


@dataclass(frozen=True)
class Payment:
    payment_id: str
    value: Value
    paid_at: datetime


@dataclass(frozen=True)
class Contract:
    drawn: ContractDrawn  # the terms as drawn and signed: the original value and period
    status: ContractStatus
    value: Value  # the current value, after amendments
    period: Period  # the current period, after amendments
    signatures: dict[Party, Signed]
    activated_at: datetime | None
    amendments: tuple[Amendment, ...]
    milestones: dict[str, Milestone]
    payments: dict[str, Payment]
    version: int  # the sequence number of the last event applied

    @property
    def contract_id(self) -> str:
        return self.drawn.contract_id

    @property
    def buyer_id(self) -> str:
        return self.drawn.buyer_id

    @property
    def supplier_id(self) -> str:
        return self.drawn.supplier_id

    @property
    def paid(self) -> Decimal:
        return sum((payment.value.amount for payment in self.payments.values()), Decimal(0))


def is_works(cpv: str) -> bool:
    return cpv[:2] == WORKS_DIVISION


def ocds_status(contract: Contract) -> str:
    """The contract's OCDS ``contractStatus``."""
    if contract.status in (ContractStatus.DRAWN, ContractStatus.PARTLY_SIGNED):
        return "pending"
    if contract.status is ContractStatus.ACTIVE:
        return "active"
    return "cancelled" if contract.activated_at is None else "terminated"


# The document and its signatures


def contract_document(
    *,
    contract_id: str,
    ocid: str,
    lot_id: str,
    award_id: str,
    buyer_id: str,
    supplier_id: str,
    title: str,
    cpv: str,
    items: Sequence[Item],
    value: Value,
    period: Period,
) -> dict[str, Any]:
    """Exactly what the parties sign, as JSON-ready data; see the module's docstring."""
    return {
        "format": DOCUMENT_FORMAT,
        "contract_id": contract_id,
        "ocid": ocid,
        "lot_id": lot_id,
        "award_id": award_id,
        "buyer_id": buyer_id,
        "supplier_id": supplier_id,
        "title": title,
        "cpv": cpv,
        "items": [
            {
                "id": item.id,
                "description": item.description,
                "cpv": item.cpv,
                "quantity": _plain(item.quantity),
                "unit": item.unit,
            }
            for item in items
        ],
        "value": {"amount": str(value.amount.quantize(CENT)), "currency": value.currency},
        "period": {
            "start_date": period.start_date.isoformat(),
            "end_date": period.end_date.isoformat(),
        },
    }


def document_sha256(document: dict[str, Any]) -> str:
    """The lowercase hex SHA-256 of the document's canonical JSON."""
    return hashlib.sha256(keys.canonical_json(document)).hexdigest()


def document_of(drawn: ContractDrawn) -> dict[str, Any]:
    """The document a ContractDrawn names by its hash, rebuilt from the event."""
    return contract_document(
        contract_id=drawn.contract_id,
        ocid=drawn.ocid,
        lot_id=drawn.lot_id,
        award_id=drawn.award_id,
        buyer_id=drawn.buyer_id,
        supplier_id=drawn.supplier_id,
        title=drawn.title,
        cpv=drawn.cpv,
        items=drawn.items,
        value=drawn.value,
        period=drawn.period,
    )


def _plain(quantity: Decimal) -> str:
    return format(quantity.normalize(), "f")


def signature_fields(contract_id: str, document_sha256: str, party: Party) -> dict[str, Any]:
    """What a party signs, under the purpose ``CONTRACT_SIGNATURE`` (see bidding.keys)."""
    return {"contract_id": contract_id, "document_sha256": document_sha256, "party": str(party)}


def signature_verifies(
    contract: Contract, party: Party, public_key: bytes, signature: bytes
) -> bool:
    fields = signature_fields(contract.contract_id, contract.drawn.document_sha256, party)
    return keys.verify(public_key, signature, CONTRACT_SIGNATURE, fields)


# From the rest of the platform


def award_id(lot_id: str, bid_id: str) -> str:
    return f"{lot_id}:{bid_id}"


def award_facts(tender: Tender, evaluation: Evaluation, lot_id: str) -> AwardFacts | None:
    """The award of the tender's lot, or None while the lot has none."""
    lot = next((lot for lot in tender.requirements.lots if lot.id == lot_id), None)
    state = evaluation.lots.get(lot_id)
    if lot is None or state is None or state.award is None or evaluation.ocid != tender.ocid:
        return None
    return AwardFacts(
        ocid=tender.ocid,
        award_id=award_id(lot_id, state.award.bid_id),
        buyer_id=tender.buyer_id,
        supplier_id=state.award.bidder_id,
        cpv=tender.requirements.cpv,
        lot=lot,
        value=state.award.value,
    )


# Rules, named as the sentences they enforce


def award_must_be_for_the_lot(command: DrawContract, award: AwardFacts | None) -> AwardFacts:
    if award is None:
        msg = f"lot {command.lot_id} of {command.ocid} has no award: a contract is drawn from an award"
        raise NotFound(msg, code="no_award")
    if (award.ocid, award.lot.id) != (command.ocid, command.lot_id):
        msg = f"the award given is for lot {award.lot.id} of {award.ocid}, not lot {command.lot_id} of {command.ocid}"
        raise Rejected(msg, code="wrong_award")
    return award


def standstill_must_be_over(award: AwardFacts, may_be_signed: bool) -> None:
    if not may_be_signed:
        msg = (
            f"the award {award.award_id} of {award.ocid} may not be contracted yet: its standstill "
            "must be over with no complaint open or upheld"
        )
        raise WrongState(msg, code="standstill")


def contract_must_be_drawn(contract: Contract | None, contract_id: str) -> Contract:
    if contract is None:
        raise NotFound(f"contract {contract_id} has not been drawn", code="contract_not_drawn")
    if contract.contract_id != contract_id:
        msg = f"this is contract {contract.contract_id}, not {contract_id}"
        raise Rejected(msg, code="wrong_contract")
    return contract


def contract_must_be(contract: Contract, allowed: Iterable[ContractStatus], doing: str) -> None:
    allowed = tuple(allowed)
    if contract.status not in allowed:
        when = " or ".join(allowed)
        msg = f"contract {contract.contract_id} is {contract.status}: one can {doing} only when it is {when}"
        raise WrongState(msg, code=f"contract_{contract.status}")


def signer_must_be_a_party(contract: Contract, actor: Actor) -> Party:
    if actor.role is Role.OFFICER and actor.agency_id == contract.buyer_id:
        return Party.BUYER
    if actor.role is Role.SUPPLIER and actor.id == contract.supplier_id:
        return Party.SUPPLIER
    msg = (
        f"only an officer of {contract.buyer_id} or the supplier {contract.supplier_id} signs "
        f"contract {contract.contract_id}; {actor.id} is neither"
    )
    raise NotAllowed(msg)


def party_must_not_have_signed(contract: Contract, party: Party) -> None:
    signed = contract.signatures.get(party)
    if signed is not None:
        msg = f"the {party} already signed contract {contract.contract_id}: {signed.signer_id}, at {signed.signed_at.isoformat()}"
        raise WrongState(msg, code="already_signed")


def signature_must_verify(
    contract: Contract, party: Party, public_key: bytes | None, signature: bytes
) -> bytes:
    if public_key is None:
        msg = "the signer has no registered signing key: register one before signing"
        raise Rejected(msg, code="no_signing_key")
    if not signature_verifies(contract, party, public_key, signature):
        msg = (
            f"the signature is not the {party}'s over contract {contract.contract_id} with "
            f"document SHA-256 {contract.drawn.document_sha256} by the key {keys.key_id(public_key)}"
        )
        raise Rejected(msg, code="invalid_signature")
    return public_key


def value_must_be_in_the_contract_currency(contract: Contract, value: Value) -> None:
    if value.currency != contract.value.currency:
        msg = (
            f"contract {contract.contract_id} is in {contract.value.currency}, not {value.currency}"
        )
        raise Rejected(msg, code="wrong_currency")


def value_must_cover_the_payments(contract: Contract, value: Value) -> None:
    if value.amount < contract.paid:
        msg = f"the value {value.amount} {value.currency} is below the {contract.paid} already paid"
        raise Rejected(msg, code="value_below_payments")


def period_must_not_end_before_it_starts(contract: Contract, end_date: date) -> None:
    if end_date < contract.period.start_date:
        msg = f"the new end date {end_date} is before the contract starts, {contract.period.start_date}"
        raise Rejected(msg, code="end_before_start")


def payment_must_fit_the_value(contract: Contract, value: Value) -> None:
    total = contract.paid + value.amount
    if total > contract.value.amount:
        left = contract.value.amount - contract.paid
        msg = (
            f"a payment of {value.amount} {value.currency} would bring the total paid to {total}, "
            f"above the contract value of {contract.value.amount}; at most {left} is left to pay. "
            "Amend the contract first if its value has grown"
        )
        raise Rejected(msg, code="payment_exceeds_value")


def payment_must_be_new(contract: Contract, payment_id: str) -> None:
    if payment_id in contract.payments:
        msg = f"payment {payment_id} is already recorded on contract {contract.contract_id}"
        raise WrongState(msg, code="payment_already_recorded")


def must_not_be_in_the_future(when: date, now: datetime, what: str) -> None:
    if when > now.date():
        msg = f"{what} on {when.isoformat()}, which is after today, {now.date().isoformat()}"
        raise Rejected(msg, code="date_in_future")


def payment_must_not_be_dated_after_now(command: RecordPayment, now: datetime) -> None:
    if command.paid_at > now:
        msg = f"payment {command.payment_id} is dated {command.paid_at.isoformat()}, after now ({now.isoformat()})"
        raise Rejected(msg, code="date_in_future")


def milestone_must_not_be_met_already(contract: Contract, milestone_id: str) -> None:
    milestone = contract.milestones.get(milestone_id)
    if milestone is not None and milestone.status is MilestoneStatus.MET:
        msg = f"milestone {milestone_id} was met on {milestone.date_met}: it no longer changes"
        raise WrongState(msg, code="milestone_met")


def no_milestone_may_be_pending(contract: Contract) -> None:
    pending = sorted(
        m.milestone_id
        for m in contract.milestones.values()
        if m.status is MilestoneStatus.SCHEDULED
    )
    if pending:
        msg = f"milestones {pending} are still scheduled: record each as met or not met, or terminate the contract"
        raise WrongState(msg, code="milestones_open")


# Decisions


def draw(
    command: DrawContract,
    actor: Actor,
    award: AwardFacts | None,
    *,
    contract_id: str,
    may_be_signed: bool,
) -> list[Event]:
    """An officer of the buyer draws the contract of an award whose standstill is over."""
    if actor.role is not Role.OFFICER:
        raise NotAllowed(f"only a procurement officer draws a contract; {actor.id} is {actor.role}")
    award = award_must_be_for_the_lot(command, award)
    officer_must_act_for_the_buyer(actor, award.buyer_id)
    standstill_must_be_over(award, may_be_signed)
    terms: dict[str, Any] = {
        "contract_id": contract_id,
        "ocid": award.ocid,
        "lot_id": award.lot.id,
        "award_id": award.award_id,
        "buyer_id": award.buyer_id,
        "supplier_id": award.supplier_id,
        "title": award.lot.title,
        "cpv": award.cpv,
        "items": tuple(award.lot.items),
        "value": award.value,
        "period": command.period,
    }
    digest = document_sha256(contract_document(**terms))
    return [ContractDrawn(**terms, document_sha256=digest, officer_id=actor.id)]


def sign(
    contract: Contract, command: SignContract, actor: Actor, now: datetime, signer_key: bytes | None
) -> list[Event]:
    """One party signs; the second signature puts the contract in force."""
    party = signer_must_be_a_party(contract, actor)
    contract_must_be(
        contract, [ContractStatus.DRAWN, ContractStatus.PARTLY_SIGNED], "sign the contract"
    )
    party_must_not_have_signed(contract, party)
    public_key = signature_must_verify(contract, party, signer_key, command.signature)
    events: list[Event] = [
        ContractSigned(
            party=party,
            signer_id=actor.id,
            public_key=public_key,
            signature=command.signature,
            signed_at=now,
        )
    ]
    if contract.signatures:  # the other party signed before
        events.append(ContractActivated(activated_at=now))
    return events


def amend(
    contract: Contract,
    command: AmendContract,
    actor: Actor,
    limits: AmendmentLimits = AMENDMENT_LIMITS,
) -> list[Event]:
    officer_must_act_for_the_buyer(actor, contract.buyer_id)
    contract_must_be(contract, [ContractStatus.ACTIVE], "amend the contract")
    value = contract.value if command.value is None else command.value
    end_date = contract.period.end_date if command.end_date is None else command.end_date
    value_must_be_in_the_contract_currency(contract, value)
    if (value.amount, end_date) == (contract.value.amount, contract.period.end_date):
        msg = f"the amendment to contract {contract.contract_id} changes nothing"
        raise Rejected(msg, code="no_change")
    value_must_cover_the_payments(contract, value)
    period_must_not_end_before_it_starts(contract, end_date)
    original = contract.drawn.value.amount
    threshold = limits.for_cpv(contract.drawn.cpv)
    with localcontext(_EXACT):
        increase = value.amount - original
        exceeds = increase * HUNDRED > threshold * original
        change = ((value.amount - contract.value.amount) * HUNDRED / original).quantize(CENT)
        cumulative = (increase * HUNDRED / original).quantize(CENT)
    return [
        ContractAmended(
            amendment_id=f"amendment-{len(contract.amendments) + 1}",
            reason=command.reason,
            previous_value=contract.value,
            value=value,
            previous_end_date=contract.period.end_date,
            end_date=end_date,
            change_percent=change,
            cumulative_change_percent=cumulative,
            threshold_percent=threshold,
            needs_new_procedure=exceeds,
            officer_id=actor.id,
        )
    ]


def record_milestone(
    contract: Contract, command: RecordMilestone, actor: Actor, now: datetime
) -> list[Event]:
    """Set or update a milestone; meeting the last one completes the contract."""
    officer_must_act_for_the_buyer(actor, contract.buyer_id)
    contract_must_be(contract, [ContractStatus.ACTIVE], "record a milestone")
    milestone_must_not_be_met_already(contract, command.milestone_id)
    if command.date_met is not None:
        must_not_be_in_the_future(command.date_met, now, f"milestone {command.milestone_id} met")
    milestone = Milestone(
        milestone_id=command.milestone_id,
        title=command.title,
        due_date=command.due_date,
        status=command.status,
        date_met=command.date_met,
    )
    if contract.milestones.get(command.milestone_id) == milestone:
        msg = f"milestone {command.milestone_id} is already recorded as it is"
        raise Rejected(msg, code="no_change")
    events: list[Event] = [
        MilestoneRecorded(
            milestone_id=milestone.milestone_id,
            title=milestone.title,
            due_date=milestone.due_date,
            status=milestone.status,
            date_met=milestone.date_met,
            officer_id=actor.id,
        )
    ]
    after = {**contract.milestones, milestone.milestone_id: milestone}
    if all(m.status is MilestoneStatus.MET for m in after.values()):
        events.append(
            ContractCompleted(
                reason="every milestone is met", on_last_milestone=True, officer_id=actor.id
            )
        )
    return events


def record_payment(
    contract: Contract, command: RecordPayment, actor: Actor, now: datetime
) -> list[Event]:
    officer_must_act_for_the_buyer(actor, contract.buyer_id)
    contract_must_be(contract, [ContractStatus.ACTIVE], "record a payment")
    payment_must_be_new(contract, command.payment_id)
    value_must_be_in_the_contract_currency(contract, command.value)
    payment_must_not_be_dated_after_now(command, now)
    payment_must_fit_the_value(contract, command.value)
    return [
        PaymentRecorded(
            payment_id=command.payment_id,
            value=command.value,
            paid_at=command.paid_at,
            officer_id=actor.id,
        )
    ]


def complete(contract: Contract, command: CompleteContract, actor: Actor) -> list[Event]:
    officer_must_act_for_the_buyer(actor, contract.buyer_id)
    contract_must_be(contract, [ContractStatus.ACTIVE], "complete the contract")
    no_milestone_may_be_pending(contract)
    return [ContractCompleted(reason=command.reason, on_last_milestone=False, officer_id=actor.id)]


def terminate(contract: Contract, command: TerminateContract, actor: Actor) -> list[Event]:
    officer_must_act_for_the_buyer(actor, contract.buyer_id)
    live = [status for status in ContractStatus if status not in FINAL]
    contract_must_be(contract, live, "terminate the contract")
    return [ContractTerminated(reason=command.reason, officer_id=actor.id)]


def decide(
    contract: Contract | None,
    command: AnyContractCommand,
    actor: Actor,
    now: datetime,
    *,
    award: AwardFacts | None = None,
    contract_id: str | None = None,
    may_be_signed: bool = False,
    signer_key: bytes | None = None,
    limits: AmendmentLimits = AMENDMENT_LIMITS,
) -> list[Event]:
    """Every command of a contract. For DrawContract: the ``award`` of the lot (None when it
    has none), the new ``contract_id`` and ``may_be_signed`` (the award's standstill is over
    and no complaint is open). For SignContract: ``signer_key``, the raw Ed25519 public key
    that the signer registered (None when it has none)."""
    if isinstance(command, DrawContract):
        if contract is not None:
            officer_must_act_for_the_buyer(actor, contract.buyer_id)
            msg = f"the contract of lot {command.lot_id} is already drawn: {contract.contract_id}"
            raise WrongState(msg, code="already_drawn")
        if contract_id is None:
            raise ValueError("drawing a contract needs the id of the new contract")
        return draw(command, actor, award, contract_id=contract_id, may_be_signed=may_be_signed)
    drawn = contract_must_be_drawn(contract, command.contract_id)
    match command:
        case SignContract():
            return sign(drawn, command, actor, now, signer_key)
        case AmendContract():
            return amend(drawn, command, actor, limits)
        case RecordMilestone():
            return record_milestone(drawn, command, actor, now)
        case RecordPayment():
            return record_payment(drawn, command, actor, now)
        case CompleteContract():
            return complete(drawn, command, actor)
        case TerminateContract():
            return terminate(drawn, command, actor)


# Evolution


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
