"""The state of one contract: its status and lifecycle, and what evolving its events builds."""

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum

from schemas.contracts import ContractDrawn, MilestoneStatus, Party, Period
from schemas.values import Value


def contract_id_for(ocid: str, lot_id: str, award_number: int = 1) -> str:
    """The aggregate id of the contract drawn from a lot's award: ``<ocid>:contract:<lot>``
    for the lot's first award, ``<ocid>:contract:<lot>:2`` for the next after an annulment."""
    suffix = "" if award_number == 1 else f":{award_number}"
    return f"{ocid}:contract:{lot_id}{suffix}"


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


def ocds_status(contract: Contract) -> str:
    """The contract's OCDS ``contractStatus``."""
    if contract.status in (ContractStatus.DRAWN, ContractStatus.PARTLY_SIGNED):
        return "pending"
    if contract.status is ContractStatus.ACTIVE:
        return "active"
    return "cancelled" if contract.activated_at is None else "terminated"
