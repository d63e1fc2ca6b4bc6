"""A tender's bid log as pure rules: who may add what, and when.

The log holds every version of every bid and every withdrawal, in the order received. The
latest entry of each bidder is what counts at the opening.
"""

import hashlib
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from bidding.shamir import Share
from procurement.errors import NotAllowed, NotFound, Rejected, WrongState
from procurement.tender import Tender, TenderStatus, officer_must_act_for_the_buyer
from schemas.bids import BidWithdrawal, OpeningShare, SealedBid
from schemas.commands import Actor, IssueOpeningKey, Role
from schemas.events import Event, OpeningKeyIssued


class LogStatus(StrEnum):
    OPEN = "open"  # taking bids until the deadline
    SEALED = "sealed"  # the deadline passed; the Merkle root is fixed
    OPENED = "opened"  # the committee opened the bids
    CANCELLED = "cancelled"


@dataclass(frozen=True)
class BidLog:
    ocid: str
    buyer_id: str
    deadline: datetime
    status: LogStatus
    lots: frozenset[str]
    threshold: int
    members: dict[str, tuple[int, str]]  # officer id -> (share x, SHA-256 of the share)


def bid_log_id(ocid: str) -> str:
    return f"{ocid}:bids"


@dataclass(frozen=True)
class Member:
    officer_id: str
    agency_id: str
    has_keys: bool


def issue_opening_key(
    tender: Tender | None,
    command: IssueOpeningKey,
    actor: Actor,
    now: datetime,
    members: dict[str, Member],
    already_issued: bool,
) -> list[Event]:
    if tender is None:
        raise NotFound(f"there is no tender {command.ocid}")
    officer_must_act_for_the_buyer(actor, tender.buyer_id)
    if tender.status is not TenderStatus.ACTIVE or now >= tender.submission_deadline:
        raise WrongState(f"tender {tender.ocid} is {tender.status}: too late for an opening key")
    if already_issued:
        raise WrongState(
            f"tender {tender.ocid} already has its opening key; bids may be sealed to it",
            code="opening_key_exists",
        )
    for share in command.shares:
        member = members.get(share.officer_id)
        if member is None or member.agency_id != tender.buyer_id:
            msg = f"{share.officer_id} is not an officer of {tender.buyer_id}: only its officers sit on its committees"
            raise Rejected(msg, code="not_a_committee_member")
        if not member.has_keys:
            msg = f"{share.officer_id} has not registered committee keys yet (`procurement officer keys`)"
            raise Rejected(msg, code="member_without_keys")
    return [
        OpeningKeyIssued(
            ocid=tender.ocid,
            public_key=command.public_key,
            threshold=command.threshold,
            shares=command.shares,
        )
    ]


def bid_must_be_timely(log: BidLog | None, ocid: str, received_at: datetime) -> BidLog:
    if log is None:
        raise NotFound(
            f"tender {ocid} does not take sealed bids: it does not exist or has no opening key yet",
            code="no_such_bid_log",
        )
    if log.status is not LogStatus.OPEN:
        raise WrongState(
            f"tender {ocid} is {log.status}: it takes no more bids", code="tender_closed"
        )
    if received_at >= log.deadline:
        msg = (
            f"received at {received_at.isoformat()}, after the deadline {log.deadline.isoformat()}"
        )
        raise WrongState(msg, code="late")
    return log


def bidder_must_act_for_itself(actor: Actor, bidder_id: str) -> None:
    if actor.role is not Role.SUPPLIER or actor.id != bidder_id:
        raise NotAllowed(f"{actor.id} may not bid as {bidder_id}: a supplier bids only for itself")


def check_bid(log: BidLog | None, bid: SealedBid, actor: Actor, received_at: datetime) -> None:
    bidder_must_act_for_itself(actor, bid.bidder_id)
    log = bid_must_be_timely(log, bid.ocid, received_at)
    unknown = sorted(set(bid.lots) - log.lots)
    if unknown:
        raise Rejected(f"tender {bid.ocid} has no lots {unknown}", code="unknown_lot")


def check_withdrawal(
    log: BidLog | None, withdrawal: BidWithdrawal, actor: Actor, received_at: datetime
) -> None:
    bidder_must_act_for_itself(actor, withdrawal.bidder_id)
    bid_must_be_timely(log, withdrawal.ocid, received_at)


def check_share(
    log: BidLog | None,
    ocid: str,
    actor: Actor,
    handed: OpeningShare,
    signature_valid: bool,
    already_held: bool,
) -> Share:
    """A committee member's share, if it may be used to open the bids now."""
    if log is None:
        raise NotFound(f"tender {ocid} has no sealed bids to open", code="no_such_bid_log")
    if actor.role is not Role.OFFICER or actor.id not in log.members:
        raise NotAllowed(f"{actor.id} is not on the evaluation committee of {ocid}")
    if log.status is LogStatus.OPEN:
        msg = f"the bids can be opened only after the deadline, {log.deadline.isoformat()}, once the bid log is sealed"
        raise WrongState(msg, code="too_early")
    if log.status is not LogStatus.SEALED:
        raise WrongState(
            f"the bids of {ocid} are {log.status}: nothing to open", code=str(log.status)
        )
    if not signature_valid:
        msg = f"the signature is not {actor.id}'s committee key's over this share"
        raise Rejected(msg, code="invalid_signature")
    x, digest = log.members[actor.id]
    try:
        share = Share.from_bytes(handed.share)
    except ValueError as error:
        raise Rejected(f"the share is malformed: {error}", code="wrong_share") from error
    if share.x != x or handed.x != x or hashlib.sha256(handed.share).hexdigest() != digest:
        msg = f"this is not the share that was sealed to {actor.id} for {ocid}"
        raise Rejected(msg, code="wrong_share")
    if already_held:
        raise WrongState(
            f"{actor.id} has already handed in a share", code="share_already_handed_in"
        )
    return share
