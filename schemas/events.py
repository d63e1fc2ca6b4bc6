"""Every event the platform records, and the envelope that carries one.

Events are facts in the past tense. ``type`` tells them apart, so one ``TypeAdapter``
reads any of them; ``schema_version`` says which shape of that type was written, and
``schemas.upcasting`` lifts older shapes to the current one before validation.
"""

from datetime import datetime
from typing import Annotated, ClassVar, Literal
from uuid import UUID

from pydantic import AwareDatetime, BeforeValidator, Field, TypeAdapter

from schemas.auction import AUCTION_EVENTS, AuctionEvent
from schemas.base import Event as Event  # re-exported: events subclass it
from schemas.base import Message
from schemas.bids import (
    BidContent,
    Ciphertext,
    EncryptedShare,
    PublicKey,
    Receipt,
    Sha256Hex,
    Signature,
)
from schemas.claims import CLAIM_EVENTS, ClaimEvent
from schemas.commands import Role
from schemas.contracts import CONTRACT_EVENTS, ContractEvent
from schemas.evaluation import EVALUATION_EVENTS, EvaluationEvent
from schemas.values import (
    MAX_TEXT_CHARS,
    Email,
    Identifier,
    ProcedureType,
    Requirements,
    Text,
    Title,
)

# Parties


class AgencyRegistered(Event):
    type: Literal["AgencyRegistered"] = "AgencyRegistered"
    agency_id: Identifier
    name: Title
    identifier: Identifier  # the national registration number, e.g. RO-CUI-4267117


class OfficerRegistered(Event):
    type: Literal["OfficerRegistered"] = "OfficerRegistered"
    officer_id: Identifier
    agency_id: Identifier
    name: Title
    email: Email
    role: Literal[Role.OFFICER, Role.REVIEWER] = Role.OFFICER  # older events: officers


class SupplierRegistered(Event):
    type: Literal["SupplierRegistered"] = "SupplierRegistered"
    supplier_id: Identifier
    name: Title
    identifier: Identifier
    is_sme: bool
    email: Email
    signing_key: PublicKey


class CommitteeKeysRegistered(Event):
    type: Literal["CommitteeKeysRegistered"] = "CommitteeKeysRegistered"
    officer_id: Identifier
    encryption_key: PublicKey
    signing_key: PublicKey


# Tenders


class TenderPublished(Event):
    schema_version: ClassVar[int] = 2  # v2 added procedure_type; v1 tenders were all open
    type: Literal["TenderPublished"] = "TenderPublished"
    tender_id: Identifier
    ocid: Identifier
    buyer_id: Identifier
    title: Title
    description: Text
    procedure_type: ProcedureType
    requirements: Requirements
    submission_deadline: AwareDatetime


class TenderDetailsAmended(Event):
    """Wording changed; what is bought and how it is judged did not."""

    type: Literal["TenderDetailsAmended"] = "TenderDetailsAmended"
    title: Title
    description: Text
    reason: Text


class TenderRequirementsAmended(Event):
    """A significant change: lots, items, values, classification or award criteria."""

    type: Literal["TenderRequirementsAmended"] = "TenderRequirementsAmended"
    requirements: Requirements
    reason: Text


class TenderDeadlineExtended(Event):
    type: Literal["TenderDeadlineExtended"] = "TenderDeadlineExtended"
    previous_deadline: AwareDatetime
    submission_deadline: AwareDatetime
    reason: Text
    required_by_rules: bool  # True when a significant amendment forced the extension


class TenderCancelled(Event):
    type: Literal["TenderCancelled"] = "TenderCancelled"
    reason: Text


class TenderClosed(Event):
    """The submission deadline passed: no bid is accepted any more."""

    type: Literal["TenderClosed"] = "TenderClosed"
    submission_deadline: AwareDatetime


# Sealed bids: one bid log per tender, aggregate id "<ocid>:bids"


class OpeningKeyIssued(Event):
    type: Literal["OpeningKeyIssued"] = "OpeningKeyIssued"
    ocid: Identifier
    public_key: PublicKey
    threshold: int
    shares: Annotated[list[EncryptedShare], Field(max_length=20)]


class BidSubmitted(Event):
    type: Literal["BidSubmitted"] = "BidSubmitted"
    receipt: Receipt
    ciphertext: Ciphertext  # still sealed: nobody can read it before the opening
    signature: Signature


class BidWithdrawn(Event):
    type: Literal["BidWithdrawn"] = "BidWithdrawn"
    receipt: Receipt
    signature: Signature


