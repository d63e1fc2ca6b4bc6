"""Bid logs sealed before committees (version 1: one opening key whose shares the committee
held): stores from then must still load, keep their receipts and seal, and refuse to open."""

import base64
import hashlib
from datetime import timedelta

import pytest

from bidding import keys, ledger, merkle
from bidding.entries import BidLimits
from bidding.ledger import SEALED
from procurement.errors import WrongState
from schemas.commands import Actor, Role
from schemas.events import (
    EVENT_TYPES,
    BidLogSealed,
    BidSubmitted,
    BidWithdrawn,
    OpeningKeyIssued,
)
from schemas.events import OpeningShareAccepted as LegacyShareAccepted
from tests.unit.examples import DEADLINE, OCID, published
from tests.unit.test_bid_ledger import bid

MEMBERS = ("officer-ana", "officer-bogdan", "officer-carmen")
ROOT = "ab" * 32


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def issued_as_written() -> dict[str, object]:
    """``OpeningKeyIssued`` as version 1 wrote it (its JSON payload)."""
    shares = [
        {
            "officer_id": officer,
            "x": x,
            "encrypted_share": _b64(bytes([x]) * 115),
            "share_sha256": hashlib.sha256(bytes([x])).hexdigest(),
        }
        for x, officer in enumerate(MEMBERS, start=1)
    ]
    return {
        "type": "OpeningKeyIssued",
        "ocid": OCID,
        "public_key": _b64(b"\x07" * 32),
        "threshold": 2,
        "shares": shares,
    }


def withdrawal_as_written() -> dict[str, object]:
    receipt = {
        "kind": "withdrawal",
        "bid_id": "bid-w1",
        "ocid": OCID,
        "bidder_id": "supplier-RO-CUI-14399840",
        "lots": [],
        "version": 2,
        "ciphertext_sha256": None,
        "received_at": (DEADLINE - timedelta(days=1)).isoformat().replace("+00:00", "Z"),
        "log_index": 0,
    }
    return {"type": "BidWithdrawn", "receipt": receipt, "signature": _b64(b"\x01" * 64)}


def version_one_log() -> list[object]:
    raw = [
        issued_as_written(),
        withdrawal_as_written(),
        {"type": "BidLogSealed", "tree_size": 1, "root": ROOT},
        {"type": "OpeningShareAccepted", "officer_id": "officer-ana", "x": 1},
    ]
    return [EVENT_TYPES[str(item["type"])].model_validate(item) for item in raw]


def test_the_legacy_events_are_read_as_their_own_classes() -> None:
    events = version_one_log()
    assert isinstance(events[0], OpeningKeyIssued)
    assert isinstance(events[3], LegacyShareAccepted)
    assert OpeningKeyIssued.public
    assert not LegacyShareAccepted.public


def test_a_version_one_log_replays_with_its_receipts_and_seal() -> None:
    state = ledger.replay(published(), version_one_log())  # type: ignore[arg-type]
    assert state is not None
    assert state.sealing_version == 1
    assert state.status is SEALED
    assert state.size == 1
    assert state.root == bytes.fromhex(ROOT)
    assert isinstance(version_one_log()[1], BidWithdrawn)
    assert ("supplier-RO-CUI-14399840", 2) in state.receipts
    assert state.members == list(MEMBERS)
    assert state.threshold == 2
    assert isinstance(version_one_log()[2], BidLogSealed)
    # the leaf is the receipt as version 1 hashed it, without the committee's fields
    written = withdrawal_as_written()["receipt"]
    assert state.leaves == (merkle.leaf_hash(keys.canonical_json(written)),)


def test_a_version_one_log_cannot_be_opened_under_committees() -> None:
    state = ledger.replay(published(), version_one_log())  # type: ignore[arg-type]
    assert state is not None
    with pytest.raises(WrongState) as refused:
        ledger.accept_shares(state, "officer-bogdan", 1, 0)
    assert refused.value.code == "sealed_before_committees"
    assert "opening key" in str(refused.value)
    with pytest.raises(WrongState) as refused:
        ledger.record_opening(state, [], list(MEMBERS), True)
    assert refused.value.code == "sealed_before_committees"


def test_an_open_version_one_log_takes_no_new_bid() -> None:
    events = version_one_log()[:2]
    state = ledger.replay(published(), events)  # type: ignore[arg-type]
    assert state is not None
    with pytest.raises(WrongState) as refused:
        ledger.take(
            state,
            bid(),
            Actor(id="supplier-RO-CUI-14399840", role=Role.SUPPLIER),
            DEADLINE - timedelta(hours=1),
            bid_id="bid-new",
            limits=BidLimits(),
        )
    assert refused.value.code == "sealed_before_committees"


def bid_as_written() -> dict[str, object]:
    """A sealed bid as version 1 recorded it: its receipt, ciphertext and signature only."""
    receipt = {
        "kind": "bid",
        "bid_id": "bid-b1",
        "ocid": OCID,
        "bidder_id": "supplier-RO-CUI-31415926",
        "lots": ["lot-1"],
        "version": 1,
        "ciphertext_sha256": "9f" * 32,
        "received_at": (DEADLINE - timedelta(days=2)).isoformat().replace("+00:00", "Z"),
        "log_index": 0,
    }
    return {
        "type": "BidSubmitted",
        "receipt": receipt,
        "ciphertext": _b64(b"\x09" * 80),
        "signature": _b64(b"\x02" * 64),
    }


def test_a_version_one_bid_is_read_and_its_log_replays() -> None:
    """Stored bids from before committees load, without the committee's fields, and the log
    they are in replays with their leaf as version 1 hashed it."""
    events = [
        EVENT_TYPES[str(item["type"])].model_validate(item)
        for item in (issued_as_written(), bid_as_written())
    ]
    bid = events[1]
    assert isinstance(bid, BidSubmitted)
    assert (bid.key_commitment, bid.material_sha256, bid.key_shares) == (None, None, [])
    state = ledger.replay(published(), events)
    assert state is not None
    assert state.sealing_version == 1
    assert state.leaves == (merkle.leaf_hash(keys.canonical_json(bid_as_written()["receipt"])),)


def test_a_committee_bid_carries_all_of_its_key_fields_or_none() -> None:
    half = bid_as_written() | {"key_commitment": "ab" * 32}
    with pytest.raises(ValueError, match="go together"):
        BidSubmitted.model_validate(half)
