"""The state of a tender's evaluation, per lot, and the legal moves of a lot.

``LOT_LIFECYCLE`` is a lot's life as data; ``evolve`` refuses any event it does not allow.
"""

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from enum import StrEnum

from schemas.evaluation import (
    AbnormallyLowBasis,
    AuctionBidder,
    ComplaintSubject,
    EvaluationFacts,
    OpenedBid,
)
from schemas.values import Value


def evaluation_id(ocid: str) -> str:
    return f"{ocid}:evaluation"


def award_id(lot_id: str, bid_id: str, number: int = 1) -> str:
    """The award's id, unique over the procedure's life: a lot's first award is
    ``<lot>:<bid>``, as it always was; a later one adds its number, ``<lot>:<bid>:2``."""
    return f"{lot_id}:{bid_id}" if number == 1 else f"{lot_id}:{bid_id}:{number}"


class LotStatus(StrEnum):
    EVALUATION = "evaluation"  # qualification and scoring
    AUCTION = "auction"  # handed to the auction; waiting for its final prices
    RANKED = "ranked"  # prices final, ranked, abnormally low prices flagged
    AWARDED = "awarded"  # award decided; the standstill runs, or is over
    SUSPENDED = "suspended"  # a complaint is open: the standstill is suspended
    CANCELLED = "cancelled"  # final
    UNSUCCESSFUL = "unsuccessful"  # final: no bid, or none left that can win
    CONTRACTED = "contracted"  # final: the contract is concluded; only its termination applies


LIVE = (
    LotStatus.EVALUATION,
    LotStatus.AUCTION,
    LotStatus.RANKED,
    LotStatus.AWARDED,
    LotStatus.SUSPENDED,
)

# A lot's life as data: (status before, event type) -> the statuses it may have after.
# Events about a bid (qualification, clarification) move each lot they name.
LOT_LIFECYCLE: dict[tuple[LotStatus | None, str], frozenset[LotStatus]] = {
    (None, "EvaluationStarted"): frozenset({LotStatus.EVALUATION}),
    (LotStatus.EVALUATION, "ClarificationRequested"): frozenset({LotStatus.EVALUATION}),
    (LotStatus.EVALUATION, "ClarificationAnswered"): frozenset({LotStatus.EVALUATION}),
    (LotStatus.EVALUATION, "BidQualified"): frozenset({LotStatus.EVALUATION}),
    (LotStatus.EVALUATION, "BidDisqualified"): frozenset({LotStatus.EVALUATION}),
    (LotStatus.EVALUATION, "QualityScored"): frozenset({LotStatus.EVALUATION}),
    (LotStatus.EVALUATION, "LotEvaluated"): frozenset({LotStatus.RANKED}),
    (LotStatus.EVALUATION, "LotReadyForAuction"): frozenset({LotStatus.AUCTION}),
    (LotStatus.AUCTION, "AuctionResultRecorded"): frozenset({LotStatus.RANKED}),
    (LotStatus.RANKED, "AbnormallyLowFlagged"): frozenset({LotStatus.RANKED}),
    (LotStatus.RANKED, "JustificationRequested"): frozenset({LotStatus.RANKED}),
    (LotStatus.RANKED, "JustificationSubmitted"): frozenset({LotStatus.RANKED}),
    (LotStatus.RANKED, "JustificationAccepted"): frozenset({LotStatus.RANKED}),
    (LotStatus.RANKED, "JustificationRejected"): frozenset({LotStatus.RANKED}),
    (LotStatus.RANKED, "AwardDecided"): frozenset({LotStatus.AWARDED}),
    (LotStatus.AWARDED, "AwardAnnulled"): frozenset({LotStatus.RANKED}),
    (LotStatus.AWARDED, "ContractConcluded"): frozenset({LotStatus.CONTRACTED}),
    (LotStatus.EVALUATION, "LotUnsuccessful"): frozenset({LotStatus.UNSUCCESSFUL}),
    (LotStatus.RANKED, "LotUnsuccessful"): frozenset({LotStatus.UNSUCCESSFUL}),
    (LotStatus.AWARDED, "ComplaintFiled"): frozenset({LotStatus.SUSPENDED}),
    (LotStatus.SUSPENDED, "ComplaintFiled"): frozenset({LotStatus.SUSPENDED}),
    (LotStatus.SUSPENDED, "ComplaintUpheld"): frozenset(
        {LotStatus.EVALUATION, LotStatus.CANCELLED}
    ),  # re-evaluate, or cancel
    (LotStatus.SUSPENDED, "ComplaintDismissed"): frozenset(
        {LotStatus.AWARDED, LotStatus.SUSPENDED}
    ),  # suspended while others are open
    # A complaint against the lot's cancellation: upheld, the lot resumes where it was.
    (LotStatus.CANCELLED, "ComplaintFiled"): frozenset({LotStatus.CANCELLED}),
    (LotStatus.CANCELLED, "ComplaintDismissed"): frozenset({LotStatus.CANCELLED}),
    (LotStatus.CANCELLED, "ComplaintUpheld"): frozenset(
        {LotStatus.EVALUATION, LotStatus.AUCTION, LotStatus.RANKED, LotStatus.AWARDED}
    ),
    **{(status, "LotCancelled"): frozenset({LotStatus.CANCELLED}) for status in LIVE},
    **{(status, "ProcedureCancelled"): frozenset({LotStatus.CANCELLED}) for status in LIVE},
}


