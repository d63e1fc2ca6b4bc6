"""Receipts for the bid log, signed by the platform, and the Merkle leaves they become.

A receipt's leaf data is the canonical JSON (see ``bidding.keys``) of its ``receipt`` object
as published; the platform signs the same bytes with ``purpose`` added. So a bidder who keeps
the receipt can check the signature, compute the leaf and prove inclusion, with public data
only.
"""

from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from bidding import keys, merkle
from schemas.bids import Receipt, SignedReceipt


def leaf_data(receipt: Receipt) -> bytes:
    return keys.canonical_json(receipt.model_dump(mode="json"))


def leaf_hash(receipt: Receipt) -> bytes:
    return merkle.leaf_hash(leaf_data(receipt))


def _fields(receipt: Receipt) -> dict[str, Any]:
    return {"receipt": receipt.model_dump(mode="json")}


def sign_receipt(receipt: Receipt, platform_key: Ed25519PrivateKey) -> SignedReceipt:
    return SignedReceipt(
        receipt=receipt,
        key_id=keys.key_id(keys.raw_public(platform_key)),
        signature=keys.sign(platform_key, keys.RECEIPT, _fields(receipt)),
    )


def receipt_valid(signed: SignedReceipt, platform_key: bytes) -> bool:
    return signed.key_id == keys.key_id(platform_key) and keys.verify(
        platform_key, signed.signature, keys.RECEIPT, _fields(signed.receipt)
    )
