"""A decided lot as the audit reads it: the published rules, every opened bid with what the
committee decided about it, the auction's price history, and the published ranking and award.

The audit builds this from the award evidence (``evidence.lot_from_evidence``) and compares
it with what the transparency log's events say; ``ranking`` recomputes the award from it.
Amounts are exact ``Decimal``s; times are aware datetimes.
"""

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any


@dataclass(frozen=True)
class Criterion:
    criterion_id: str
    weight: Decimal  # percent of the total score


@dataclass(frozen=True)
class Rules:
    award_criteria: str  # priceOnly or ratedCriteria
    price_weight: Decimal  # percent
    criteria: tuple[Criterion, ...]
    abnormally_low_share: Decimal  # percent
    estimated_value: Decimal
    currency: str


@dataclass(frozen=True)
class Score:
    criterion_id: str
    officer_id: str
    score: Decimal  # 0..100
    revision: int
    signature: str  # base64 Ed25519 over the score's fields
    signing_key: str | None  # base64 raw Ed25519 public key of the member


@dataclass(frozen=True)
class Flag:
    """An abnormally low price, as flagged, and what was decided about its justification."""

    basis: str  # others_average or estimated_value
    reference: Decimal
    share: Decimal
    threshold: Decimal
    decision: str | None  # accepted, rejected, or None while undecided


@dataclass(frozen=True)
class Bid:
    bid_id: str
    bidder_id: str
    received_at: datetime
    opened: bool  # False: the bid could not be opened as sent
    price: Decimal  # as opened (0 when not opened)
    admissible: bool  # opened and qualified
    verdict_reason: str | None
    flag: Flag | None
    scores: tuple[Score, ...]
    final_price: Decimal | None  # as published: after the auction, if there was one
    receipt: dict[str, Any] | None
    leaf_index: int | None
    leaf_hash: str | None


@dataclass(frozen=True)
class PriceStep:
    sequence: int
    label: str  # the pseudonym the auction showed
    price: Decimal
    at: datetime
    round: int


@dataclass(frozen=True)
class AuctionHistory:
    steps: tuple[PriceStep, ...]
    bidders: dict[str, str]  # label -> bidder id, revealed at the close
    initial_prices: dict[str, Decimal]  # label -> the price the auction started from


@dataclass(frozen=True)
class QualityTerm:
    criterion_id: str
    weight: Decimal
    scores: int  # members who scored
    score_sum: Decimal  # the sum of their latest scores


@dataclass(frozen=True)
class Terms:
    """The inputs of a row's formula, as published beside its results."""

    lowest_price: Decimal
    price_weight: Decimal
    quality: tuple[QualityTerm, ...]


@dataclass(frozen=True)
class Row:
    rank: int
    bid_id: str
    bidder_id: str
    price: Decimal
    price_score: Decimal
    quality_part: Decimal
    total: Decimal
    terms: Terms


@dataclass(frozen=True)
class Award:
    bid_id: str
    bidder_id: str
    value: Decimal


@dataclass(frozen=True)
class Cancelled:
    """How the evidence says the lot was cancelled: by the evaluation's event at
    ``sequence``, with its reason, at its time (None when not published)."""

    event_type: str  # LotCancelled, ProcedureCancelled or ComplaintUpheld
    sequence: int
    reason: str
    cancelled_at: datetime | None


@dataclass(frozen=True)
class DecidedLot:
    ocid: str
    lot_id: str
    status: str  # awarded or cancelled
    rules: Rules
    bids: tuple[Bid, ...]
    auction: AuctionHistory | None
    ranking: tuple[Row, ...]
    award: Award | None  # None when cancelled
    sealed_tree_size: int | None
    sealed_root: str | None
    cancellation: Cancelled | None = None  # set when cancelled
    annulled: frozenset[str] = frozenset()  # bids whose award was annulled: they cannot win

    def bid(self, bid_id: str) -> Bid | None:
        return next((bid for bid in self.bids if bid.bid_id == bid_id), None)


@dataclass(frozen=True)
class PendingLot:
    """A lot not decided yet: the evidence names its status and nothing else."""

    lot_id: str
    status: str
