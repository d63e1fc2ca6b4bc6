"""Bids sealed to a committee, with no opening key anywhere (sealed bid, version 2).

On the bidder's machine: a fresh 32-byte content key K encrypts the bid (AES-256-GCM, the
bid's place as associated data); K is split k-of-n (``bidding.shamir``) and each share is
sealed with HPKE to one member's own key; the bidder signs the place, the ciphertext's
digest, a commitment to K, the material's digest and the digest of the sealed shares.
On a member's machine: its shares are decrypted. At the opening: k members' shares rebuild
K, which must match its commitment before it decrypts anything. Pure.
"""

import hashlib
import os
from collections.abc import Sequence
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from pydantic import ValidationError

from bidding import committee_material, keys, shamir, suites
from bidding.sealing import Unsealable
from schemas.bids import BidContent, KeyShare, SealedBid
from schemas.committee import CommitteeMaterial

BID = "procurement-bid/2"  # the associated data that binds a ciphertext to its place
BID_SIGNATURE = "procurement-bid-signature/2"
SHARE = "procurement-bid-share/1"  # the HPKE info of each sealed share
CONTENT_KEY = b"procurement-content-key/1"
KEY_BYTES = 32
NONCE_BYTES = 12


def bid_context(ocid: str, lots: Sequence[str], bidder_id: str, version: int) -> bytes:
    fields = {"ocid": ocid, "lots": list(lots), "bidder_id": bidder_id, "version": version}
    return keys.signed_message(BID, fields)


def share_context(
    ocid: str, lots: Sequence[str], bidder_id: str, version: int, officer_id: str, x: int
) -> bytes:
    fields = {
        "ocid": ocid,
        "lots": list(lots),
        "bidder_id": bidder_id,
        "version": version,
        "officer_id": officer_id,
        "x": x,
    }
    return keys.signed_message(SHARE, fields)


def key_commitment(content_key: bytes) -> str:
    return hashlib.sha256(CONTENT_KEY + content_key).hexdigest()


def shares_sha256(key_shares: Sequence[KeyShare]) -> str:
    """The digest of the shares list, each sealed share replaced by its own SHA-256."""
    listed = [
        {
            "officer_id": share.officer_id,
            "x": share.x,
            "sealed_share_sha256": hashlib.sha256(share.sealed_share).hexdigest(),
            "share_sha256": share.share_sha256,
        }
        for share in key_shares
    ]
    return hashlib.sha256(keys.canonical_json(listed)).hexdigest()


def signature_fields(
    ocid: str,
    lots: Sequence[str],
    bidder_id: str,
    version: int,
    ciphertext: bytes,
    commitment: str,
    material_digest: str,
    key_shares: Sequence[KeyShare],
) -> dict[str, Any]:
    return {
        "ocid": ocid,
        "lots": list(lots),
        "bidder_id": bidder_id,
        "version": version,
        "ciphertext_sha256": hashlib.sha256(ciphertext).hexdigest(),
        "key_commitment": commitment,
        "material_sha256": material_digest,
        "shares_sha256": shares_sha256(key_shares),
    }


def bid_signature_fields(bid: SealedBid) -> dict[str, Any]:
    return signature_fields(
        bid.ocid,
        bid.lots,
        bid.bidder_id,
        bid.version,
        bid.ciphertext,
        bid.key_commitment,
        bid.material_sha256,
        bid.key_shares,
    )


