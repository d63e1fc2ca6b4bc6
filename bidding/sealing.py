"""Sealing a bid on the bidder's machine, and opening it once the committee has the key.

A bid is its canonical JSON, encrypted with HPKE (RFC 9180, base mode): DHKEM(X25519,
HKDF-SHA256), HKDF-SHA256 and AES-256-GCM, to the tender's opening key. The HPKE ``info``
is the canonical JSON of the tender, lots, bidder and version, so a ciphertext decrypts only
in the place it was sealed for. The bidder signs that place together with the ciphertext's
SHA-256.
"""

import hashlib
from collections.abc import Sequence
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hpke
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey
from pydantic import ValidationError

from bidding import keys
from bidding.shamir import Share
from schemas.bids import BidContent, BidWithdrawal, SealedBid

SUITE = hpke.Suite(hpke.KEM.X25519, hpke.KDF.HKDF_SHA256, hpke.AEAD.AES_256_GCM)


class Unsealable(ValueError):
    """A ciphertext that does not open as what it claims to be."""

    def __init__(self, code: str, reason: str) -> None:
        super().__init__(reason)
        self.code = code
        self.reason = reason


def bid_context(ocid: str, lots: Sequence[str], bidder_id: str, version: int) -> bytes:
    return keys.signed_message(
        keys.BID, {"ocid": ocid, "lots": list(lots), "bidder_id": bidder_id, "version": version}
    )


def bid_signature_fields(
    ocid: str, lots: Sequence[str], bidder_id: str, version: int, ciphertext: bytes
) -> dict[str, Any]:
    return {
        "ocid": ocid,
        "lots": list(lots),
        "bidder_id": bidder_id,
        "version": version,
        "ciphertext_sha256": hashlib.sha256(ciphertext).hexdigest(),
    }


def seal_bid(
    content: BidContent, version: int, tender_key: bytes, bidder_key: Ed25519PrivateKey
) -> SealedBid:
    """Encrypt ``content`` to the tender's opening key (raw X25519) and sign it."""
    context = bid_context(content.ocid, content.lots, content.bidder_id, version)
    plaintext = keys.canonical_json(content.model_dump(mode="json"))
    ciphertext = SUITE.encrypt(plaintext, X25519PublicKey.from_public_bytes(tender_key), context)
    fields = bid_signature_fields(
        content.ocid, content.lots, content.bidder_id, version, ciphertext
    )
    return SealedBid(
        ocid=content.ocid,
        lots=content.lots,
        bidder_id=content.bidder_id,
        version=version,
        ciphertext=ciphertext,
        signature=keys.sign(bidder_key, keys.BID_SIGNATURE, fields),
    )


def bid_signature_valid(bid: SealedBid, bidder_key: bytes) -> bool:
    fields = bid_signature_fields(bid.ocid, bid.lots, bid.bidder_id, bid.version, bid.ciphertext)
    return keys.verify(bidder_key, bid.signature, keys.BID_SIGNATURE, fields)


def withdrawal_fields(ocid: str, bidder_id: str, version: int) -> dict[str, Any]:
    return {"ocid": ocid, "bidder_id": bidder_id, "version": version}


def withdraw_bid(
    ocid: str, bidder_id: str, version: int, bidder_key: Ed25519PrivateKey
) -> BidWithdrawal:
    signature = keys.sign(bidder_key, keys.WITHDRAWAL, withdrawal_fields(ocid, bidder_id, version))
    return BidWithdrawal(ocid=ocid, bidder_id=bidder_id, version=version, signature=signature)


def withdrawal_signature_valid(withdrawal: BidWithdrawal, bidder_key: bytes) -> bool:
    fields = withdrawal_fields(withdrawal.ocid, withdrawal.bidder_id, withdrawal.version)
    return keys.verify(bidder_key, withdrawal.signature, keys.WITHDRAWAL, fields)


def open_bid(
    ocid: str,
    lots: Sequence[str],
    bidder_id: str,
    version: int,
    ciphertext: bytes,
    opening_key: X25519PrivateKey,
) -> BidContent:
    """Decrypt and read a bid; ``Unsealable`` says why one cannot be opened as recorded."""
    try:
        plaintext = SUITE.decrypt(
            ciphertext, opening_key, bid_context(ocid, lots, bidder_id, version)
        )
    except (InvalidTag, ValueError) as error:
        raise Unsealable(
            "wrong_tender_or_lot",
            "the ciphertext does not decrypt for this tender, lots, bidder and version: "
            "it was sealed for another place, or altered",
        ) from error
    try:
        content = BidContent.model_validate_json(plaintext)
    except ValidationError as error:
        raise Unsealable("unreadable", f"the decrypted bid is not a valid bid: {error}") from error
    if (content.ocid, content.lots, content.bidder_id) != (ocid, tuple(lots), bidder_id):
        raise Unsealable(
            "wrong_tender_or_lot",
            "the bid inside names another tender, lots or bidder than the sealed envelope",
        )
    return content


# The committee's shares of the opening key, each sealed to one member.


def _share_context(ocid: str, officer_id: str, x: int) -> bytes:
    return keys.signed_message(keys.SHARE_SEAL, {"ocid": ocid, "officer_id": officer_id, "x": x})


def seal_share(share: Share, member_key: bytes, ocid: str, officer_id: str) -> bytes:
    recipient = X25519PublicKey.from_public_bytes(member_key)
    return SUITE.encrypt(share.to_bytes(), recipient, _share_context(ocid, officer_id, share.x))


def open_share(
    sealed: bytes, member_key: X25519PrivateKey, ocid: str, officer_id: str, x: int
) -> Share:
    try:
        raw = SUITE.decrypt(sealed, member_key, _share_context(ocid, officer_id, x))
    except (InvalidTag, ValueError) as error:
        raise Unsealable(
            "wrong_key", "this share was not sealed to this key for this tender"
        ) from error
    return Share.from_bytes(raw)


def share_digest(share: Share) -> str:
    return hashlib.sha256(share.to_bytes()).hexdigest()
