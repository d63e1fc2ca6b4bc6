"""The rules of a contract, named as the sentences they enforce, and the amendment limits."""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from bidding import keys
from contracts.contract.documents import signature_verifies
from contracts.contract.state import Contract, ContractStatus
from procurement.errors import NotAllowed, NotFound, Rejected, WrongState
from schemas.commands import Actor, Role
from schemas.contracts import AwardFacts, DrawContract, MilestoneStatus, Party, RecordPayment
from schemas.values import Value

WORKS_DIVISION = "45"  # CPV division 45: construction work


@dataclass(frozen=True)
class AmendmentLimits:
    """How far, in percent of the original value, amendments may raise a contract's value
    before a new procedure is needed (Directive 2014/24/EU, Article 72(2))."""

    supplies_and_services: Decimal = Decimal(10)
    works: Decimal = Decimal(15)

    def for_cpv(self, cpv: str) -> Decimal:
        return self.works if is_works(cpv) else self.supplies_and_services


AMENDMENT_LIMITS = AmendmentLimits()


def is_works(cpv: str) -> bool:
    return cpv[:2] == WORKS_DIVISION


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
