"""Contracts on the wire: drawn from an award, signed by both parties, amended and carried out.

One aggregate per contract, id ``contract_id``. ``ContractDrawn`` carries every fact the rules
need (the parties, the items, the value, the period, the CPV code that decides the amendment
threshold and the SHA-256 of the signed document), so a contract replays from its own events
alone. The rules are in ``contracts.contract``.
"""

from datetime import date
from decimal import Decimal
from enum import StrEnum
from typing import TYPE_CHECKING, Annotated, Literal, TypeAlias

from pydantic import AwareDatetime, Field, model_validator

from schemas.base import ContractEvent, Message, concrete_events, one_of
from schemas.bids import PublicKey, Sha256Hex, Signature
from schemas.bounds import MAX_REQUIREMENTS_BYTES, MaxJsonBytes
from schemas.commands import Command
from schemas.values import CpvCode, Identifier, Item, Lot, Percent, Text, Title, Value

# A change of value in percent of the original value, signed, to the hundredth.
PercentChange = Annotated[Decimal, Field(max_digits=30, decimal_places=2, allow_inf_nan=False)]
# A lot's items, within the budget of the tender's requirements they come from.
Items = Annotated[
    tuple[Item, ...],
    Field(min_length=1, max_length=500),
    MaxJsonBytes(MAX_REQUIREMENTS_BYTES, "the lot's items"),
]


class Party(StrEnum):
    """Who signs a contract: the contracting authority and the economic operator."""

    BUYER = "buyer"
    SUPPLIER = "supplier"


class MilestoneStatus(StrEnum):
    """OCDS ``milestoneStatus``, without ``partiallyMet``."""

    SCHEDULED = "scheduled"
    MET = "met"
    NOT_MET = "notMet"


class Period(Message):
    """The contract's duration, both days included."""

    start_date: date
    end_date: date

    @model_validator(mode="after")
    def _ends_after_it_starts(self) -> "Period":
        if self.end_date < self.start_date:
            msg = f"the period ends on {self.end_date}, before it starts on {self.start_date}"
            raise ValueError(msg)
        return self


def _check_date_met(status: MilestoneStatus, date_met: date | None) -> None:
    if (status is MilestoneStatus.MET) != (date_met is not None):
        msg = f"a milestone that is met has the date it was met, and only then (status {status}, date_met {date_met})"
        raise ValueError(msg)


# What a contract is drawn from


class AwardFacts(Message):
    """The award a contract is drawn from, as the caller found it in the tender and its
    evaluation (see ``contracts.contract.award_facts``)."""

    ocid: Identifier
    award_id: Identifier
    buyer_id: Identifier
    supplier_id: Identifier
    cpv: CpvCode  # the tender's main CPV code: division 45 is works
    lot: Lot  # as published: its title and items
    value: Value  # the awarded price

    @model_validator(mode="after")
    def _value_in_the_lots_currency(self) -> "AwardFacts":
        if self.value.currency != self.lot.value.currency:
            msg = f"the award is in {self.value.currency}, the lot in {self.lot.value.currency}"
            raise ValueError(msg)
        return self


# Events


class ContractDrawn(ContractEvent):
    public = True
    type: Literal["ContractDrawn"] = "ContractDrawn"
    contract_id: Identifier
    ocid: Identifier
    lot_id: Identifier
    award_id: Identifier
    buyer_id: Identifier
    supplier_id: Identifier
    title: Title  # the lot's
    cpv: CpvCode  # the tender's main CPV code
    items: Items  # the lot's
    value: Value  # the awarded value
    period: Period
    document_sha256: Sha256Hex  # of the canonical JSON of contracts.contract.contract_document
    officer_id: Identifier


class ContractSigned(ContractEvent):
    """One party's Ed25519 signature over the document's hash (contracts.contract.signature_fields)."""

    public = False
    type: Literal["ContractSigned"] = "ContractSigned"
    party: Party
    signer_id: Identifier  # the officer who signed for the buyer, or the supplier itself
    public_key: PublicKey  # the signer's registered key, so anyone can verify offline
    signature: Signature
    signed_at: AwareDatetime


