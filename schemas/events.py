"""Every event the platform records, and the envelope that carries one.

Events are facts in the past tense. ``type`` tells them apart, so one ``TypeAdapter``
reads any of them; ``schema_version`` says which shape of that type was written, and
``schemas.upcasting`` lifts older shapes to the current one before validation.
"""

from datetime import datetime
from typing import TYPE_CHECKING, Annotated, ClassVar, Literal, Self, TypeAlias
from uuid import UUID

from pydantic import AwareDatetime, BeforeValidator, Field, TypeAdapter, model_validator

from schemas import (  # noqa: F401  their events join the union
    auction,
    catalogue,
    claims,
    committee,
    conditions_complaints,
    contracts,
    evaluation,
    reconfirmations,
)
from schemas import documents as documents  # re-exported, and its events join the union
from schemas import enquiries as enquiries  # re-exported, and its events join the union
from schemas.base import BidEvent, Message, PartyEvent, TenderEvent, concrete_events, one_of
from schemas.base import Event as Event  # re-exported: events subclass it
from schemas.bids import (
    BidContent,
    Ciphertext,
    HybridPublicKey,
    KeyShare,
    PublicKey,
    Receipt,
    SealedShareBytes,
    Sha256Hex,
    Signature,
)
from schemas.commands import Role
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


class AgencyRegistered(PartyEvent):
    public = False
    type: Literal["AgencyRegistered"] = "AgencyRegistered"
    agency_id: Identifier
    name: Title
    identifier: Identifier  # the national registration number, e.g. RO-CUI-4267117


class OfficerRegistered(PartyEvent):
    public = False
    type: Literal["OfficerRegistered"] = "OfficerRegistered"
    officer_id: Identifier
    agency_id: Identifier
    name: Title
    email: Email
    role: Literal[Role.OFFICER, Role.REVIEWER, Role.AGENCY_ADMIN] = Role.OFFICER  # older: officers
    # Who registered it, so that a committee shows its members were not made by the officer
    # who names it. Older events did not record it and read as an unknown officer's doing:
    # until an administrator registers them again they cannot sit on a committee.
    registered_by: Identifier | None = None
    registered_by_role: Role = Role.OFFICER


class SupplierRegistered(PartyEvent):
    public = False
    type: Literal["SupplierRegistered"] = "SupplierRegistered"
    supplier_id: Identifier
    name: Title
    identifier: Identifier
    is_sme: bool
    email: Email
    signing_key: PublicKey


class CommitteeKeysRegistered(PartyEvent):
    public = False
    type: Literal["CommitteeKeysRegistered"] = "CommitteeKeysRegistered"
    officer_id: Identifier
    encryption_key: PublicKey
    signing_key: PublicKey
    # The member's own signature binding the keys to it, kept so that anyone reading the key
    # log can check it: a key the operator wrote in a member's name has none. Older events
    # lack it, and clients refuse to seal to such a member until it registers again.
    proof: Signature | None = None
    # Absent from registrations made before the post-quantum suite.
    hybrid_encryption_key: HybridPublicKey | None = None


# Tenders


class TenderPublished(TenderEvent):
    schema_version: ClassVar[int] = 2  # v2 added procedure_type; v1 tenders were all open
    public = True
    type: Literal["TenderPublished"] = "TenderPublished"
    tender_id: Identifier
    ocid: Identifier
    buyer_id: Identifier
    title: Title
    description: Text
    procedure_type: ProcedureType
    requirements: Requirements
    submission_deadline: AwareDatetime
    # When questions close. Tenders published before enquiries have none: theirs ends the
    # rules' enquiry period before the deadline (procurement.enquiries).
    enquiry_period_end: AwareDatetime | None = None


class TenderDetailsAmended(TenderEvent):
    """Wording changed; what is bought and how it is judged did not."""

    public = True
    type: Literal["TenderDetailsAmended"] = "TenderDetailsAmended"
    title: Title
    description: Text
    reason: Text


class TenderRequirementsAmended(TenderEvent):
    """A significant change: lots, items, values, classification or award criteria."""

    public = True
    type: Literal["TenderRequirementsAmended"] = "TenderRequirementsAmended"
    requirements: Requirements
    reason: Text


class TenderDeadlineExtended(TenderEvent):
    public = True
    type: Literal["TenderDeadlineExtended"] = "TenderDeadlineExtended"
    previous_deadline: AwareDatetime
    submission_deadline: AwareDatetime
    reason: Text
    required_by_rules: bool  # True when a significant amendment forced the extension


class TenderCancelled(TenderEvent):
    public = True
    type: Literal["TenderCancelled"] = "TenderCancelled"
    reason: Text


class TenderUnsuccessful(TenderEvent):
    """The tender closed with no bid to evaluate: it ends without an award."""

    public = True
    type: Literal["TenderUnsuccessful"] = "TenderUnsuccessful"
    reason: Text


