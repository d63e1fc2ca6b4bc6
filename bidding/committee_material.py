"""A tender's committee key material, the members' confirmations of it, and the signed set
of shares a member hands in at the opening. Pure.

The material is every member's public keys, the threshold and the suite; bidders seal to
it and sign its digest into each bid, so a bid names exactly the keys it was sealed to.
"""

import base64
import functools
import hashlib
import json
from collections.abc import Iterable, Mapping
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from bidding import keys
from schemas.committee import CommitteeConfirmation, CommitteeMaterial, HandedShare

MATERIAL = "procurement-committee-material/1"
CONFIRMATION = "procurement-committee-confirmation/1"
OPENING_SHARES = "procurement-opening-shares/2"


def material_document(material: CommitteeMaterial) -> bytes:
    """The canonical JSON whose SHA-256 is ``material_sha256``."""
    members = sorted(material.members, key=lambda member: member.officer_id)
    return keys.signed_message(
        MATERIAL,
        {
            "ocid": material.ocid,
            "suite": material.suite,
            "threshold": material.threshold,
            "members": [
                {
                    "officer_id": member.officer_id,
                    "encryption_key": _b64(member.encryption_key),
                    "signing_key": _b64(member.signing_key),
                }
                for member in members
            ],
        },
    )


def material_sha256(material: CommitteeMaterial) -> str:
    return hashlib.sha256(material_document(material)).hexdigest()


def confirmation_fields(ocid: str, officer_id: str, digest: str) -> dict[str, Any]:
    return {"ocid": ocid, "officer_id": officer_id, "material_sha256": digest}


def confirm(
    material: CommitteeMaterial, officer_id: str, signing_key: Ed25519PrivateKey
) -> CommitteeConfirmation:
    """On the member's machine, once its own entry and every member's keys were checked."""
    digest = material_sha256(material)
    signature = keys.sign(
        signing_key, CONFIRMATION, confirmation_fields(material.ocid, officer_id, digest)
    )
    return CommitteeConfirmation(officer_id=officer_id, material_sha256=digest, signature=signature)


def confirmation_valid(
    material: CommitteeMaterial, confirmation: CommitteeConfirmation, digest: str | None = None
) -> bool:
    """By a member of this material, over this material's digest (``digest``, when the
    caller has it already), with its signing key."""
    members = {member.officer_id: member for member in material.members}
    member = members.get(confirmation.officer_id)
    digest = digest or material_sha256(material)
    if member is None or confirmation.material_sha256 != digest:
        return False
    return _confirmation_signed(
        member.signing_key, confirmation.signature, material.ocid, confirmation.officer_id, digest
    )


@functools.lru_cache(maxsize=4096)
def _confirmation_signed(
    signing_key: bytes, signature: bytes, ocid: str, officer_id: str, digest: str
) -> bool:
    """Each bid is checked against its committee's confirmations: the same few signatures,
    verified once per process rather than once per bid (the answer depends on nothing else)."""
    fields = confirmation_fields(ocid, officer_id, digest)
    return keys.verify(signing_key, signature, CONFIRMATION, fields)


def confirmed_by(
    material: CommitteeMaterial, confirmations: Iterable[CommitteeConfirmation]
) -> list[str]:
    """The members whose confirmation of this very material holds, each once, sorted."""
    digest = material_sha256(material)
    return sorted({c.officer_id for c in confirmations if confirmation_valid(material, c, digest)})


def is_confirmed(
    material: CommitteeMaterial, confirmations: Iterable[CommitteeConfirmation]
) -> bool:
    return len(confirmed_by(material, confirmations)) >= material.threshold


def opening_shares_fields(
    ocid: str, officer_id: str, shares: Iterable[HandedShare]
) -> dict[str, Any]:
    return {
        "ocid": ocid,
        "officer_id": officer_id,
        "shares": [
            {
                "bid_id": share.bid_id,
                "x": share.x,
                "share_sha256": hashlib.sha256(share.share).hexdigest() if share.share else None,
            }
            for share in shares
        ],
    }


def sign_opening_shares(
    ocid: str, officer_id: str, shares: list[HandedShare], signing_key: Ed25519PrivateKey
) -> bytes:
    return keys.sign(signing_key, OPENING_SHARES, opening_shares_fields(ocid, officer_id, shares))


def opening_shares_valid(
    ocid: str, officer_id: str, shares: list[HandedShare], signature: bytes, signing_key: bytes
) -> bool:
    fields = opening_shares_fields(ocid, officer_id, shares)
    return keys.verify(signing_key, signature, OPENING_SHARES, fields)


def members_keys(material: CommitteeMaterial) -> Mapping[str, bytes]:
    return {member.officer_id: bytes(member.encryption_key) for member in material.members}


def _b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode("ascii")


def public_view(
    material: CommitteeMaterial, confirmations: Iterable[CommitteeConfirmation]
) -> dict[str, Any]:
    """``GET /tenders/{ocid}/committee``: the material as hashed, its digest, and every
    confirmation recorded (a client counts the valid ones itself)."""
    return {
        "ocid": material.ocid,
        "material": json.loads(material_document(material)),
        "material_sha256": material_sha256(material),
        "confirmations": [c.model_dump(mode="json") for c in confirmations],
    }
