"""A tender's evaluation committee and bids sealed to it, on the wire.

No opening key exists: each bid's own content key is split k-of-n among the committee
members and each share is sealed to one member's own encryption key. The exact bytes that
are signed, sealed and hashed are defined in ``bidding.committee`` and
``bidding.committee_sealing`` and in docs/sealed-bids.md.
"""

from typing import Annotated, Literal

from pydantic import Field, model_validator

from schemas.base import BidEvent, Message
from schemas.bids import (
    MAX_MEMBERS,
    Base64,
    Lots,
    PublicKey,
    SealedShareBytes,
    Sha256Hex,
    Signature,
    base64_of,
)
from schemas.commands import Command
from schemas.text import OneLine
from schemas.values import Identifier

Suite = Literal["x25519", "mlkem768-x25519"]
SUITES: tuple[Suite, ...] = ("x25519", "mlkem768-x25519")
X25519_KEY_BYTES = 32
# An X-Wing public key: the ML-KEM-768 encapsulation key (1184 bytes), then X25519's (32).
HYBRID_KEY_BYTES = 1184 + 32
KEY_BYTES: dict[str, int] = {"x25519": X25519_KEY_BYTES, "mlkem768-x25519": HYBRID_KEY_BYTES}

EncryptionKey = Annotated[
    Base64,
    Field(min_length=X25519_KEY_BYTES, max_length=HYBRID_KEY_BYTES),
    base64_of(at_most=HYBRID_KEY_BYTES),
]
ShareBytes = Annotated[Base64, Field(min_length=67, max_length=67), base64_of(67)]
Problem = Annotated[str, Field(min_length=1, max_length=500), OneLine]


class CommitteeMember(Message):
    officer_id: Identifier
    encryption_key: EncryptionKey  # the suite's key: raw X25519, or an X-Wing public key
    signing_key: PublicKey  # Ed25519


class CommitteeMaterial(Message):
    """What bidders seal to: the committee's public keys, the threshold and the suite.
    Its canonical JSON's SHA-256 is what members confirm and bidders sign."""

    ocid: Identifier
    suite: Suite
    threshold: int = Field(ge=2, le=MAX_MEMBERS)
    members: Annotated[list[CommitteeMember], Field(min_length=2, max_length=MAX_MEMBERS)]

    @model_validator(mode="after")
    def _members_sorted_distinct_and_of_the_suite(self) -> "CommitteeMaterial":
        ids = [member.officer_id for member in self.members]
        if ids != sorted(set(ids)):
            raise ValueError("members must be listed once each, sorted by officer_id")
        if self.threshold > len(ids):
            raise ValueError(f"a threshold of {self.threshold} needs that many members")
        size = KEY_BYTES[self.suite]
        for member in self.members:
            if len(member.encryption_key) != size:
                msg = f"{member.officer_id}'s encryption key is {len(member.encryption_key)} bytes; the {self.suite} suite's are {size}"
                raise ValueError(msg)
        return self


class CommitteeConfirmation(Message):
    """A member's signature over the material's digest: its keys and the others' checked."""

    officer_id: Identifier
    material_sha256: Sha256Hex
    signature: Signature


class HandedShare(Message):
    """A member's decrypted share of one bid, or why it did not decrypt."""

    bid_id: Identifier
    x: int = Field(ge=1, le=MAX_MEMBERS)
    share: ShareBytes | None
    problem: Problem | None = None

    @model_validator(mode="after")
    def _share_or_problem(self) -> "HandedShare":
        if (self.share is None) == (self.problem is None):
            raise ValueError("give either the share or the problem, not both or neither")
        return self


MAX_HANDED_SHARES = 100_000  # one per current bid of the tender


class OpeningShares(Message):
    """Everything one member hands in at the opening, signed at once."""

    shares: Annotated[list[HandedShare], Field(max_length=MAX_HANDED_SHARES)]
    signature: Signature


class SealedShareForMember(Message):
    """What ``GET /tenders/{ocid}/opening/my-shares`` answers per current bid."""

    bid_id: Identifier
    lots: Lots
    bidder_id: Identifier
    version: int
    x: int
    sealed_share: SealedShareBytes
    share_sha256: Sha256Hex


# Naming and confirming a tender's committee: the commands and the events they record.


class CommitteeNomination(Command):
    """``POST /tenders/{ocid}/committee``: who sits, how many must act together, and the
    suite bids are sealed with; the platform fills in each member's registered keys."""

    members: Annotated[list[Identifier], Field(min_length=2, max_length=MAX_MEMBERS)]
    threshold: int = Field(ge=2, le=MAX_MEMBERS)
    suite: Suite = "x25519"


class NameCommittee(CommitteeNomination):
    ocid: Identifier


class ConfirmCommittee(Command):
    ocid: Identifier
    confirmation: CommitteeConfirmation


class CommitteeNamed(BidEvent):
    """The tender's committee and the keys bids will be sealed to; it opens the bid log."""

    public = True
    type: Literal["CommitteeNamed"] = "CommitteeNamed"
    material: CommitteeMaterial
    named_by: Identifier


class CommitteeConfirmed(BidEvent):
    """A member checked the material (its own keys, the others' in the key log) and signed it."""

    public = True
    type: Literal["CommitteeConfirmed"] = "CommitteeConfirmed"
    confirmation: CommitteeConfirmation


class OpeningSharesAccepted(BidEvent):
    """A member's shares were checked and are held, sealed, until the opening: who, and how
    many; never a share."""

    public = True
    type: Literal["OpeningSharesAccepted"] = "OpeningSharesAccepted"
    officer_id: Identifier
    shares: int = Field(ge=0)
    problems: int = Field(ge=0)  # bids whose share did not decrypt on the member's machine


# What the committee routes answer (their OpenAPI descriptions).


class MaterialDocument(CommitteeMaterial):
    """The material exactly as hashed: canonical JSON of this object is ``material_sha256``."""

    purpose: Literal["procurement-committee-material/1"]


class CommitteeView(Message):
    """``GET /tenders/{ocid}/committee``: who sits, the keys bids are sealed to, and every
    confirmation recorded; a client counts the valid ones itself."""

    ocid: Identifier
    material: MaterialDocument
    material_sha256: Sha256Hex
    confirmations: list[CommitteeConfirmation]


class MySealedShares(Message):
    """``GET /tenders/{ocid}/opening/my-shares``: the member's sealed share of each bid."""

    ocid: Identifier
    suite: Suite
    shares: list[SealedShareForMember]