class TenderClosed(TenderEvent):
    """The submission deadline passed: no bid is accepted any more."""

    public = True
    type: Literal["TenderClosed"] = "TenderClosed"
    submission_deadline: AwareDatetime


# Sealed bids: one bid log per tender, aggregate id "<ocid>:bids"


class BidEntry(BidEvent):
    """An entry of a bid log: a bid or a withdrawal, with its receipt and its position. The
    position is the platform's alone until the seal (a bidder who knew it would know how many
    entries came before its own); older entries carry it in their receipt instead."""

    receipt: Receipt
    log_index: int | None = Field(default=None, ge=0)

    @property
    def position(self) -> int:
        """The entry's index in the log: its leaf's index in the sealed tree."""
        position = self.log_index if self.log_index is not None else self.receipt.log_index
        assert position is not None, f"the entry {self.receipt.bid_id} has no position"
        return position


class BidSubmitted(BidEntry):
    public = False
    type: Literal["BidSubmitted"] = "BidSubmitted"
    ciphertext: Ciphertext  # still sealed: nobody can read it before the opening
    # A bid sealed to a committee carries these three; one sealed to an opening key before
    # committees existed (version 1, still in older stores) carries none of them.
    key_commitment: Sha256Hex | None = None
    material_sha256: Sha256Hex | None = None
    key_shares: Annotated[list[KeyShare], Field(max_length=20, default_factory=list)]
    signature: Signature

    @model_validator(mode="after")
    def _sealed_to_a_committee_or_before_committees(self) -> Self:
        given = (self.key_commitment, self.material_sha256, self.key_shares or None)
        if any(value is None for value in given) and any(value is not None for value in given):
            raise ValueError("key_commitment, material_sha256 and key_shares go together")
        if self.key_shares and len(self.key_shares) < 2:
            raise ValueError("a bid's key is split among at least 2 members")
        return self


class BidWithdrawn(BidEntry):
    public = False
    type: Literal["BidWithdrawn"] = "BidWithdrawn"
    signature: Signature


# Legacy: version 1 sealing, before committees, bids were sealed to one opening key whose
# shares the committee held. Stores from then still hold these events: they are read (the
# log keeps its receipts and seal) but never written; such a log cannot be opened now.


class LegacyEncryptedShare(Message):
    officer_id: Identifier
    x: int = Field(ge=1, le=255)
    encrypted_share: SealedShareBytes
    share_sha256: Sha256Hex


class OpeningKeyIssued(BidEvent):
    """Legacy (version 1 sealing): the tender's opening key; it started the bid log."""

    public = True
    type: Literal["OpeningKeyIssued"] = "OpeningKeyIssued"
    ocid: Identifier
    public_key: PublicKey
    threshold: int
    shares: Annotated[list[LegacyEncryptedShare], Field(max_length=20)]


class OpeningShareAccepted(BidEvent):
    """Legacy (version 1 sealing): a member's share of the opening key was accepted."""

    public = False
    type: Literal["OpeningShareAccepted"] = "OpeningShareAccepted"
    officer_id: Identifier
    x: int


class BidLogSealed(BidEvent):
    """The deadline passed: the bid log's Merkle tree is fixed and its root is public."""

    public = True
    type: Literal["BidLogSealed"] = "BidLogSealed"
    tree_size: int
    root: Sha256Hex


class BidOpened(BidEvent):
    public = False
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


class BidRejected(BidEvent):
    """A bid that could not be opened as sent, or not used as opened: the reason says why."""

    public = False
    type: Literal["BidRejected"] = "BidRejected"
    bid_id: Identifier
    bidder_id: Identifier
    version: int
    reason_code: Literal[
        "tampered",
        "wrong_tender_or_lot",
        "invalid_signature",
        "bad_key_shares",
        "unreadable",
        # It opened, but cannot be evaluated (bidding.opening.bid_must_fit_the_tender):
        "unknown_lot",
        "wrong_currency",
        # Not opened: sent before a significant amendment and never reconfirmed.
        "not_reconfirmed",
    ]
    # Written from the bid itself, whose validation report can run to megabytes: cut to
    # fit, so that one bidder cannot make its own rejection, and the opening, fail.
    reason: Annotated[Text, BeforeValidator(_cut_to_fit)]


class BidsOpened(BidEvent):
    """The opening ceremony is over: who took part, and what came out."""

    public = True
    type: Literal["BidsOpened"] = "BidsOpened"
    participants: Annotated[list[Identifier], Field(max_length=20)]  # the committee
    opened: int
    rejected: int
    tree_size: int
    root: Sha256Hex
    log_matches_root: bool  # False: the stored log was altered after it was sealed


# Every event class of the modules imported above, read by its ``type``: a new event joins
# the union by being written, and a new module of events by being imported here.
RECORDED = concrete_events(Event)
if TYPE_CHECKING:
    AnyEvent: TypeAlias = Event
else:
    AnyEvent = one_of(RECORDED)
EVENT_TYPES: dict[str, type[Event]] = {cls.model_fields["type"].default: cls for cls in RECORDED}


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
