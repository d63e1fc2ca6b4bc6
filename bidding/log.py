"""A tender's bid log as pure rules: who may add what, and when.

The log holds every version of every bid and every withdrawal, in the order received. The
latest entry of each bidder is what counts at the opening.
"""

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from bidding.committee_log import Committee, committee_must_be_confirmed
from bidding.committee_sealing import shares_match_material
from procurement.errors import NotAllowed, NotFound, Rejected, WrongState
from schemas.bids import BidWithdrawal, SealedBid
from schemas.commands import Actor, Role


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
    committee: Committee

    @property
    def threshold(self) -> int:
        return self.committee.material.threshold

    @property
    def members(self) -> list[str]:
        return [member.officer_id for member in self.committee.material.members]


def bid_log_id(ocid: str) -> str:
    return f"{ocid}:bids"


def bid_must_be_timely(log: BidLog | None, ocid: str, received_at: datetime) -> BidLog:
    if log is None:
        raise NotFound(
            f"tender {ocid} does not take sealed bids: it does not exist or has no committee yet",
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
    committee = committee_must_be_confirmed(log.committee, bid.ocid)
    unknown = sorted(set(bid.lots) - log.lots)
    if unknown:
        raise Rejected(f"tender {bid.ocid} has no lots {unknown}", code="unknown_lot")
    if (mismatch := shares_match_material(bid, committee.material)) is not None:
        raise Rejected(
            f"{mismatch}: fetch GET /tenders/{bid.ocid}/committee", code="wrong_committee"
        )


def check_withdrawal(
    log: BidLog | None, withdrawal: BidWithdrawal, actor: Actor, received_at: datetime
) -> None:
    bidder_must_act_for_itself(actor, withdrawal.bidder_id)
    bid_must_be_timely(log, withdrawal.ocid, received_at)


def check_hand_in(
    log: BidLog | None, ocid: str, actor: Actor, signature_valid: bool, already_held: bool
) -> BidLog:
    """Whether a committee member may hand in its shares now (each share is checked against
    the bidder's digest by ``bidding.committee_opening.check_handed_shares``)."""
    log = may_hand_in(log, ocid, actor)
    if not signature_valid:
        msg = f"the signature is not {actor.id}'s committee key's over these shares"
        raise Rejected(msg, code="invalid_signature")
    if already_held:
        raise WrongState(
            f"{actor.id} has already handed in its shares", code="share_already_handed_in"
        )
    return log


def may_hand_in(log: BidLog | None, ocid: str, actor: Actor) -> BidLog:
    """Whether ``actor`` sits on the committee and the log is sealed: checked before a
    hand-in's body, which may be megabytes, is read."""
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
    return log