class FlagStatus(StrEnum):
    FLAGGED = "flagged"
    REQUESTED = "requested"  # a justification was asked for
    SUBMITTED = "submitted"
    ACCEPTED = "accepted"
    REJECTED = "rejected"  # the bid left the lot's ranking


class ComplaintStatus(StrEnum):
    OPEN = "open"
    UPHELD = "upheld"
    DISMISSED = "dismissed"
    MOOT = "moot"  # the lot was cancelled, or another complaint about it upheld, first


@dataclass(frozen=True)
class Decision:
    admissible: bool
    officer_id: str
    reason: str | None = None


@dataclass(frozen=True)
class Clarification:
    request_id: str
    bid_id: str
    bidder_id: str
    lot_ids: tuple[str, ...]
    question: str
    respond_by: datetime
    answer: str | None = None

    def is_open(self, now: datetime) -> bool:
        return self.answer is None and now < self.respond_by


@dataclass(frozen=True)
class MemberScore:
    score: Decimal
    revision: int


@dataclass(frozen=True)
class Flag:
    basis: AbnormallyLowBasis
    price: Decimal
    threshold: Decimal
    status: FlagStatus = FlagStatus.FLAGGED
    respond_by: datetime | None = None
    reason: str | None = None  # the officer's, when accepted or rejected

    @property
    def resolved(self) -> bool:
        return self.status is FlagStatus.ACCEPTED


@dataclass(frozen=True)
class Award:
    award_id: str
    number: int  # the lot's how-manieth award
    bid_id: str
    bidder_id: str
    value: Value
    total: Decimal
    decided_at: datetime
    standstill_ends: datetime


@dataclass(frozen=True)
class Complaint:
    complaint_id: str
    lot_id: str
    bidder_id: str
    grounds: str
    status: ComplaintStatus = ComplaintStatus.OPEN
    subject: ComplaintSubject = ComplaintSubject.AWARD


@dataclass(frozen=True)
class LotState:
    lot_id: str
    status: LotStatus
    decisions: dict[str, Decision]  # bid id -> the committee's latest decision
    scores: dict[tuple[str, str, str], MemberScore]  # (bid, criterion, member) -> latest
    auction: tuple[AuctionBidder, ...] | None = None
    final_prices: dict[str, Decimal] | None = None  # bid id -> price after the auction
    # bid id -> the sequence number of the auction price that set its final price (0: as
    # opened); breaks ties, see procurement.evaluation.scoring
    auction_sequences: dict[str, int] | None = None
    flags: dict[str, Flag] | None = None  # bid id -> abnormally low flag; None: not checked
    award: Award | None = None
    # Of a lot the buyer cancelled: where it was and when, should a review annul the cancellation.
    cancelled_from: LotStatus | None = None
    cancelled_at: datetime | None = None
    awards_decided: int = 0  # over the lot's life, to number the next award
    annulled: dict[str, str] = field(default_factory=dict)  # bid id -> why: out for good


@dataclass(frozen=True)
class Evaluation:
    ocid: str
    facts: EvaluationFacts
    bids: dict[str, OpenedBid]
    lots: dict[str, LotState]
    clarifications: dict[str, Clarification]
    complaints: dict[str, Complaint]
    cancelled: bool
    version: int  # the sequence number of the last event applied
