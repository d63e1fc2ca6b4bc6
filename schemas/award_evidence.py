"""The award evidence of a tender on the wire: for each decided lot, everything its award
rests on, as ``GET /tenders/{ocid}/award-evidence`` serves it (docs/award-evidence.md).

Amounts, points and percentages are exact decimals written as JSON strings; weights and
shares are percentages (80 means 80 %). Binary values are base64 (signatures, keys) or
lowercase hex (SHA-256 digests, Merkle hashes). Compiled by ``publication.award_evidence``.
"""

from decimal import Decimal
from typing import Annotated, Literal

from pydantic import AwareDatetime, Field

from schemas.auction import AuctionRank
from schemas.base import Message
from schemas.bids import Receipt, Sha256Hex
from schemas.evaluation import AbnormallyLowBasis, LossReason, Money, Points, Score
from schemas.values import (
    AuctionEnd,
    AuctionRules,
    AwardCriteria,
    Currency,
    Identifier,
    Percent,
    Text,
    Title,
    Value,
)

# A lot is decided when an award stands, or when it is cancelled (by the buyer, with the
# procedure, or by an upheld complaint); the evaluation has no lot "unsuccessful" of its
# own: a lot with no admissible bid must be cancelled by the buyer, with the reason.
DecidedStatus = Literal["awarded", "cancelled"]
CancellingEvent = Literal["LotCancelled", "ProcedureCancelled", "ComplaintUpheld"]
PendingStatus = Literal["not_evaluated", "evaluation", "auction", "ranked", "unsuccessful"]
Base64Text = Annotated[str, Field(pattern=r"^[A-Za-z0-9+/]*={0,2}$", max_length=200)]
# The pseudonym an auction shows for a bidder: "Bidder 1".., or "?" for one not scheduled.
BidderLabel = Annotated[str, Field(pattern=r"^(Bidder [1-9][0-9]{0,3}|\?)$", max_length=11)]
# As BidRejected's reason_code (schemas.events).
UnopenedReason = Literal[
    "tampered",
    "wrong_tender_or_lot",
    "invalid_signature",
    "bad_key_shares",
    "unreadable",
    "unknown_lot",
    "wrong_currency",
    "not_reconfirmed",
]


class CriterionRule(Message):
    id: Identifier
    name: Title
    weight: Percent  # percent: points of 100


class AwardRules(Message):
    """The published rules the lot was awarded by, with the formula in words."""

    award_criteria: AwardCriteria
    price_weight: Percent  # percent: points of 100 the price can give
    quality_criteria: tuple[CriterionRule, ...]
    abnormally_low_share: Percent  # percent of the reference below which a price is flagged
    abnormally_low_rule: Text
    score_formula: Text
    tie_break: Text
    rounding: Text


class BidLogHead(Message):
    """The bid log's Merkle tree head as sealed at the deadline (``BidLogSealed``)."""

    tree_size: int = Field(ge=0)
    root: Sha256Hex


class Qualification(Message):
    verdict: Literal["qualified", "disqualified", "not_decided"]
    officer_id: Identifier | None = None
    reason: Text | None = None  # why it was disqualified, or admitted despite its promises


class AbnormallyLowCheck(Message):
    """The flag raised on a final price, with every number of the test it failed."""

    price: Value
    basis: AbnormallyLowBasis
    reference: Money  # the others' average, or the lot's estimated value, to the cent
    share: Percent  # percent
    threshold: Money  # share % of the reference, to the cent; the price is below it


class Justification(Message):
    decision: Literal["awaited", "accepted", "rejected"]
    officer_id: Identifier | None = None
    reason: Text | None = None


class SignedScore(Message):
    """One committee member's latest score of one criterion, signed with the member's
    committee key over the canonical JSON of the fields in docs/award-evidence.md."""

    criterion_id: Identifier
    officer_id: Identifier
    score: Score
    revision: int = Field(ge=1)
    purpose: Literal["procurement-quality-score/1"]
    signature: Base64Text  # Ed25519, base64
    signing_key: Base64Text | None  # the member's Ed25519 public key, base64; None: not known


class OpeningOutcome(Message):
    opened: bool
    reason_code: UnopenedReason | None = None  # why a bid could not be opened
    reason: Text | None = None


