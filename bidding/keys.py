"""Keys, canonical JSON and the signatures made with them.

Every signature in the platform is Ed25519 over the canonical JSON of an object whose
``purpose`` field names what is signed, so a signature for one purpose never passes for
another. Canonical JSON: keys sorted, no whitespace, UTF-8, as ``json.dumps`` writes it with
``sort_keys=True, separators=(",", ":"), ensure_ascii=False``.
"""

import hashlib
import json
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey
from nacl.bindings import crypto_sign_open
from nacl.exceptions import CryptoError

SUPPLIER_REGISTRATION = "procurement-supplier-registration/1"
COMMITTEE_KEYS = "procurement-committee-keys/1"
WITHDRAWAL = "procurement-bid-withdrawal/1"
RECEIPT = "procurement-receipt/1"


def canonical_json(value: Any) -> bytes:
    return json.dumps(
        value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
    ).encode()


def signed_message(purpose: str, fields: dict[str, Any]) -> bytes:
    return canonical_json({**fields, "purpose": purpose})  # fields can never override it


def sign(key: Ed25519PrivateKey, purpose: str, fields: dict[str, Any]) -> bytes:
    return key.sign(signed_message(purpose, fields))


def verify(public_key: bytes, signature: bytes, purpose: str, fields: dict[str, Any]) -> bool:
    """True only for a valid signature by ``public_key`` (raw 32 bytes) over these fields.

    libsodium's check, which refuses keys and signature points of small order and
    non-canonical encodings: under the identity point as a key, OpenSSL's accepts one
    signature for every message. It also takes half the time here."""
    if len(public_key) != 32 or len(signature) != 64:
        return False
    try:
        crypto_sign_open(bytes(signature) + signed_message(purpose, fields), bytes(public_key))
    except (CryptoError, ValueError):
        return False
    return True


def raw_public(key: Ed25519PrivateKey | X25519PrivateKey) -> bytes:
    return key.public_key().public_bytes_raw()


def key_id(public_key: bytes) -> str:
    """A short, stable name for a public key: the first 16 hex digits of its SHA-256."""
    return hashlib.sha256(public_key).hexdigest()[:16]


def supplier_registration_fields(identifier: str, signing_key: bytes) -> dict[str, Any]:
    return {"identifier": identifier, "signing_key": signing_key.hex()}


def committee_keys_fields(
    officer_id: str,
    encryption_key: bytes,
    signing_key: bytes,
    hybrid_encryption_key: bytes | None = None,
) -> dict[str, Any]:
    """What a member's binding signature covers: its id and every key it registers, in hex."""
    fields = {
        "officer_id": officer_id,
        "encryption_key": encryption_key.hex(),
        "signing_key": signing_key.hex(),
    }
    if hybrid_encryption_key is not None:
        fields["hybrid_encryption_key"] = hybrid_encryption_key.hex()
    return fields
