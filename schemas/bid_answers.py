"""What the sealed-bid routes answer: the platform's and the committee's public keys, the
opening key, receipts, the counts and commitments of a bid log, and its Merkle proofs.

These describe the answers in the OpenAPI description, field by field, so that anyone can
write a verifier from it (docs/sealed-bids.md gives the algorithms); the routes build the
answers themselves. Binary values are standard base64 with padding, digests lowercase hex.
"""

from typing import Annotated, Any, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from schemas.bids import Receipt, Sha256Hex
from schemas.reconfirmations import AwaitingReconfirmation

# Raw keys and signatures in standard base64: 32 bytes take 44 characters, 64 take 88.
Base64Key = Annotated[
    str, Field(pattern=r"^[A-Za-z0-9+/]{43}=$", description="32 raw bytes, base64")
]
Base64Signature = Annotated[
    str, Field(pattern=r"^[A-Za-z0-9+/]{86}==$", description="64 raw bytes (Ed25519), base64")
]
KeyId = Annotated[
    str,
    Field(
        pattern=r"^[0-9a-f]{16}$",
        description="the first 16 hex digits of the SHA-256 of the raw public key",
    ),
]
Id = Annotated[str, Field(min_length=1, max_length=100)]
LogStatus = Literal["open", "sealed", "opened", "cancelled"]


class Answer(BaseModel):
    model_config = ConfigDict(extra="forbid")


class PlatformReceiptKey(Answer):
    """A key of the platform that signs receipts."""

    key_id: KeyId
    algorithm: Literal["Ed25519"]
    public_key: Base64Key


class PlatformKeys(Answer):
    """The platform's public keys. ``receipt_keys`` signs receipts (purpose
    ``procurement-receipt/1``); a receipt names the one that signed it by ``key_id``."""

    receipt_keys: Annotated[list[PlatformReceiptKey], Field(min_length=1)]


class OfficerCommitteeKeys(Answer):
    """An officer's public committee keys: shares of opening keys are sealed to
    ``encryption_key``; ``signing_key`` verifies the shares and scores the officer signs."""

    officer_id: Id
    agency_id: Id | None
    encryption_key: Base64Key = Field(description="X25519, 32 raw bytes, base64")
    signing_key: Base64Key = Field(description="Ed25519, 32 raw bytes, base64")


class TenderOpeningKey(Answer):
    """The public key a tender's bids are sealed to, and who may open them."""

    ocid: Id
    public_key: Base64Key = Field(description="X25519, 32 raw bytes, base64")
    suite: str = Field(description="the HPKE suite bids are sealed with")
    threshold: int = Field(ge=1, description="how many committee members open the bids")
    committee: list[Id]
    lots: list[Id]
    deadline: AwareDatetime
    status: LogStatus


class MySealedShare(Answer):
    """A committee member's own share of the opening key, still sealed to the member."""

    officer_id: Id
    x: int = Field(ge=1, le=255)
    encrypted_share: str = Field(description="HPKE-sealed to the member's X25519 key, base64")
    share_sha256: Sha256Hex


class BidReceipt(Answer):
    """The platform's signed receipt for a bid, a new version or a withdrawal; ``replayed``
    is true when this exact submission was already in the log (its first receipt, 200).
    The signature binds the platform to the entry's Merkle leaf and its time of receipt; it
    names no position and no tree size, which would tell how many bids came before. At the
    deadline the sealed head (``bid-log/signed-head``) and each leaf's inclusion proof are
    published: check the receipt against them."""

    receipt: Receipt
    key_id: KeyId
    signature: Base64Signature
    replayed: bool


class BidAsOpened(Answer):
    """A bid as the opening left it: opened with its contents, or rejected with the reason."""

    bid_id: Id
    bidder_id: Id
    version: int = Field(ge=1)
    outcome: Literal["opened", "rejected"]
    content: dict[str, Any] | None = Field(
        description="the bid's contents as opened (BidContent); null when rejected"
    )
    reason_code: str | None
    reason: str | None