class EvidenceBid(Message):
    """One bid for the lot, from its receipt in the sealed log to its final price."""

    bid_id: Identifier
    bidder_id: Identifier
    receipt: Receipt | None  # the leaf data: its canonical JSON is the Merkle leaf
    leaf_index: int | None
    leaf_hash: Sha256Hex | None
    received_at: AwareDatetime | None
    opening: OpeningOutcome
    opened_price: Value | None
    qualification: Qualification
    abnormally_low: AbnormallyLowCheck | None
    justification: Justification | None
    quality_scores: tuple[SignedScore, ...]
    final_price: Value | None  # the auction's final price when there was one


class AuctionLabel(Message):
    label: BidderLabel  # "Bidder 1".. in the order of the auction's participants
    bidder_id: Identifier
    bid_id: Identifier


class AuctionEntrant(Message):
    label: BidderLabel
    initial_price: Decimal
    quality_part: Points


class AuctionPrice(Message):
    sequence: int = Field(ge=1)
    label: BidderLabel
    price: Decimal
    at: AwareDatetime
    round: int = Field(ge=1)


class LabelledRank(AuctionRank):
    label: BidderLabel


class AuctionEvidence(Message):
    auction_id: Identifier
    status: Literal["scheduled", "open", "closed", "cancelled"]
    currency: Currency
    price_weight: Percent
    rules: AuctionRules
    starts_at: AwareDatetime
    opened_at: AwareDatetime | None
    closed_at: AwareDatetime | None
    close_reason: AuctionEnd | None
    participants: tuple[AuctionEntrant, ...]
    history: tuple[AuctionPrice, ...]  # every accepted price, in order
    prices_rejected: int
    labels: tuple[AuctionLabel, ...] | None  # revealed once the auction closed or was cancelled
    final_ranking: tuple[LabelledRank, ...] | None


class QualityTerm(Message):
    criterion_id: Identifier
    weight: Percent
    scores: int = Field(ge=0)  # members who scored
    score_sum: Decimal  # the sum of their latest scores


class RankingRow(Message):
    """One line of the ranking with every term of the formula."""

    rank: int = Field(ge=1)
    bid_id: Identifier
    bidder_id: Identifier
    price: Value
    lowest_price: Decimal
    price_weight: Percent
    price_score: Points
    quality_terms: tuple[QualityTerm, ...]
    quality_part: Points
    total: Points
    received_at: AwareDatetime
    leaf_index: int | None
    # Breaks ties (see AwardRules.tie_break): the auction price that set the final price.
    auction_sequence: int = Field(default=0, ge=0, le=1_000_000_000)


class AwardMade(Message):
    award_id: Identifier  # <lot>:<bid>, as in OCDS
    bid_id: Identifier
    bidder_id: Identifier
    value: Value
    officer_id: Identifier
    decided_at: AwareDatetime
    standstill_ends: AwareDatetime


class Loss(Message):
    bid_id: Identifier
    bidder_id: Identifier
    reason_code: LossReason
    reason: Text


class Cancellation(Message):
    """Why and when a lot was cancelled: the evaluation's event that cancelled it, which the
    transparency log holds at ``sequence`` of ``<ocid>:evaluation``."""

    event_type: CancellingEvent
    sequence: int = Field(ge=1)  # the event's sequence in the evaluation's history
    officer_id: Identifier  # the buyer's officer, or the reviewer who upheld the complaint
    reason: Text
    cancelled_at: AwareDatetime | None  # when it was recorded; None if not known


class DecidedLot(Message):
    lot_id: Identifier
    status: DecidedStatus
    cancellation: Cancellation | None  # set for a cancelled lot, and only then
    estimated_value: Value
    rules: AwardRules
    bid_log: BidLogHead | None
    bids: tuple[EvidenceBid, ...]
    auction: AuctionEvidence | None
    ranking: tuple[RankingRow, ...]
    award: AwardMade | None
    unsuccessful: tuple[Loss, ...]


class PendingLot(Message):
    lot_id: Identifier
    status: PendingStatus


class AwardEvidence(Message):
    ocid: Identifier
    lots: tuple[DecidedLot | PendingLot, ...]


class BidLogLeaves(Message):
    """The sealed bid log's Merkle leaf hashes, in log order (``GET .../bid-log/leaves``)."""

    ocid: Identifier
    tree_size: int = Field(ge=0)
    root: Sha256Hex  # as sealed: the root over ``leaves``
    leaves: tuple[Sha256Hex, ...]
