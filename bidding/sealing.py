"""What sealing a bid shares with withdrawing one: the error a bid that does not open as
recorded raises, and the bidder's signed withdrawal. Bids themselves are sealed to the
tender's committee (``bidding.committee_sealing``).
"""

from typing import Any

from cryptography.hazmat.primitives import hpke
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from bidding import keys
from schemas.bids import BidWithdrawal

# HPKE base mode, DHKEM(X25519, HKDF-SHA256), HKDF-SHA256, AES-256-GCM: the catalogue's
# quotations seal to one key with it (``bidding.quotes``).
SUITE = hpke.Suite(hpke.KEM.X25519, hpke.KDF.HKDF_SHA256, hpke.AEAD.AES_256_GCM)


class Unsealable(ValueError):
    """A ciphertext that does not open as what it claims to be."""

    def __init__(self, code: str, reason: str) -> None:
        super().__init__(reason)
        self.code = code
        self.reason = reason


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