def seal_bid(
    content: BidContent,
    version: int,
    material: CommitteeMaterial,
    bidder_key: Ed25519PrivateKey,
) -> SealedBid:
    """Seal ``content`` to the committee of ``material``; check the material first
    (``sdk.key_checks``): this trusts its keys."""
    if material.ocid != content.ocid:
        raise ValueError(f"the committee material is {material.ocid}'s, not {content.ocid}'s")
    context = bid_context(content.ocid, content.lots, content.bidder_id, version)
    content_key = AESGCM.generate_key(bit_length=256)
    nonce = os.urandom(NONCE_BYTES)
    plaintext = keys.canonical_json(content.model_dump(mode="json"))
    ciphertext = nonce + AESGCM(content_key).encrypt(nonce, plaintext, context)
    pieces = shamir.split(content_key, material.threshold, len(material.members))
    key_shares = [
        KeyShare(
            officer_id=member.officer_id,
            x=piece.x,
            sealed_share=suites.seal(
                material.suite,
                piece.to_bytes(),
                bytes(member.encryption_key),
                share_context(
                    content.ocid,
                    content.lots,
                    content.bidder_id,
                    version,
                    member.officer_id,
                    piece.x,
                ),
            ),
            share_sha256=hashlib.sha256(piece.to_bytes()).hexdigest(),
        )
        for piece, member in zip(pieces, material.members, strict=True)
    ]
    commitment = key_commitment(content_key)
    digest = committee_material.material_sha256(material)
    fields = signature_fields(
        content.ocid,
        content.lots,
        content.bidder_id,
        version,
        ciphertext,
        commitment,
        digest,
        key_shares,
    )
    return SealedBid(
        ocid=content.ocid,
        lots=content.lots,
        bidder_id=content.bidder_id,
        version=version,
        ciphertext=ciphertext,
        key_commitment=commitment,
        material_sha256=digest,
        key_shares=key_shares,
        signature=keys.sign(bidder_key, BID_SIGNATURE, fields),
    )


def bid_signature_valid(bid: SealedBid, bidder_key: bytes) -> bool:
    return keys.verify(bidder_key, bid.signature, BID_SIGNATURE, bid_signature_fields(bid))


def shares_match_material(bid: SealedBid, material: CommitteeMaterial) -> str | None:
    """Why the bid's shares do not fit the committee (None when they do): one share per
    member, in the material's order, x = 1..n, and the material's digest signed."""
    if bid.material_sha256 != committee_material.material_sha256(material):
        return "the bid was sealed to other committee keys than the tender's"
    expected = [(member.officer_id, x) for x, member in enumerate(material.members, start=1)]
    if [(share.officer_id, share.x) for share in bid.key_shares] != expected:
        return "the bid's key shares are not one per committee member, in the committee's order"
    return None


def open_member_share(
    suite: str,
    ocid: str,
    lots: Sequence[str],
    bidder_id: str,
    version: int,
    officer_id: str,
    x: int,
    sealed_share: bytes,
    member_keys: suites.MemberPrivateKeys,
) -> bytes:
    """On the member's machine: the 67-byte share, or ``SealingFailed``."""
    context = share_context(ocid, lots, bidder_id, version, officer_id, x)
    share = suites.open_sealed(suite, sealed_share, member_keys, context)
    if len(share) != shamir.SHARE_BYTES or share[0] != x:
        raise suites.SealingFailed(f"what decrypted is not share {x} of a content key")
    return share


def rebuild_content_key(shares: Sequence[shamir.Share], commitment: str) -> bytes:
    """K from the shares, checked against the bidder's commitment; ``Unsealable`` with
    ``bad_key_shares`` otherwise."""
    try:
        content_key = shamir.combine(shares, KEY_BYTES)
    except ValueError as error:
        raise Unsealable(
            "bad_key_shares", f"the key shares do not rebuild a key: {error}"
        ) from error
    if key_commitment(content_key) != commitment:
        raise Unsealable(
            "bad_key_shares",
            "the key shares rebuild a key other than the one the bidder committed to",
        )
    return content_key


def decrypt_bid(
    ocid: str,
    lots: Sequence[str],
    bidder_id: str,
    version: int,
    ciphertext: bytes,
    content_key: bytes,
) -> BidContent:
    """Decrypt and read a bid with its rebuilt key; ``Unsealable`` says why it cannot be."""
    nonce, body = ciphertext[:NONCE_BYTES], ciphertext[NONCE_BYTES:]
    try:
        plaintext = AESGCM(content_key).decrypt(
            nonce, body, bid_context(ocid, lots, bidder_id, version)
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
