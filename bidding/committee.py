"""The tender's opening key: made and split on the officer's machine, rebuilt only when
enough of the committee hand in their shares after the deadline.

The private half exists in clear twice: for a moment on the officer's machine that makes it,
and in the memory of the opening ceremony. It is never sent, stored or logged.
"""

from collections.abc import Sequence
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey

from bidding import keys, sealing, shamir
from schemas.bids import EncryptedShare, OpeningShare
from schemas.commands import OpeningKeySetup

KEY_BYTES = 32


def make_opening_key(
    ocid: str, members: Sequence[tuple[str, bytes]], threshold: int
) -> OpeningKeySetup:
    """A fresh opening key for ``ocid``: its public half, and one share of the private half
    sealed to each member's encryption key (``members`` are (officer id, raw X25519 key))."""
    private = X25519PrivateKey.generate()
    secret = private.private_bytes_raw()
    shares = shamir.split(secret, threshold, len(members))
    # Check before anything leaves this machine: a key nobody can rebuild loses every bid.
    if shamir.combine(shares[:threshold], KEY_BYTES) != secret:
        raise RuntimeError("the opening key's shares do not rebuild it")
    return OpeningKeySetup(
        public_key=keys.raw_public(private),
        threshold=threshold,
        shares=[
            EncryptedShare(
                officer_id=officer_id,
                x=share.x,
                encrypted_share=sealing.seal_share(share, member_key, ocid, officer_id),
                share_sha256=sealing.share_digest(share),
            )
            for share, (officer_id, member_key) in zip(shares, members, strict=True)
        ],
    )


def share_fields(ocid: str, officer_id: str, x: int, digest: str) -> dict[str, Any]:
    return {"ocid": ocid, "officer_id": officer_id, "x": x, "share_sha256": digest}


def hand_in_share(
    ocid: str,
    officer_id: str,
    sealed: EncryptedShare,
    encryption_key: X25519PrivateKey,
    signing_key: Ed25519PrivateKey,
) -> OpeningShare:
    """On the member's machine: decrypt the member's own share and sign it for the opening."""
    share = sealing.open_share(sealed.encrypted_share, encryption_key, ocid, officer_id, sealed.x)
    digest = sealing.share_digest(share)
    signature = keys.sign(
        signing_key, keys.OPENING_SHARE, share_fields(ocid, officer_id, share.x, digest)
    )
    return OpeningShare(x=share.x, share=share.to_bytes(), signature=signature)


class KeyMismatch(ValueError):
    pass


def rebuild_opening_key(shares: Sequence[shamir.Share], public_key: bytes) -> X25519PrivateKey:
    """The private opening key from ``threshold`` valid shares, checked against its public half."""
    try:
        private = X25519PrivateKey.from_private_bytes(shamir.combine(shares, KEY_BYTES))
    except ValueError as error:
        raise KeyMismatch("the shares do not rebuild a key") from error
    if keys.raw_public(private) != public_key:
        raise KeyMismatch("the shares rebuild a key other than the tender's opening key")
    return private
