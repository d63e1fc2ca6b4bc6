"""The two HPKE suites (RFC 9180, base mode, single shot) a tender may seal its bids' key
shares with, and a committee member's private keys for them.

- ``x25519``: DHKEM(X25519, HKDF-SHA256), HKDF-SHA256, AES-256-GCM;
- ``mlkem768-x25519``: the hybrid KEM ML-KEM-768 + X25519 (X-Wing), HKDF-SHA256,
  AES-256-GCM: a share recorded today stays sealed against a future quantum computer as
  long as either ML-KEM-768 or X25519 holds.

An X-Wing public key is written as the ML-KEM-768 encapsulation key (1184 bytes) followed by
the X25519 public key (32 bytes); its private key as the 64-byte ML-KEM seed followed by
the X25519 private key (32 bytes).
"""

from dataclasses import dataclass

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hpke
from cryptography.hazmat.primitives.asymmetric.mlkem import MLKEM768PrivateKey, MLKEM768PublicKey
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey

X25519 = "x25519"
HYBRID = "mlkem768-x25519"
MLKEM_PUBLIC_BYTES = 1184
MLKEM_SEED_BYTES = 64

_SUITES = {
    X25519: hpke.Suite(hpke.KEM.X25519, hpke.KDF.HKDF_SHA256, hpke.AEAD.AES_256_GCM),
    HYBRID: hpke.Suite(hpke.KEM.MLKEM768_X25519, hpke.KDF.HKDF_SHA256, hpke.AEAD.AES_256_GCM),
}


class SealingFailed(ValueError):
    """A sealed value that does not open with this key and context."""


@dataclass(frozen=True)
class MemberPrivateKeys:
    """A committee member's encryption keys, kept on the member's machine only."""

    x25519: X25519PrivateKey
    hybrid: bytes | None = None  # 96 bytes: ML-KEM-768 seed, then X25519 private key

    @classmethod
    def generate(cls) -> "MemberPrivateKeys":
        seed = MLKEM768PrivateKey.generate().private_bytes_raw()
        second = X25519PrivateKey.generate().private_bytes_raw()
        return cls(X25519PrivateKey.generate(), seed + second)

    def public(self, suite: str) -> bytes:
        if suite == X25519:
            return self.x25519.public_key().public_bytes_raw()
        mlkem, x25519 = self._hybrid_parts()
        return mlkem.public_key().public_bytes_raw() + x25519.public_key().public_bytes_raw()

    def private_for(self, suite: str) -> X25519PrivateKey | hpke.MLKEM768X25519PrivateKey:
        if suite == X25519:
            return self.x25519
        return hpke.MLKEM768X25519PrivateKey(*self._hybrid_parts())

    def _hybrid_parts(self) -> tuple[MLKEM768PrivateKey, X25519PrivateKey]:
        if self.hybrid is None:
            raise SealingFailed(
                "this member has no ML-KEM-768+X25519 key (`procurement officer keys`)"
            )
        return (
            MLKEM768PrivateKey.from_seed_bytes(self.hybrid[:MLKEM_SEED_BYTES]),
            X25519PrivateKey.from_private_bytes(self.hybrid[MLKEM_SEED_BYTES:]),
        )


def public_key(suite: str, raw: bytes) -> X25519PublicKey | hpke.MLKEM768X25519PublicKey:
    """The suite's public key from its raw bytes; ValueError for anything else."""
    if suite == X25519:
        return X25519PublicKey.from_public_bytes(raw)
    if suite == HYBRID:
        if len(raw) != MLKEM_PUBLIC_BYTES + 32:
            raise ValueError(f"an ML-KEM-768+X25519 key is {MLKEM_PUBLIC_BYTES + 32} bytes")
        return hpke.MLKEM768X25519PublicKey(
            MLKEM768PublicKey.from_public_bytes(raw[:MLKEM_PUBLIC_BYTES]),
            X25519PublicKey.from_public_bytes(raw[MLKEM_PUBLIC_BYTES:]),
        )
    raise ValueError(f"unknown suite {suite!r}")


def seal(suite: str, plaintext: bytes, recipient: bytes, info: bytes) -> bytes:
    """``enc || ciphertext || tag`` of HPKE base mode to ``recipient`` (raw), aad empty."""
    return _SUITES[suite].encrypt(plaintext, public_key(suite, recipient), info)


def sealable(suite: str, recipient: bytes) -> bool:
    """Whether anything can be sealed to ``recipient``: an X25519 point of small order (all
    zeros, say) gives no shared secret, so every bidder's sealing to it would fail."""
    try:
        seal(suite, b"probe", recipient, b"procurement-key-check")
    except ValueError:
        return False
    return True


def unsealable_key(encryption_key: bytes, hybrid_encryption_key: bytes | None) -> str | None:
    """The name of a committee member's encryption key no share can be sealed to, if any."""
    if not sealable(X25519, encryption_key):
        return "encryption_key"
    if hybrid_encryption_key is not None and not sealable(HYBRID, hybrid_encryption_key):
        return "hybrid_encryption_key"
    return None


def open_sealed(suite: str, sealed: bytes, keys: MemberPrivateKeys, info: bytes) -> bytes:
    try:
        return _SUITES[suite].decrypt(sealed, keys.private_for(suite), info)
    except (InvalidTag, ValueError) as error:
        raise SealingFailed("it was not sealed to this key for this place") from error
