"""The committee's handed-in shares between hand-in and opening, kept in PostgreSQL so that
any API process can open the bids and none losing its memory loses a share.

Each share is sealed with AES-256-GCM under a key derived (HKDF-SHA256, its own label)
from the platform's signing key file, which every API process of a deployment shares and
the database never holds; the ocid, the officer and the bid are its associated data, so a
row moved to another bid or member does not open. A share is written in the transaction
that records its member's hand-in and deleted in the one that records the opening; the
member whose hand-in reaches the threshold has its shares used at once and never written,
so the database (its log and backups included) never holds as many shares of a bid as
rebuild its key. See docs/sealed-bids.md for what an operator could learn.
"""

import json
import logging
import os
from collections.abc import Mapping
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from bidding import shamir

log = logging.getLogger(__name__)

LABEL = b"procurement: opening shares held between hand-in and opening, v1"
NONCE_BYTES = 12

Held = dict[str, dict[str, shamir.Share]]  # officer, bid


def share_key(platform_key: Ed25519PrivateKey) -> bytes:
    """The 32-byte AES key of the held shares, derived from the platform's signing key."""
    raw = platform_key.private_bytes(
        serialization.Encoding.Raw, serialization.PrivateFormat.Raw, serialization.NoEncryption()
    )
    return HKDF(hashes.SHA256(), length=32, salt=None, info=LABEL).derive(raw)


async def drop(connection: Any, ocid: str) -> None:
    """Delete every share held for ``ocid``, in the caller's transaction: at the opening, or
    at a cancellation, after which the bids are never opened."""
    await connection.execute("DELETE FROM sealed_shares WHERE ocid = $1", ocid)


class SealedShares:
    """The held shares of every opening under way, sealed under one deployment's key."""

    def __init__(self, key: bytes) -> None:
        self._aead = AESGCM(key)

    @classmethod
    def of(cls, platform_key: Ed25519PrivateKey) -> "SealedShares":
        return cls(share_key(platform_key))

    async def keep(
        self, connection: Any, ocid: str, officer_id: str, shares: Mapping[str, shamir.Share]
    ) -> None:
        """Write one member's checked shares, in the caller's transaction."""
        bids = sorted(shares)
        sealed = [self._seal(ocid, officer_id, bid, shares[bid]) for bid in bids]
        await connection.execute(
            "INSERT INTO sealed_shares (ocid, officer_id, bid_id, sealed)"
            " SELECT $1, $2, bid, sealed FROM unnest($3::text[], $4::bytea[]) AS s(bid, sealed)"
            " ON CONFLICT (ocid, officer_id, bid_id) DO UPDATE SET sealed = EXCLUDED.sealed",
            ocid,
            officer_id,
            bids,
            sealed,
        )

    async def held(self, connection: Any, ocid: str) -> Held:
        """Every member's shares held for ``ocid``. A member any of whose rows does not
        open under this key (altered in the database, or sealed by another deployment) is
        left out whole, as if it had not handed in: it may hand in again."""
        rows = await connection.fetch(
            "SELECT officer_id, bid_id, sealed FROM sealed_shares WHERE ocid = $1", ocid
        )
        held: Held = {}
        spoiled: set[str] = set()
        for row in rows:
            officer, bid = row["officer_id"], row["bid_id"]
            try:
                share = self._open(ocid, officer, bid, bytes(row["sealed"]))
            except (InvalidTag, ValueError):
                log.error("a held share of %s for %s on %s does not open", officer, bid, ocid)
                spoiled.add(officer)
                continue
            held.setdefault(officer, {})[bid] = share
        return {officer: shares for officer, shares in held.items() if officer not in spoiled}

    async def drop(self, connection: Any, ocid: str) -> None:
        """Delete every share held for ``ocid``, in the caller's transaction."""
        await drop(connection, ocid)

    def _seal(self, ocid: str, officer_id: str, bid_id: str, share: shamir.Share) -> bytes:
        nonce = os.urandom(NONCE_BYTES)
        associated = _associated(ocid, officer_id, bid_id)
        return nonce + self._aead.encrypt(nonce, share.to_bytes(), associated)

    def _open(self, ocid: str, officer_id: str, bid_id: str, sealed: bytes) -> shamir.Share:
        nonce, ciphertext = sealed[:NONCE_BYTES], sealed[NONCE_BYTES:]
        plain = self._aead.decrypt(nonce, ciphertext, _associated(ocid, officer_id, bid_id))
        return shamir.Share.from_bytes(plain)


def _associated(ocid: str, officer_id: str, bid_id: str) -> bytes:
    """The share's place, unambiguously: a JSON array, so no two places encode alike."""
    return json.dumps([ocid, officer_id, bid_id]).encode()
