"""The bid log's rules: who may bid, withdraw, issue the opening key and hand in a share, and
when."""

import dataclasses
from datetime import datetime, timedelta

import pytest
from hypothesis import given, settings

from bidding import committee_material
from bidding.committee_log import Committee
from bidding.log import BidLog, LogStatus, check_bid, check_hand_in, check_withdrawal
from procurement.errors import NotAllowed, NotFound, Rejected, WrongState
from schemas.bids import BidWithdrawal, SealedBid
from schemas.commands import Actor, Role
from tests.strategies import aware_datetimes
from tests.unit.examples import (
    BUYER,
    CONFIRMATIONS,
    DEADLINE,
    KEY_SHARES,
    MATERIAL,
    NOW,
    OCID,
    OFFICER,
)

MICROSECOND = timedelta(microseconds=1)
BIDDER = "supplier-RO-CUI-14399840"
SUPPLIER = Actor(id=BIDDER, role=Role.SUPPLIER)
OTHER_SUPPLIER = Actor(id="supplier-RO-CUI-2", role=Role.SUPPLIER)

BID = SealedBid(
    ocid=OCID,
    lots=("lot-1",),
    bidder_id=BIDDER,
    version=1,
    ciphertext=b"sealed",
    key_commitment="c0" * 32,
    material_sha256=committee_material.material_sha256(MATERIAL),
    key_shares=KEY_SHARES,
    signature=b"\x04" * 64,
)
WITHDRAWAL = BidWithdrawal(ocid=OCID, bidder_id=BIDDER, version=2, signature=b"\x05" * 64)

# The example committee of three officers of the buyer, 2 of 3, confirmed by two.
OFFICER_IDS = ("officer-1", "officer-2", "officer-3")
MEMBER_ACTORS = {o: Actor(id=o, role=Role.OFFICER, agency_id=BUYER) for o in OFFICER_IDS}

LOG = BidLog(
    ocid=OCID,
    buyer_id=BUYER,
    deadline=DEADLINE,
    status=LogStatus.OPEN,
    lots=frozenset({"lot-1", "lot-2"}),
    committee=Committee(MATERIAL, tuple(CONFIRMATIONS[:2])),
)
SEALED_LOG = dataclasses.replace(LOG, status=LogStatus.SEALED)


def refused(error: pytest.ExceptionInfo[Rejected], kind: type[Rejected], code: str) -> bool:
    """The refusal is exactly of ``kind`` (not a subclass) with ``code``."""
    return type(error.value) is kind and error.value.code == code


# Bids


@pytest.mark.parametrize(
    "actor",
    [
        Actor(id=BIDDER, role=Role.OFFICER, agency_id=BUYER),
        Actor(id=BIDDER, role=Role.OPERATOR),
        Actor(id=BIDDER, role=Role.SYSTEM),
        OTHER_SUPPLIER,
        OFFICER,
    ],
    ids=["officer with the bidder's id", "operator", "system", "another supplier", "officer"],
)
def test_only_the_supplier_itself_may_bid(actor: Actor) -> None:
    """Nobody bids or withdraws for a supplier but the supplier."""
    with pytest.raises(NotAllowed) as caught:
        check_bid(LOG, BID, actor, NOW)
    assert refused(caught, NotAllowed, "not_allowed")
    with pytest.raises(NotAllowed):
        check_withdrawal(LOG, WITHDRAWAL, actor, NOW)


def test_a_bid_for_a_tender_without_a_bid_log_is_not_found() -> None:
    """No committee yet, or no such tender: there is nowhere to put the bid."""
    with pytest.raises(NotFound) as caught:
        check_bid(None, BID, SUPPLIER, NOW)
    assert refused(caught, NotFound, "no_such_bid_log")
    with pytest.raises(NotFound):
        check_withdrawal(None, WITHDRAWAL, SUPPLIER, NOW)


@pytest.mark.parametrize("status", [LogStatus.SEALED, LogStatus.OPENED, LogStatus.CANCELLED])
def test_a_log_that_is_not_open_takes_no_bids(status: LogStatus) -> None:
    """Once sealed, opened or cancelled, the log refuses bids and withdrawals even early."""
    log = dataclasses.replace(LOG, status=status)
    with pytest.raises(WrongState) as caught:
        check_bid(log, BID, SUPPLIER, NOW)
    assert refused(caught, WrongState, "tender_closed")
    with pytest.raises(WrongState) as caught:
        check_withdrawal(log, WITHDRAWAL, SUPPLIER, NOW)
    assert refused(caught, WrongState, "tender_closed")


