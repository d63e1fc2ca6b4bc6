"""The client's side of a tender's committee: a supplier seals only to key material it has
verified itself against the key log; a member confirms only material whose keys are its
own and the others' as logged, and decrypts its shares of the bids on its own machine.

``committee`` is the answer of ``GET /tenders/{ocid}/committee``: ``{"ocid", "material"
(the canonical material object, purpose included), "material_sha256", "confirmations":
[{"officer_id", "material_sha256", "signature"}]}``.
"""

import hashlib
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from bidding import committee_material, committee_sealing, suites
from schemas.bids import BidContent, SealedBid
from schemas.committee import (
    CommitteeConfirmation,
    CommitteeMaterial,
    HandedShare,
    OpeningShares,
    SealedShareForMember,
)
from sdk import key_checks
from sdk.audit.sources import PublicSource
from sdk.key_checks import KeyCheckFailed

__all__ = ["KeyCheckFailed", "confirm", "hand_in", "material_of", "seal_verified"]


def material_of(committee: dict[str, Any]) -> CommitteeMaterial:
    """The material as sent, checked to hash to the digest it is known by."""
    served = dict(committee["material"])
    served.pop("purpose", None)
    material = CommitteeMaterial.model_validate(served)
    digest = committee_material.material_sha256(material)
    if digest != committee.get("material_sha256"):
        msg = f"the committee's material hashes to {digest}, not {committee.get('material_sha256')}"
        raise KeyCheckFailed(msg)
    return material


def verified_material(
    committee: dict[str, Any], platform_key: bytes, source: PublicSource
) -> CommitteeMaterial:
    """Every member's keys as the key log holds them, and k confirmations; else refused."""
    key_checks.verify_committee(committee, platform_key, source)
    return material_of(committee)


def seal_verified(
    committee: dict[str, Any],
    platform_key: bytes,
    source: PublicSource,
    content: BidContent,
    version: int,
    bidder_key: Ed25519PrivateKey,
) -> SealedBid:
    """Seal ``content`` to the committee once its keys verified; ``KeyCheckFailed`` (what did
    not verify, for whom) and nothing sealed otherwise."""
    material = verified_material(committee, platform_key, source)
    return committee_sealing.seal_bid(content, version, material, bidder_key)


def confirm(
    committee: dict[str, Any],
    officer_id: str,
    my_keys: suites.MemberPrivateKeys,
    signing_key: Ed25519PrivateKey,
    platform_key: bytes,
    source: PublicSource,
) -> CommitteeConfirmation:
    """A member's confirmation: its own entry must hold its own keys, and every member's
    keys must be the ones in the key log (confirmations are not needed yet)."""
    material = material_of(committee)
    mine = next((m for m in material.members if m.officer_id == officer_id), None)
    if mine is None:
        raise KeyCheckFailed(f"{officer_id} is not on the committee of {material.ocid}")
    if bytes(mine.encryption_key) != my_keys.public(material.suite):
        raise KeyCheckFailed(
            f"{officer_id}'s encryption key in the material is not this member's own"
        )
    if bytes(mine.signing_key) != signing_key.public_key().public_bytes_raw():
        raise KeyCheckFailed(f"{officer_id}'s signing key in the material is not this member's own")
    for member in material.members:
        member_matches_the_key_log(
            member.officer_id, bytes(member.encryption_key), bytes(member.signing_key),
            platform_key, source,
        )  # fmt: skip
    return committee_material.confirm(material, officer_id, signing_key)


def member_matches_the_key_log(
    officer_id: str, encryption: bytes, signing: bytes, platform_key: bytes, source: PublicSource
) -> None:
    """The member's latest key entry, proved in the log under a head the pinned platform key
    signed, holds these keys under the member's own binding signature."""
    logged = key_checks.party_key_log(source, officer_id, platform_key)
    if not logged:
        raise KeyCheckFailed(f"{officer_id}: the key log holds no key entry for this member")
    latest = logged[-1]
    held = latest.public_keys()
    if encryption not in [key for name, key in held.items() if name != "signing_key"]:
        msg = f"{officer_id}'s encryption key in the material is not the one the key log holds for it ({latest.where}): a substituted key"
        raise KeyCheckFailed(msg)
    if held.get("signing_key") != signing:
        msg = f"{officer_id}'s signing key in the material is not the one the key log holds for it ({latest.where}): a substituted key"
        raise KeyCheckFailed(msg)
    if not latest.binding_valid(officer_id):
        raise KeyCheckFailed(
            f"{officer_id}: the key binding signature of {latest.where} does not verify"
        )


def hand_in(
    material: CommitteeMaterial,
    officer_id: str,
    sealed: list[SealedShareForMember],
    my_keys: suites.MemberPrivateKeys,
    signing_key: Ed25519PrivateKey,
) -> OpeningShares:
    """Decrypt each of the member's shares locally; a share that does not decrypt, or is not
    the one the bidder committed to, is reported as a problem, and the rest are handed in."""
    handed = []
    for item in sealed:
        try:
            share = committee_sealing.open_member_share(
                material.suite, material.ocid, item.lots, item.bidder_id, item.version,
                officer_id, item.x, item.sealed_share, my_keys,
            )  # fmt: skip
        except suites.SealingFailed as error:
            problem = f"the share did not decrypt: {error}"
            handed.append(HandedShare(bid_id=item.bid_id, x=item.x, share=None, problem=problem))
            continue
        if hashlib.sha256(share).hexdigest() != item.share_sha256:
            problem = "the share decrypted is not the one the bidder committed to"
            handed.append(HandedShare(bid_id=item.bid_id, x=item.x, share=None, problem=problem))
            continue
        handed.append(HandedShare(bid_id=item.bid_id, x=item.x, share=share))
    signature = committee_material.sign_opening_shares(
        material.ocid, officer_id, handed, signing_key
    )
    return OpeningShares(shares=handed, signature=signature)
