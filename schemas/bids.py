"""Sealed bids on the wire: what a bidder seals, sends and gets back.

Binary values travel as standard base64 with padding; digests as lowercase hex. The exact
bytes that are signed, sealed and hashed are defined in ``bidding`` and in docs/sealed-bids.md.
"""

import base64
import binascii
from datetime import date
from decimal import Decimal
from typing import Annotated, ClassVar, Literal

from pydantic import (
    AwareDatetime,
    BeforeValidator,
    Field,
    PlainSerializer,
    WithJsonSchema,
    field_validator,
    model_validator,
)

from schemas.base import Message
from schemas.bounds import MaxJsonBytes
from schemas.values import Identifier, Text, Title, Value

# A bid is prices and document digests, never the documents. The limit keeps the event,
# ciphertext in base64 and all, under Kafka's default 1 MB message size.
MAX_SEALED_BYTES = 512 * 1024


def _decode_base64(value: object) -> object:
    if isinstance(value, str):
        try:
            return base64.b64decode(value.encode("ascii"), validate=True)
        except (binascii.Error, UnicodeEncodeError) as error:
            raise ValueError("must be standard base64 (A-Z, a-z, 0-9, +, /, = padding)") from error
    return value


Base64 = Annotated[
    bytes,
    BeforeValidator(_decode_base64),
    PlainSerializer(lambda raw: base64.b64encode(raw).decode("ascii"), return_type=str),
    WithJsonSchema({"type": "string", "contentEncoding": "base64"}),
]


