"""A bid sealed to poison its opening is rejected on its own, with a reason that fits its
event, so one bidder cannot stop the opening of everyone's bids."""

import json
from typing import Any

import pytest
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from bidding import committee_sealing
from bidding.opening import Opened
from bidding.sealing import Unsealable
from schemas.events import BidRejected
from schemas.values import MAX_TEXT_CHARS

OCID = "ocds-000000-0001"
BIDDER = "supplier-RO-CUI-14399840"
KEY = AESGCM.generate_key(bit_length=256)  # a bid's content key, as k shares rebuild it


def bid(statement: str = "", offers: int = 1, broken_lines: int = 0) -> dict[str, Any]:
    """A bid as a hostile client might write it, below the schema."""
    line = {"item_id": "x", "unit_price": "-1"}
    return {
        "ocid": OCID,
        "bidder_id": BIDDER,
        "valid_until": "2030-06-01",
        "declaration": {
            "no_exclusion_grounds": True,
            "meets_selection_criteria": True,
            "is_sme": True,
            "statement": statement or None,
        },
        "offers": [
            {
                "lot_id": f"lot-{n}",
                "price": {"amount": "-1" if broken_lines else "10.00", "currency": "RON"},
                "items": [line] * broken_lines,
            }
            for n in range(offers)
        ],
    }


def opened(body: dict[str, Any]) -> Opened:
    """Seal ``body`` under a content key and open it as the ceremony does with that key."""
    lots = tuple(sorted(offer["lot_id"] for offer in body["offers"]))
    context = committee_sealing.bid_context(OCID, lots, BIDDER, 1)
    nonce = b"\x01" * 12
    ciphertext = nonce + AESGCM(KEY).encrypt(nonce, json.dumps(body).encode(), context)
    try:
        content = committee_sealing.decrypt_bid(OCID, lots, BIDDER, 1, ciphertext, KEY)
    except Unsealable as refused:
        return Opened("bid-1", BIDDER, 1, None, refused.code, refused.reason)
    return Opened("bid-1", BIDDER, 1, content)


def test_a_statement_holding_u0000_is_rejected_as_unreadable() -> None:
    """U+0000 cannot be stored: the bid is rejected, saying which character, not opened."""
    event = opened(bid(statement="We\u0000deliver")).event()
    assert isinstance(event, BidRejected)
    assert event.reason_code == "unreadable"
    assert "U+0000" in event.reason


@pytest.mark.parametrize("offers", [1, 100])
def test_a_bid_with_thousands_of_errors_is_rejected_with_a_reason_that_fits(offers: int) -> None:
    """A bid built to fail validation thousands of times is still rejected: its reason is
    cut to the length a reason may have, rather than making the rejection itself invalid."""
    event = opened(bid(offers=offers, broken_lines=20)).event()
    assert isinstance(event, BidRejected)
    assert len(event.reason) <= MAX_TEXT_CHARS
    assert event.reason.startswith("the decrypted bid is not a valid bid")
