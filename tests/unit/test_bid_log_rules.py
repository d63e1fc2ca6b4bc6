"""The bid log's rules: who may bid, withdraw, issue the opening key and hand in a share, and
when."""

import dataclasses
from datetime import datetime, timedelta

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey
from hypothesis import given, settings

from bidding import committee, keys, shamir
from bidding.log import BidLog, LogStatus, Member, check_bid, check_share, check_withdrawal
from bidding.log import issue_opening_key as issue
from procurement.errors import NotAllowed, NotFound, Rejected, WrongState
from procurement.tender import Tender, TenderStatus
from schemas.bids import BidWithdrawal, OpeningShare, SealedBid
from schemas.commands import Actor, IssueOpeningKey, Role
from schemas.events import OpeningKeyIssued
from tests.strategies import aware_datetimes
from tests.unit.examples import (
    BUYER,
    DEADLINE,
    NOW,
    OCID,
    OFFICER,
    OFFICER_WITHOUT_AGENCY,
    OPERATOR,
    OTHER_OFFICER,
    SYSTEM,
    published,
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
    signature=b"\x04" * 64,
)
WITHDRAWAL = BidWithdrawal(ocid=OCID, bidder_id=BIDDER, version=2, signature=b"\x05" * 64)

# A committee of three officers of the buyer, with keys, and an opening key split 2 of 3.
OFFICER_IDS = ("officer-1", "officer-2", "officer-3")
ENCRYPTION_KEYS = {o: X25519PrivateKey.generate() for o in OFFICER_IDS}
SIGNING_KEYS = {o: Ed25519PrivateKey.generate() for o in OFFICER_IDS}
SETUP = committee.make_opening_key(
    OCID, [(o, keys.raw_public(ENCRYPTION_KEYS[o])) for o in OFFICER_IDS], threshold=2
)
SEALED_SHARES = {share.officer_id: share for share in SETUP.shares}
MEMBERS = {o: Member(officer_id=o, agency_id=BUYER, has_keys=True) for o in OFFICER_IDS}
MEMBER_ACTORS = {o: Actor(id=o, role=Role.OFFICER, agency_id=BUYER) for o in OFFICER_IDS}

LOG = BidLog(
    ocid=OCID,
    buyer_id=BUYER,
    deadline=DEADLINE,
    status=LogStatus.OPEN,
    lots=frozenset({"lot-1", "lot-2"}),
    threshold=SETUP.threshold,
    members={s.officer_id: (s.x, s.share_sha256) for s in SETUP.shares},
)
SEALED_LOG = dataclasses.replace(LOG, status=LogStatus.SEALED)


def handed_in(officer_id: str) -> OpeningShare:
    """The share an officer's machine decrypts and signs for the opening."""
    return committee.hand_in_share(
        OCID,
        officer_id,
        SEALED_SHARES[officer_id],
        ENCRYPTION_KEYS[officer_id],
        SIGNING_KEYS[officer_id],
    )


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
    """No opening key yet, or no such tender: there is nowhere to put the bid."""
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


def test_a_members_right_share_is_accepted_after_the_seal() -> None:
    """Each member's own share, signed, is accepted once, as the share it is."""
    for officer_id in OFFICER_IDS:
        handed = handed_in(officer_id)
        share = check_share(SEALED_LOG, OCID, MEMBER_ACTORS[officer_id], handed, True, False)
        assert share == shamir.Share.from_bytes(handed.share)
        assert share.x == LOG.members[officer_id][0]


def test_a_share_for_a_tender_without_a_bid_log_is_not_found() -> None:
    """Without a bid log there is nothing to open."""
    with pytest.raises(NotFound):
        check_share(None, OCID, MEMBER_ACTORS["officer-1"], handed_in("officer-1"), True, False)


@pytest.mark.parametrize(
    "actor",
    [
        Actor(id="officer-4", role=Role.OFFICER, agency_id=BUYER),
        Actor(id="officer-1", role=Role.SUPPLIER),
        Actor(id="officer-1", role=Role.OPERATOR),
        OFFICER,
        OPERATOR,
        SYSTEM,
    ],
    ids=["officer off the committee", "supplier", "operator", "buyer's officer", "op", "system"],
)
def test_only_a_committee_member_may_hand_in_a_share(actor: Actor) -> None:
    """Anyone off the committee, or not acting as an officer, is not allowed."""
    with pytest.raises(NotAllowed) as caught:
        check_share(SEALED_LOG, OCID, actor, handed_in("officer-1"), True, False)
    assert refused(caught, NotAllowed, "not_allowed")


def test_no_share_is_taken_before_the_log_is_sealed() -> None:
    """While bids may still arrive, the key cannot be rebuilt."""
    with pytest.raises(WrongState) as caught:
        check_share(LOG, OCID, MEMBER_ACTORS["officer-1"], handed_in("officer-1"), True, False)
    assert refused(caught, WrongState, "too_early")


@pytest.mark.parametrize("status", [LogStatus.OPENED, LogStatus.CANCELLED])
def test_no_share_is_taken_once_opened_or_cancelled(status: LogStatus) -> None:
    """After the opening, or for a cancelled tender, there is nothing left to open."""
    log = dataclasses.replace(LOG, status=status)
    with pytest.raises(WrongState) as caught:
        check_share(log, OCID, MEMBER_ACTORS["officer-1"], handed_in("officer-1"), True, False)
    assert refused(caught, WrongState, str(status))


def test_a_share_without_a_valid_signature_is_refused() -> None:
    """The member's committee key must have signed the share."""
    with pytest.raises(Rejected) as caught:
        check_share(
            SEALED_LOG, OCID, MEMBER_ACTORS["officer-1"], handed_in("officer-1"), False, False
        )
    assert refused(caught, Rejected, "invalid_signature")


