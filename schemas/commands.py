"""Every command the platform accepts: what someone asks for, in the imperative.

Commands are validated here, at the edge, before any rule of the domain runs; a command
that does not validate never reaches the event store.
"""

from enum import StrEnum
from typing import Annotated, Literal

from pydantic import AwareDatetime, Field, model_validator

from schemas.base import Message
from schemas.bids import HybridPublicKey, PublicKey, Signature
from schemas.identities import PartyIdentifier, PartyName
from schemas.values import Email, Identifier, ProcedureType, Requirements, Text, Title


class Role(StrEnum):
    OPERATOR = "operator"  # runs the platform and registers agencies
    OFFICER = "officer"  # a procurement officer of one agency
    SYSTEM = "system"  # the platform's own services, such as the deadline service
    SUPPLIER = "supplier"  # an economic operator, usually an SME, that bids for itself
    REVIEWER = "reviewer"  # an officer of an agency who rules on complaints
    # registers its agency's officers and reviewers, and does nothing else: whoever names a
    # committee cannot also have made its members
    AGENCY_ADMIN = "agency_admin"


class Actor(Message):
    """Who is acting, as established by authentication, never by the request body."""

    id: Identifier
    role: Role
    agency_id: Identifier | None = None


class Command(Message):
    pass


class RegisterAgency(Command):
    name: PartyName
    identifier: PartyIdentifier  # the national registration number, e.g. RO-CUI-4305857


class RegisterOfficer(Command):
    agency_id: Identifier
    name: PartyName
    email: Email
    # A reviewer rules on complaints, for a review body such as Romania's CNSC; a reviewer
    # never rules on a complaint about its own agency's procedure.
    # An agency's administrator is registered by the operator, and registers the others.
    role: Literal[Role.OFFICER, Role.REVIEWER, Role.AGENCY_ADMIN] = Role.OFFICER


class PublishTender(Command):
    title: Title
    description: Text
    procedure_type: ProcedureType = ProcedureType.OPEN
    requirements: Requirements
    submission_deadline: AwareDatetime
    # When questions close; by default procurement.rules' period before the deadline.
    enquiry_period_end: AwareDatetime | None = None


class TenderAmendment(Command):
    """What an amendment changes; each kind of change becomes its own event."""

    reason: Text
    title: Title | None = None
    description: Text | None = None
    requirements: Requirements | None = None
    submission_deadline: AwareDatetime | None = None

    @model_validator(mode="after")
    def _changes_something(self) -> "TenderAmendment":
        fields = ("title", "description", "requirements", "submission_deadline")
        if all(getattr(self, name) is None for name in fields):
            msg = f"an amendment must change at least one of: {', '.join(fields)}"
            raise ValueError(msg)
        return self


class AmendTender(TenderAmendment):
    ocid: Identifier


class Cancellation(Command):
    reason: Text


class CancelTender(Cancellation):
    ocid: Identifier


class CloseTender(Command):
    ocid: Identifier


class RegisterSupplier(Command):
    """An economic operator registers itself with the public half of its signing key.

    ``proof`` is the key's signature over the registration (see bidding.keys), so nobody
    registers a key they do not hold."""

    name: PartyName
    identifier: PartyIdentifier  # the national registration number, e.g. RO-CUI-14399840
    is_sme: bool
    email: Email
    signing_key: PublicKey  # Ed25519
    proof: Signature


class CommitteeKeys(Command):
    """An officer's keys for sitting on evaluation committees, with proof of holding them."""

    encryption_key: PublicKey  # X25519: bids' key shares are sealed to it (suite x25519)
    signing_key: PublicKey  # Ed25519: signs confirmations and the shares handed in
    proof: Signature  # by the signing key over every key here (procurement-committee-keys/1)
    # ML-KEM-768+X25519: key shares of tenders with the post-quantum suite are sealed to it
    hybrid_encryption_key: HybridPublicKey | None = None


class RegisterCommitteeKeys(CommitteeKeys):
    officer_id: Identifier


TenderCommand = PublishTender | AmendTender | CancelTender | CloseTender
PartyCommand = RegisterAgency | RegisterOfficer | RegisterSupplier | RegisterCommitteeKeys
AnyCommand = Annotated[TenderCommand | PartyCommand, Field(union_mode="left_to_right")]