@pytest.mark.parametrize(
    "received_at",
    [DEADLINE, DEADLINE + MICROSECOND, DEADLINE + timedelta(days=1)],
    ids=["at", "a microsecond after", "a day after"],
)
def test_a_bid_at_or_after_the_deadline_is_late(received_at: datetime) -> None:
    """The deadline itself is already too late, for bids and for withdrawals."""
    with pytest.raises(WrongState) as caught:
        check_bid(LOG, BID, SUPPLIER, received_at)
    assert refused(caught, WrongState, "late")
    with pytest.raises(WrongState) as caught:
        check_withdrawal(LOG, WITHDRAWAL, SUPPLIER, received_at)
    assert refused(caught, WrongState, "late")


def test_a_bid_a_microsecond_before_the_deadline_is_accepted() -> None:
    """The last microsecond before the deadline still counts."""
    check_bid(LOG, BID, SUPPLIER, DEADLINE - MICROSECOND)
    check_withdrawal(LOG, WITHDRAWAL, SUPPLIER, DEADLINE - MICROSECOND)


@given(aware_datetimes())
@settings(max_examples=100, deadline=None)
def test_a_bid_is_timely_exactly_when_received_before_the_deadline(received_at: datetime) -> None:
    """Accepted strictly before the deadline, refused as late from it on."""
    if received_at < DEADLINE:
        check_bid(LOG, BID, SUPPLIER, received_at)
    else:
        with pytest.raises(WrongState, match="deadline"):
            check_bid(LOG, BID, SUPPLIER, received_at)


@pytest.mark.parametrize("lots", [("lot-3",), ("lot-1", "lot-3"), ("lot-0", "lot-1", "lot-2")])
def test_a_bid_for_lots_the_tender_does_not_have_is_refused(lots: tuple[str, ...]) -> None:
    """Every lot bid for must be one of the tender's."""
    with pytest.raises(Rejected) as caught:
        check_bid(LOG, BID.model_copy(update={"lots": lots}), SUPPLIER, NOW)
    assert refused(caught, Rejected, "unknown_lot")


def test_a_bid_for_all_the_tenders_lots_is_accepted() -> None:
    """Bidding for several of the tender's lots at once is allowed."""
    check_bid(LOG, BID.model_copy(update={"lots": ("lot-1", "lot-2")}), SUPPLIER, NOW)


# Handing in shares


def test_a_member_hands_in_after_the_seal() -> None:
    """Each member, with its signature valid, may hand in its shares once the log is sealed."""
    for officer_id in OFFICER_IDS:
        assert check_hand_in(SEALED_LOG, OCID, MEMBER_ACTORS[officer_id], True, False)


def test_shares_for_a_tender_without_a_bid_log_are_not_found() -> None:
    """Without a bid log there is nothing to open."""
    with pytest.raises(NotFound):
        check_hand_in(None, OCID, MEMBER_ACTORS["officer-1"], True, False)


@pytest.mark.parametrize(
    "actor",
    [
        Actor(id="officer-4", role=Role.OFFICER, agency_id=BUYER),
        Actor(id="officer-1", role=Role.SUPPLIER),
        Actor(id="officer-1", role=Role.OPERATOR),
        OFFICER,
    ],
    ids=["officer off the committee", "supplier", "operator", "buyer's officer"],
)
def test_only_a_committee_member_may_hand_in_shares(actor: Actor) -> None:
    """Anyone off the committee, or not acting as an officer, is not allowed."""
    with pytest.raises(NotAllowed):
        check_hand_in(SEALED_LOG, OCID, actor, True, False)


def test_no_share_is_taken_before_the_log_is_sealed() -> None:
    """Before the deadline's seal, shares are too early."""
    with pytest.raises(WrongState) as caught:
        check_hand_in(LOG, OCID, MEMBER_ACTORS["officer-1"], True, False)
    assert refused(caught, WrongState, "too_early")


@pytest.mark.parametrize("status", [LogStatus.OPENED, LogStatus.CANCELLED])
def test_no_share_is_taken_once_opened_or_cancelled(status: LogStatus) -> None:
    log = dataclasses.replace(LOG, status=status)
    with pytest.raises(WrongState) as caught:
        check_hand_in(log, OCID, MEMBER_ACTORS["officer-1"], True, False)
    assert refused(caught, WrongState, str(status))


def test_shares_without_a_valid_signature_are_refused() -> None:
    """The member's committee key must have signed the shares."""
    with pytest.raises(Rejected) as caught:
        check_hand_in(SEALED_LOG, OCID, MEMBER_ACTORS["officer-1"], False, False)
    assert refused(caught, Rejected, "invalid_signature")


def test_a_member_hands_in_only_once() -> None:
    """A second hand-in by the same member is refused, so one member cannot count twice."""
    with pytest.raises(WrongState) as caught:
        check_hand_in(SEALED_LOG, OCID, MEMBER_ACTORS["officer-1"], True, True)
    assert refused(caught, WrongState, "share_already_handed_in")