def _flip_last_bit(raw: bytes) -> bytes:
    return raw[:-1] + bytes([raw[-1] ^ 1])


OWN = handed_in("officer-1")
WRONG_SHARES = {
    "another member's share": handed_in("officer-2"),
    "another member's share, own x": handed_in("officer-2").model_copy(update={"x": OWN.x}),
    "y off by one bit": OWN.model_copy(update={"share": _flip_last_bit(OWN.share)}),
    "x in the bytes changed": OWN.model_copy(update={"share": bytes([2]) + OWN.share[1:]}),
    "x beside the bytes changed": OWN.model_copy(update={"x": 2}),
    "too short": OWN.model_copy(update={"share": OWN.share[:-1]}),
    "too long": OWN.model_copy(update={"share": OWN.share + b"\x00"}),
    "x of zero": OWN.model_copy(update={"share": b"\x00" + OWN.share[1:]}),
    "y beyond the prime": OWN.model_copy(update={"share": b"\x01" + b"\xff" * shamir.Y_BYTES}),
    "a share of another split": OWN.model_copy(
        update={"share": shamir.split(b"\x07" * 32, 2, 3)[0].to_bytes()}
    ),
}


@pytest.mark.parametrize("handed", WRONG_SHARES.values(), ids=WRONG_SHARES.keys())
def test_a_wrong_or_malformed_share_is_refused(handed: OpeningShare) -> None:
    """Only the exact share sealed to this member, by bytes, x and digest, is accepted."""
    with pytest.raises(Rejected) as caught:
        check_share(SEALED_LOG, OCID, MEMBER_ACTORS["officer-1"], handed, True, False)
    assert refused(caught, Rejected, "wrong_share")


def test_a_member_hands_in_a_share_only_once() -> None:
    """A second hand-in by the same member is refused, so one member cannot count twice."""
    with pytest.raises(WrongState) as caught:
        check_share(SEALED_LOG, OCID, MEMBER_ACTORS["officer-1"], OWN, True, True)
    assert refused(caught, WrongState, "share_already_handed_in")


# Issuing the opening key


COMMAND = IssueOpeningKey.model_validate({"ocid": OCID, **SETUP.model_dump(mode="json")})


def test_an_officer_of_the_buyer_issues_the_opening_key() -> None:
    """Before the deadline, the buyer's officer records the key and the sealed shares."""
    tender = published()
    events = issue(tender, COMMAND, OFFICER, DEADLINE - MICROSECOND, MEMBERS, False)
    assert events == [
        OpeningKeyIssued(
            ocid=OCID, public_key=SETUP.public_key, threshold=2, shares=list(SETUP.shares)
        )
    ]


def test_the_opening_key_of_no_tender_is_not_found() -> None:
    """There must be a tender to issue a key for."""
    with pytest.raises(NotFound):
        issue(None, COMMAND, OFFICER, NOW, MEMBERS, False)


@pytest.mark.parametrize(
    "actor",
    [
        OTHER_OFFICER,
        OFFICER_WITHOUT_AGENCY,
        OPERATOR,
        SYSTEM,
        SUPPLIER,
        Actor(id="officer-ana", role=Role.SUPPLIER, agency_id=BUYER),
    ],
    ids=["other agency", "no agency", "operator", "system", "supplier", "supplier of buyer"],
)
def test_only_an_officer_of_the_buyer_issues_the_opening_key(actor: Actor) -> None:
    """Nobody but a procurement officer of the buying agency may issue it."""
    with pytest.raises(NotAllowed):
        issue(published(), COMMAND, actor, NOW, MEMBERS, False)


@pytest.mark.parametrize("status", [TenderStatus.CLOSED, TenderStatus.CANCELLED])
def test_no_opening_key_for_a_tender_that_is_not_active(status: TenderStatus) -> None:
    """A closed or cancelled tender takes no opening key."""
    tender: Tender = dataclasses.replace(published(), status=status)
    with pytest.raises(WrongState):
        issue(tender, COMMAND, OFFICER, NOW, MEMBERS, False)


@pytest.mark.parametrize("now", [DEADLINE, DEADLINE + MICROSECOND], ids=["at", "after"])
def test_no_opening_key_at_or_after_the_deadline(now: datetime) -> None:
    """From the deadline on, no bid could be sealed to a new key."""
    with pytest.raises(WrongState):
        issue(published(), COMMAND, OFFICER, now, MEMBERS, False)


def test_the_opening_key_is_issued_only_once() -> None:
    """A second key would strand the bids sealed to the first."""
    with pytest.raises(WrongState) as caught:
        issue(published(), COMMAND, OFFICER, NOW, MEMBERS, True)
    assert refused(caught, WrongState, "opening_key_exists")


@pytest.mark.parametrize(
    ("members", "code"),
    [
        ({o: m for o, m in MEMBERS.items() if o != "officer-3"}, "not_a_committee_member"),
        (
            MEMBERS | {"officer-3": Member("officer-3", "agency-RO-CUI-1", True)},
            "not_a_committee_member",
        ),
        (MEMBERS | {"officer-3": Member("officer-3", BUYER, False)}, "member_without_keys"),
    ],
    ids=["unknown officer", "officer of another agency", "officer without keys"],
)
def test_committee_members_are_officers_of_the_buyer_with_keys(
    members: dict[str, Member], code: str
) -> None:
    """Each share must go to a registered officer of the buyer who has committee keys."""
    with pytest.raises(Rejected) as caught:
        issue(published(), COMMAND, OFFICER, NOW, members, False)
    assert refused(caught, Rejected, code)
