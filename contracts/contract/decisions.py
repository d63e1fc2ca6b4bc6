"""Every command of a contract, decided: the events it records, or the rule it breaks."""

from datetime import datetime
from decimal import ROUND_HALF_UP, Context, Decimal, localcontext
from typing import Any

from contracts.contract.documents import CENT, contract_document, document_sha256
from contracts.contract.rules import (
    AMENDMENT_LIMITS,
    AmendmentLimits,
    award_must_be_for_the_lot,
    contract_must_be,
    contract_must_be_drawn,
    milestone_must_not_be_met_already,
    must_not_be_in_the_future,
    no_milestone_may_be_pending,
    party_must_not_have_signed,
    payment_must_be_new,
    payment_must_fit_the_value,
    payment_must_not_be_dated_after_now,
    period_must_not_end_before_it_starts,
    signature_must_verify,
    signer_must_be_a_party,
    standstill_must_be_over,
    value_must_be_in_the_contract_currency,
    value_must_cover_the_payments,
)
from contracts.contract.state import FINAL, Contract, ContractStatus, Milestone
from procurement.errors import NotAllowed, Rejected, WrongState
from procurement.tender import officer_must_act_for_the_buyer
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
    PaymentRecorded,
    RecordMilestone,
    RecordPayment,
    SignContract,
    TerminateContract,
)
from schemas.events import Event

HUNDRED = Decimal(100)
_EXACT = Context(prec=60, rounding=ROUND_HALF_UP)  # wide enough that nothing here rounds


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
    """Only a contract in force is terminated. One not concluded yet ends with its award:
    terminated alone, it would leave the award standing beside a contract that can never be
    concluded, so the buyer annuls the award instead, which cancels the contract with it."""
    officer_must_act_for_the_buyer(actor, contract.buyer_id)
    if contract.status in (ContractStatus.DRAWN, ContractStatus.PARTLY_SIGNED):
        msg = (
            f"contract {contract.contract_id} is {contract.status}, not in force: it is not "
            "terminated; annul its award (POST /tenders/{ocid}/evaluation/award-annulments), "
            "which cancels the contract with it"
        )
        raise WrongState(msg, code="contract_not_concluded")
    contract_must_be(contract, [ContractStatus.ACTIVE], "terminate the contract")
    return [ContractTerminated(reason=command.reason, officer_id=actor.id)]


def cancel_with_the_award(contract: Contract | None, reason: str, officer_id: str) -> list[Event]:
    """The award a contract was drawn from is annulled, or its lot or procedure cancelled:
    the contract, not concluded yet, is cancelled with it. A concluded one is left alone:
    those steps are refused once a contract is concluded."""
    if contract is None or contract.status in FINAL or contract.status is ContractStatus.ACTIVE:
        return []
    return [ContractTerminated(reason=reason, officer_id=officer_id)]


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