class BidsOfTender(Answer):
    """What the caller may see of a tender's bids; see docs/sealed-bids.md, "The counts"."""

    ocid: Id
    status: LogStatus
    deadline: AwareDatetime
    log_entries: int | None = Field(
        ge=0,
        description="entries in the bid log: every bid, new version and withdrawal; null"
        " until the seal, so that nobody learns how many bids a tender has before its deadline",
    )
    bidders_with_entries: int | None = Field(
        ge=0,
        description="bidders with at least one entry, those who withdrew included; null"
        " until the seal",
    )
    current_bids: int | None = Field(
        ge=0,
        description="bidders whose latest entry is a bid: the bids the opening opens; null"
        " until the seal",
    )
    bidders: int | None = Field(
        ge=0, deprecated=True, description="the same as bidders_with_entries"
    )
    root: Sha256Hex | None = Field(description="the sealed Merkle root; null until the seal")
    my_receipts: list[Receipt] = Field(
        default=[], description="a supplier's own receipts, in log order; only to suppliers"
    )
    my_reconfirmation: AwaitingReconfirmation | None = Field(
        default=None,
        description="a supplier's own bid waiting for reconfirmation after a significant "
        "amendment (POST /tenders/{ocid}/bids/reconfirmations); only to suppliers",
    )
    opened: list[BidAsOpened] = Field(
        default=[],
        description="after the opening: every bid to the committee and the buyer's "
        "officers, a supplier's own to the supplier; absent otherwise",
    )


class TenderBidSummary(Answer):
    """The ``bids`` section of ``GET /tenders/{ocid}`` (null until the tender's bid log is
    sealed at the deadline): the counts of ``BidsOfTender`` under the same names, the seal
    and the opening."""

    log_entries: int = Field(ge=0, description="as in GET /tenders/{ocid}/bids")
    bidders_with_entries: int = Field(ge=0, description="as in GET /tenders/{ocid}/bids")
    current_bids: int = Field(ge=0, description="as in GET /tenders/{ocid}/bids")
    received: int = Field(ge=0, deprecated=True, description="the same as current_bids")
    tree_size: int | None = Field(ge=0, description="entries under the sealed root")
    root: Sha256Hex | None = Field(description="the sealed Merkle root; null until the seal")
    sealed_at: AwareDatetime | None
    opened_at: AwareDatetime | None
    opening_committee: list[Id] | None = Field(description="the members who handed in shares")
    opened: int | None = Field(ge=0, description="current bids the opening decrypted")
    rejected: int | None = Field(ge=0, description="current bids the opening rejected")


class BidLogTreeHead(Answer):
    """The Merkle tree head of a bid log, now or at an earlier size."""

    ocid: Id
    tree_size: int = Field(ge=0)
    root: Sha256Hex
    sealed: bool
    sealed_root: Sha256Hex | None


class BidLogInclusionProof(Answer):
    """The audit path of RFC 9162 2.1.3.1, from the leaf's sibling up."""

    ocid: Id
    leaf_index: int = Field(ge=0)
    tree_size: int = Field(ge=1)
    root: Sha256Hex
    audit_path: list[Sha256Hex]


class BidLogConsistencyProof(Answer):
    """The consistency proof of RFC 9162 2.1.4.1 between two sizes of a bid log."""

    ocid: Id
    first: int = Field(ge=1)
    second: int = Field(ge=1)
    first_root: Sha256Hex
    second_root: Sha256Hex
    proof: list[Sha256Hex]


class OpeningShareTaken(Answer):
    """A share taken; with the threshold reached the bids are opened at once, and the
    answer adds what came out."""

    threshold: int = Field(ge=1)
    handed_in: int = Field(ge=1)
    opened: bool
    bids_opened: int = Field(default=0, ge=0, description="only once opened")
    bids_rejected: int = Field(default=0, ge=0, description="only once opened")
    log_matches_root: bool = Field(
        default=True, description="only once opened: false if the log changed after the seal"
    )