class BidLogSealed(Event):
    """The deadline passed: the bid log's Merkle tree is fixed and its root is public."""

    type: Literal["BidLogSealed"] = "BidLogSealed"
    tree_size: int
    root: Sha256Hex


class OpeningShareAccepted(Event):
    type: Literal["OpeningShareAccepted"] = "OpeningShareAccepted"
    officer_id: Identifier
    x: int


class BidOpened(Event):
    type: Literal["BidOpened"] = "BidOpened"
    bid_id: Identifier
    bidder_id: Identifier
    version: int
    content: BidContent


_CUT = " [… cut]"


def _cut_to_fit(reason: object) -> object:
    if isinstance(reason, str) and len(reason) > MAX_TEXT_CHARS:
        return reason[: MAX_TEXT_CHARS - len(_CUT)] + _CUT
    return reason


class BidRejected(Event):
    """A bid that could not be opened as sent: the reason says what failed."""

    type: Literal["BidRejected"] = "BidRejected"
    bid_id: Identifier
    bidder_id: Identifier
    version: int
    reason_code: Literal["tampered", "wrong_tender_or_lot", "invalid_signature", "unreadable"]
    # Written from the bid itself, whose validation report can run to megabytes: cut to
    # fit, so that one bidder cannot make its own rejection, and the opening, fail.
    reason: Annotated[Text, BeforeValidator(_cut_to_fit)]


class BidsOpened(Event):
    """The opening ceremony is over: who took part, and what came out."""

    type: Literal["BidsOpened"] = "BidsOpened"
    participants: Annotated[list[Identifier], Field(max_length=20)]  # the committee
    opened: int
    rejected: int
    tree_size: int
    root: Sha256Hex
    log_matches_root: bool  # False: the stored log was altered after it was sealed


AnyEvent = Annotated[
    AgencyRegistered
    | OfficerRegistered
    | TenderPublished
    | TenderDetailsAmended
    | TenderRequirementsAmended
    | TenderDeadlineExtended
    | TenderCancelled
    | TenderClosed
    | SupplierRegistered
    | CommitteeKeysRegistered
    | ClaimEvent
    | OpeningKeyIssued
    | BidSubmitted
    | BidWithdrawn
    | BidLogSealed
    | OpeningShareAccepted
    | BidOpened
    | BidRejected
    | BidsOpened
    | EvaluationEvent
    | AuctionEvent
    | ContractEvent,
    Field(discriminator="type"),
]

_RECORDED: tuple[type[Event], ...] = (
    AgencyRegistered,
    OfficerRegistered,
    TenderPublished,
    TenderDetailsAmended,
    TenderRequirementsAmended,
    TenderDeadlineExtended,
    TenderCancelled,
    TenderClosed,
    SupplierRegistered,
    CommitteeKeysRegistered,
    *CLAIM_EVENTS,
    OpeningKeyIssued,
    BidSubmitted,
    BidWithdrawn,
    BidLogSealed,
    OpeningShareAccepted,
    BidOpened,
    BidRejected,
    BidsOpened,
    *EVALUATION_EVENTS,
    *AUCTION_EVENTS,
    *CONTRACT_EVENTS,
)
EVENT_TYPES: dict[str, type[Event]] = {cls.model_fields["type"].default: cls for cls in _RECORDED}


class Envelope(Message):
    """One recorded event with the facts every consumer needs to order and deduplicate it."""

    event_id: UUID
    schema_version: int = Field(ge=1)
    occurred_at: AwareDatetime
    aggregate_id: Identifier  # a tender's ocid, or a party's id
    sequence: int = Field(ge=1)  # 1, 2, 3... within one aggregate, with no gaps
    actor: Identifier
    command_id: UUID | None = None
    event: AnyEvent

    @property
    def type(self) -> str:
        return self.event.type


def envelope(
    event: Event,
    *,
    event_id: UUID,
    aggregate_id: str,
    sequence: int,
    actor: str,
    occurred_at: datetime,
    command_id: UUID | None = None,
) -> Envelope:
    """Wrap an event, stamping the schema version its type is written at today."""
    return Envelope(
        event_id=event_id,
        schema_version=type(event).schema_version,
        occurred_at=occurred_at,
        aggregate_id=aggregate_id,
        sequence=sequence,
        actor=actor,
        command_id=command_id,
        event=event,
    )


ENVELOPE = TypeAdapter(Envelope)