class ContractActivated(ContractEvent):
    """Both parties signed: the contract is in force (OCDS ``dateSigned``)."""

    public = True
    type: Literal["ContractActivated"] = "ContractActivated"
    activated_at: AwareDatetime


class ContractAmended(ContractEvent):
    """A change of value and/or end date. Percentages are of the ORIGINAL value; the
    cumulative one is the net change over every amendment so far (Directive 2014/24/EU,
    Article 72(2))."""

    public = True
    type: Literal["ContractAmended"] = "ContractAmended"
    amendment_id: Identifier  # amendment-1, amendment-2...
    reason: Text
    previous_value: Value
    value: Value
    previous_end_date: date
    end_date: date
    change_percent: PercentChange  # (value - previous value) / original value * 100
    cumulative_change_percent: PercentChange  # (value - original value) / original value * 100
    threshold_percent: Percent  # the limit for this contract: 10 supplies/services, 15 works
    needs_new_procedure: bool  # the cumulative increase exceeds the threshold
    officer_id: Identifier


class MilestoneRecorded(ContractEvent):
    """A milestone set or updated: recording the same id again replaces it."""

    public = False
    type: Literal["MilestoneRecorded"] = "MilestoneRecorded"
    milestone_id: Identifier
    title: Title
    due_date: date
    status: MilestoneStatus
    date_met: date | None = None
    officer_id: Identifier

    @model_validator(mode="after")
    def _met_has_a_date(self) -> "MilestoneRecorded":
        _check_date_met(self.status, self.date_met)
        return self


class PaymentRecorded(ContractEvent):
    public = False
    type: Literal["PaymentRecorded"] = "PaymentRecorded"
    payment_id: Identifier
    value: Value  # in the contract's currency
    paid_at: AwareDatetime
    officer_id: Identifier


class ContractCompleted(ContractEvent):
    """Final. Either the last milestone was met, or an officer closed the contract."""

    public = True
    type: Literal["ContractCompleted"] = "ContractCompleted"
    reason: Text
    on_last_milestone: bool  # True: recorded with the MilestoneRecorded that met the last one
    officer_id: Identifier


class ContractTerminated(ContractEvent):
    """Final. Before activation it ends a contract that was never in force (OCDS ``cancelled``)."""

    public = True
    type: Literal["ContractTerminated"] = "ContractTerminated"
    reason: Text
    officer_id: Identifier


CONTRACT_EVENTS = concrete_events(ContractEvent)
if TYPE_CHECKING:
    AnyContractEvent: TypeAlias = ContractEvent
else:
    AnyContractEvent = one_of(CONTRACT_EVENTS)


# Commands: every one but DrawContract names its contract.


class DrawContract(Command):
    """Draw the contract of an awarded lot; the award itself is looked up by the caller."""

    ocid: Identifier
    lot_id: Identifier
    period: Period


class ContractCommand(Command):
    contract_id: Identifier


class SignContract(ContractCommand):
    signature: Signature  # over contracts.contract.signature_fields, for the signer's party


class AmendContract(ContractCommand):
    reason: Text
    value: Value | None = None
    end_date: date | None = None

    @model_validator(mode="after")
    def _changes_something(self) -> "AmendContract":
        if self.value is None and self.end_date is None:
            raise ValueError("an amendment must change the value, the end date, or both")
        return self


class RecordMilestone(ContractCommand):
    milestone_id: Identifier
    title: Title
    due_date: date
    status: MilestoneStatus = MilestoneStatus.SCHEDULED
    date_met: date | None = None

    @model_validator(mode="after")
    def _met_has_a_date(self) -> "RecordMilestone":
        _check_date_met(self.status, self.date_met)
        return self


class RecordPayment(ContractCommand):
    payment_id: Identifier  # the payment order's number: recorded once
    value: Value
    paid_at: AwareDatetime


class CompleteContract(ContractCommand):
    reason: Text


class TerminateContract(ContractCommand):
    reason: Text


AnyContractCommand = (
    DrawContract
    | SignContract
    | AmendContract
    | RecordMilestone
    | RecordPayment
    | CompleteContract
    | TerminateContract
)