def base64_of(size: int | None = None, *, at_most: int | None = None) -> WithJsonSchema:
    """The JSON schema of base64 text holding exactly ``size`` bytes, or 1 to ``at_most``:
    the lengths the models check are of the decoded bytes, not of the text on the wire."""
    schema: dict[str, object] = {"type": "string", "contentEncoding": "base64"}
    if size is not None:
        whole, rest = divmod(size, 3)
        body = 4 * whole + (0, 1, 2)[rest]  # the last char of a partial group has zero bits
        tail = ("", "[AQgw]==", "[AEIMQUYcgkosw048]=")[rest]
        schema["pattern"] = f"^[A-Za-z0-9+/]{{{body}}}{tail}$"
    if at_most is not None:
        schema |= {"minLength": 4, "maxLength": 4 * -(-at_most // 3)}
    return WithJsonSchema(schema)


PublicKey = Annotated[
    Base64, Field(min_length=32, max_length=32), base64_of(32)
]  # raw Ed25519 or X25519
# The X-Wing public key of the post-quantum suite: ML-KEM-768's (1184 bytes), then X25519's.
HybridPublicKey = Annotated[Base64, Field(min_length=1216, max_length=1216), base64_of(1216)]
Signature = Annotated[Base64, Field(min_length=64, max_length=64), base64_of(64)]  # raw Ed25519
Sha256Hex = Annotated[str, Field(pattern=r"^[0-9a-f]{64}$", max_length=64)]
Amount = Annotated[Decimal, Field(gt=0, max_digits=18, decimal_places=4, allow_inf_nan=False)]


# What is sealed: the bid's contents, readable only after the opening.


class LinePrice(Message):
    item_id: Identifier
    unit_price: Amount


class LotOffer(Message):
    lot_id: Identifier
    price: Value  # the total offered for the lot
    items: Annotated[tuple[LinePrice, ...], Field(max_length=500)] = ()
    # Whether the price includes VAT; None (and every bid sealed before): as the tender's
    # estimate (Requirements.value_added_tax_included).
    value_added_tax_included: bool | None = None


class SelfDeclaration(Message):
    """The bidder's word on exclusion and selection, in the spirit of the ESPD."""

    no_exclusion_grounds: bool  # no conviction, taxes and social security paid, not insolvent
    meets_selection_criteria: bool  # suitability, economic standing, technical ability
    is_sme: bool
    subcontracting_share: Annotated[
        Decimal, Field(ge=0, le=100, max_digits=5, decimal_places=2)
    ] = Decimal(0)
    statement: Text | None = None


class DocumentDigest(Message):
    title: Title
    sha256: Sha256Hex


class BidContent(Message):
    # Read back from at most MAX_SEALED_BYTES, but written again as the opened bid's event:
    # a number sent as 1 is written as "1", so the budget holds what the event holds.
    json_budget: ClassVar[MaxJsonBytes] = MaxJsonBytes(MAX_SEALED_BYTES, "the bid's contents")

    ocid: Identifier
    bidder_id: Identifier
    offers: Annotated[list[LotOffer], Field(min_length=1, max_length=100)]
    valid_until: date
    declaration: SelfDeclaration
    documents: Annotated[tuple[DocumentDigest, ...], Field(max_length=100)] = ()

    @field_validator("offers")
    @classmethod
    def _one_offer_per_lot(cls, offers: list[LotOffer]) -> list[LotOffer]:
        lots = [offer.lot_id for offer in offers]
        if len(lots) != len(set(lots)):
            raise ValueError(f"one offer per lot, but lots repeat: {sorted(lots)}")
        return offers

    @model_validator(mode="after")
    def _fits_the_budget(self) -> "BidContent":
        return self.json_budget.check(self)

    @property
    def lots(self) -> tuple[str, ...]:
        return tuple(sorted(offer.lot_id for offer in self.offers))


# What travels: the sealed bid, a withdrawal, and the platform's receipt for either.

Lots = Annotated[tuple[Identifier, ...], Field(min_length=1, max_length=100)]
Ciphertext = Annotated[
    Base64, Field(min_length=1, max_length=MAX_SEALED_BYTES), base64_of(at_most=MAX_SEALED_BYTES)
]


MAX_MEMBERS = 20
SealedShareBytes = Annotated[Base64, Field(min_length=1, max_length=2048), base64_of(at_most=2048)]


class KeyShare(Message):
    """One committee member's share of a bid's content key, sealed to that member's key."""

    officer_id: Identifier
    x: int = Field(ge=1, le=MAX_MEMBERS)  # the share's point: the member's place, from 1
    sealed_share: SealedShareBytes  # HPKE (the tender's suite) to the member's key
    share_sha256: Sha256Hex  # commitment, to recognise the right share at the opening


class SealedBid(Message):
    """A bid encrypted under its own content key, the key split among the tender's committee
    (version 2; ``bidding.committee_sealing``), and signed by the bidder.

    ``ocid``, ``lots``, ``bidder_id`` and ``version`` are bound into the encryption, so the
    ciphertext and the shares open only for exactly these; the signature covers them, the
    ciphertext, the key commitment, the committee material and the shares.
    """

    ocid: Identifier
    lots: Lots
    bidder_id: Identifier
    version: int = Field(ge=1, le=1_000_000)  # 1, then higher for each replacement
    ciphertext: Ciphertext  # nonce (12 bytes) || AES-256-GCM
    key_commitment: Sha256Hex
    material_sha256: Sha256Hex
    key_shares: Annotated[list[KeyShare], Field(min_length=2, max_length=MAX_MEMBERS)]
    signature: Signature

    @field_validator("lots")
    @classmethod
    def _lots_sorted_and_unique(cls, lots: tuple[str, ...]) -> tuple[str, ...]:
        if list(lots) != sorted(set(lots)):
            raise ValueError("lots must be listed once each, in sorted order")
        return lots


class BidWithdrawal(Message):
    """Withdraws whatever the bidder has in the tender; ``version`` is its next number."""

    ocid: Identifier
    bidder_id: Identifier
    version: int = Field(ge=1, le=1_000_000)
    signature: Signature


class Receipt(Message):
    """One entry of a tender's bid log. Its canonical JSON is the Merkle leaf."""

    kind: Literal["bid", "withdrawal"]
    bid_id: Identifier
    ocid: Identifier
    bidder_id: Identifier
    lots: Annotated[tuple[Identifier, ...], Field(max_length=100)]  # empty for a withdrawal
    version: int
    ciphertext_sha256: Sha256Hex | None  # None for a withdrawal
    material_sha256: Sha256Hex | None = None  # the committee keys the bid was sealed to
    shares_sha256: Sha256Hex | None = None  # its sealed key shares (None for a withdrawal)
    received_at: AwareDatetime  # the platform's clock, UTC, to the microsecond
    # The entry's position in the tender's bid log, only in receipts given before positions
    # were kept private: a position tells a bidder how many entries came before its own.
    # A receipt without one has no such field at all (not even null) in its JSON, its leaf
    # and what the platform signed; its leaf is found among the sealed log's leaves.
    log_index: int | None = Field(default=None, ge=0, exclude_if=lambda index: index is None)


class SignedReceipt(Message):
    receipt: Receipt
    key_id: Annotated[
        str, Field(pattern=r"^[0-9a-f]{16}$", max_length=16)
    ]  # which platform key signed
    signature: Signature  # Ed25519 over the receipt's canonical JSON
