"""Evaluation, award, standstill and complaints on the wire: the facts the evaluation starts
from, the commands of each step and the events they record.

One aggregate per tender, id ``<ocid>:evaluation``; its state is per lot. ``EvaluationStarted``
carries every fact the rules need, so the aggregate replays from its own events alone. The
rules are in ``procurement.evaluation``.
"""

from decimal import Decimal
from enum import StrEnum
from typing import TYPE_CHECKING, Annotated, Literal, TypeAlias

from pydantic import AwareDatetime, Field, field_validator, model_validator

from schemas.base import EvaluationEvent, Message, concrete_events, one_of
from schemas.bids import Signature
from schemas.commands import Command
from schemas.values import (
    AwardCriteria,
    Identifier,
    Percent,
    QualityCriterion,
    Text,
    Value,
)

# Points of the published score, 0..100, exact to 0.0001 (see procurement.evaluation).
Points = Annotated[
    Decimal, Field(ge=0, le=100, max_digits=7, decimal_places=4, allow_inf_nan=False)
]
# A committee member's score for one quality criterion, 0..100, to the hundredth.
Score = Annotated[Decimal, Field(ge=0, le=100, max_digits=5, decimal_places=2, allow_inf_nan=False)]
# An amount worked out from prices (an average, a threshold), to the cent.
Money = Annotated[Decimal, Field(ge=0, max_digits=20, decimal_places=2, allow_inf_nan=False)]
LotIds = Annotated[tuple[Identifier, ...], Field(min_length=1, max_length=100)]
MAX_BIDS = 10_000  # opened bids of one tender that an evaluation takes


def _unique(kind: str, ids: list[str]) -> None:
    if len(ids) != len(set(ids)):
        repeated = sorted({i for i in ids if ids.count(i) > 1})
        raise ValueError(f"each {kind} once, repeated: {repeated}")


# What the evaluation starts from


class LotFacts(Message):
    lot_id: Identifier
    estimated_value: Value


class EvaluationFacts(Message):
    """What the evaluation needs to know about the tender, as published and closed."""

    ocid: Identifier
    buyer_id: Identifier
    lots: Annotated[tuple[LotFacts, ...], Field(min_length=1, max_length=100)]
    award_criteria: AwardCriteria
    price_weight: Percent
    quality_criteria: Annotated[tuple[QualityCriterion, ...], Field(max_length=20)] = ()
    abnormally_low_share: Percent
    standstill_days: Annotated[int, Field(ge=0, le=60)]
    has_auction: bool
    committee: Annotated[tuple[Identifier, ...], Field(min_length=1, max_length=20)]

    @model_validator(mode="after")
    def _ids_are_unique(self) -> "EvaluationFacts":
        _unique("lot", [lot.lot_id for lot in self.lots])
        _unique("quality criterion", [c.id for c in self.quality_criteria])
        _unique("committee member", list(self.committee))
        return self

    @model_validator(mode="after")
    def _criteria_match_the_award_criteria(self) -> "EvaluationFacts":
        weights = self.price_weight + sum((c.weight for c in self.quality_criteria), Decimal(0))
        if self.award_criteria is AwardCriteria.PRICE_ONLY and (
            self.quality_criteria or self.price_weight != 100
        ):
            raise ValueError("a priceOnly award has no quality criteria and a price weight of 100")
        if self.award_criteria is AwardCriteria.RATED_CRITERIA and (
            not self.quality_criteria or weights != 100
        ):
            msg = f"a ratedCriteria award needs quality criteria; its weights add up to {weights}, not 100"
            raise ValueError(msg)
        return self

    def lot(self, lot_id: str) -> LotFacts | None:
        return next((lot for lot in self.lots if lot.lot_id == lot_id), None)

    def criterion(self, criterion_id: str) -> QualityCriterion | None:
        return next((c for c in self.quality_criteria if c.id == criterion_id), None)


class OfferedPrice(Message):
    lot_id: Identifier
    price: Value  # the total offered for the lot, as opened
    value_added_tax_included: bool | None = None  # None: on the tender's basis, as before


class OpenedBid(Message):
    """One opened bid, as far as the evaluation is concerned."""

    bid_id: Identifier
    bidder_id: Identifier
    is_sme: bool
    received_at: AwareDatetime  # from the signed receipt; breaks ties
    offers: Annotated[tuple[OfferedPrice, ...], Field(min_length=1, max_length=100)]

    @field_validator("offers")
    @classmethod
    def _one_offer_per_lot(cls, offers: tuple[OfferedPrice, ...]) -> tuple[OfferedPrice, ...]:
        _unique("lot", [offer.lot_id for offer in offers])
        return offers

    def offer(self, lot_id: str) -> OfferedPrice | None:
        return next((offer for offer in self.offers if offer.lot_id == lot_id), None)

    @property
    def lot_ids(self) -> tuple[str, ...]:
        return tuple(offer.lot_id for offer in self.offers)


# Values carried by the events


class RankedBid(Message):
    """One line of a lot's ranking: the published formula applied to one bid."""

    rank: int = Field(ge=1, le=MAX_BIDS)
    bid_id: Identifier
    bidder_id: Identifier
    price: Value  # the final price: after the auction, if there was one
    price_score: Points
    quality_part: Points
    total: Points
    received_at: AwareDatetime


class AuctionBidder(Message):
    bid_id: Identifier
    bidder_id: Identifier
    initial_price: Value
    quality_part: Points  # fixed during the auction: only the price moves


class FinalPrice(Message):
    bid_id: Identifier
    price: Value


class AbnormallyLowBasis(StrEnum):
    OTHERS_AVERAGE = "others_average"  # the average of the other admissible bids of the lot
    ESTIMATED_VALUE = "estimated_value"  # the lot's estimated value


class Remedy(StrEnum):
    RE_EVALUATE = "re_evaluate"  # the lot goes back to evaluation; the award is cleared
    CANCEL = "cancel"  # the lot is cancelled


class LossReason(StrEnum):
    DISQUALIFIED = "disqualified"
    ABNORMALLY_LOW = "abnormally_low"  # its justification was rejected
    LOWER_SCORE = "lower_score"
    TIE_RECEIVED_LATER = "tie_received_later"


class Unsuccessful(Message):
    """Why one bidder of a lot did not win it, as the award notice tells them."""

    bid_id: Identifier
    bidder_id: Identifier
    reason_code: LossReason
    reason: Text


# Events


class EvaluationStarted(EvaluationEvent):
    public = False
    type: Literal["EvaluationStarted"] = "EvaluationStarted"
    facts: EvaluationFacts
    bids: Annotated[tuple[OpenedBid, ...], Field(max_length=MAX_BIDS)]
    started_at: AwareDatetime


class ClarificationRequested(EvaluationEvent):
    public = False
    type: Literal["ClarificationRequested"] = "ClarificationRequested"
    request_id: Identifier
    bid_id: Identifier
    bidder_id: Identifier
    lot_ids: LotIds  # the bid's lots in evaluation when asked: they wait for the answer
    officer_id: Identifier
    question: Text
    respond_by: AwareDatetime


class ClarificationAnswered(EvaluationEvent):
    public = False
    type: Literal["ClarificationAnswered"] = "ClarificationAnswered"
    request_id: Identifier
    bid_id: Identifier
    bidder_id: Identifier
    lot_ids: LotIds
    answer: Text


class BidQualified(EvaluationEvent):
    """A committee member found the bid admissible, for each of its lots in evaluation."""

    public = False
    type: Literal["BidQualified"] = "BidQualified"
    bid_id: Identifier
    bidder_id: Identifier
    lot_ids: LotIds
    officer_id: Identifier


class BidDisqualified(EvaluationEvent):
    public = False
    type: Literal["BidDisqualified"] = "BidDisqualified"
    bid_id: Identifier
    bidder_id: Identifier
    lot_ids: LotIds
    officer_id: Identifier
    reason: Text


class QualityScored(EvaluationEvent):
    """A member's signed score of one criterion for one bid and lot; their latest counts."""

    public = False
    type: Literal["QualityScored"] = "QualityScored"
    lot_id: Identifier
    bid_id: Identifier
    criterion_id: Identifier
    officer_id: Identifier
    score: Score
    revision: int = Field(ge=1)  # grows with each score the member gives for the same thing
    signature: Signature  # the member's Ed25519 signature, see procurement.evaluation


class LotEvaluated(EvaluationEvent):
    """Qualification and scoring of the lot are done and its prices are final: it is ranked."""

    public = False
    type: Literal["LotEvaluated"] = "LotEvaluated"
    lot_id: Identifier


class LotReadyForAuction(EvaluationEvent):
    public = False
    type: Literal["LotReadyForAuction"] = "LotReadyForAuction"
    lot_id: Identifier
    price_weight: Percent
    bidders: Annotated[tuple[AuctionBidder, ...], Field(min_length=2, max_length=MAX_BIDS)]


class AuctionResultRecorded(EvaluationEvent):
    public = False
    type: Literal["AuctionResultRecorded"] = "AuctionResultRecorded"
    lot_id: Identifier
    final_prices: Annotated[tuple[FinalPrice, ...], Field(min_length=1, max_length=MAX_BIDS)]


class AbnormallyLowFlagged(EvaluationEvent):
    public = False
    type: Literal["AbnormallyLowFlagged"] = "AbnormallyLowFlagged"
    lot_id: Identifier
    bid_id: Identifier
    bidder_id: Identifier
    price: Value
    basis: AbnormallyLowBasis
    reference: Money  # the others' average, or the estimated value
    share: Percent
    threshold: Money  # share % of the reference, to the cent; the price is below it


class JustificationRequested(EvaluationEvent):
    public = False
    type: Literal["JustificationRequested"] = "JustificationRequested"
    lot_id: Identifier
    bid_id: Identifier
    bidder_id: Identifier
    officer_id: Identifier
    question: Text
    respond_by: AwareDatetime


class JustificationSubmitted(EvaluationEvent):
    public = False
    type: Literal["JustificationSubmitted"] = "JustificationSubmitted"
    lot_id: Identifier
    bid_id: Identifier
    bidder_id: Identifier
    justification: Text


class JustificationAccepted(EvaluationEvent):
    public = False
    type: Literal["JustificationAccepted"] = "JustificationAccepted"
    lot_id: Identifier
    bid_id: Identifier
    officer_id: Identifier
    reason: Text


class JustificationRejected(EvaluationEvent):
    """The bid leaves the lot's ranking."""

    public = False
    type: Literal["JustificationRejected"] = "JustificationRejected"
    lot_id: Identifier
    bid_id: Identifier
    officer_id: Identifier
    reason: Text


class AwardDecided(EvaluationEvent):
    public = True
    type: Literal["AwardDecided"] = "AwardDecided"
    lot_id: Identifier
    bid_id: Identifier
    bidder_id: Identifier
    value: Value
    ranking: Annotated[tuple[RankedBid, ...], Field(min_length=1, max_length=MAX_BIDS)]
    unsuccessful: Annotated[tuple[Unsuccessful, ...], Field(max_length=MAX_BIDS)]
    officer_id: Identifier
    decided_at: AwareDatetime
    standstill_ends: AwareDatetime  # decided_at + standstill_days


class ComplaintFiled(EvaluationEvent):
    public = True
    type: Literal["ComplaintFiled"] = "ComplaintFiled"
    complaint_id: Identifier
    lot_id: Identifier
    bidder_id: Identifier
    grounds: Text


class ComplaintUpheld(EvaluationEvent):
    public = True
    type: Literal["ComplaintUpheld"] = "ComplaintUpheld"
    complaint_id: Identifier
    lot_id: Identifier
    remedy: Remedy
    reason: Text
    reviewer_id: Identifier


class ComplaintDismissed(EvaluationEvent):
    public = True
    type: Literal["ComplaintDismissed"] = "ComplaintDismissed"
    complaint_id: Identifier
    lot_id: Identifier
    reason: Text
    reviewer_id: Identifier


class LotCancelled(EvaluationEvent):
    public = True
    type: Literal["LotCancelled"] = "LotCancelled"
    lot_id: Identifier
    officer_id: Identifier
    reason: Text


class ProcedureCancelled(EvaluationEvent):
    public = True
    type: Literal["ProcedureCancelled"] = "ProcedureCancelled"
    officer_id: Identifier
    reason: Text


EVALUATION_EVENTS = concrete_events(EvaluationEvent)
if TYPE_CHECKING:
    AnyEvaluationEvent: TypeAlias = EvaluationEvent
else:
    AnyEvaluationEvent = one_of(EVALUATION_EVENTS)


# Commands: every one names its tender, whose evaluation aggregate is "<ocid>:evaluation".


class EvaluationCommand(Command):
    ocid: Identifier


class StartEvaluation(EvaluationCommand):
    facts: EvaluationFacts
    bids: Annotated[tuple[OpenedBid, ...], Field(max_length=MAX_BIDS)]

    @model_validator(mode="after")
    def _facts_are_of_this_tender(self) -> "StartEvaluation":
        if self.facts.ocid != self.ocid:
            raise ValueError(f"the facts are of {self.facts.ocid}, not {self.ocid}")
        return self


class RequestClarification(EvaluationCommand):
    bid_id: Identifier
    question: Text
    respond_by: AwareDatetime


class AnswerClarification(EvaluationCommand):
    request_id: Identifier
    answer: Text


class QualifyBid(EvaluationCommand):
    bid_id: Identifier


class DisqualifyBid(EvaluationCommand):
    bid_id: Identifier
    reason: Text


class ScoreQuality(EvaluationCommand):
    lot_id: Identifier
    bid_id: Identifier
    criterion_id: Identifier
    score: Score
    revision: int = Field(ge=1, le=1_000_000)
    signature: Signature


class CompleteLotEvaluation(EvaluationCommand):
    """Close the lot's qualification and scoring: rank it, or hand it to the auction."""

    lot_id: Identifier


class RecordAuctionResult(EvaluationCommand):
    lot_id: Identifier
    final_prices: Annotated[tuple[FinalPrice, ...], Field(min_length=1, max_length=MAX_BIDS)]

    @field_validator("final_prices")
    @classmethod
    def _one_price_per_bid(cls, prices: tuple[FinalPrice, ...]) -> tuple[FinalPrice, ...]:
        _unique("bid", [price.bid_id for price in prices])
        return prices


class RequestJustification(EvaluationCommand):
    lot_id: Identifier
    bid_id: Identifier
    question: Text
    respond_by: AwareDatetime


class SubmitJustification(EvaluationCommand):
    lot_id: Identifier
    bid_id: Identifier
    justification: Text


class AcceptJustification(EvaluationCommand):
    lot_id: Identifier
    bid_id: Identifier
    reason: Text


class RejectJustification(EvaluationCommand):
    lot_id: Identifier
    bid_id: Identifier
    reason: Text


class DecideAward(EvaluationCommand):
    """Confirm the award of a lot to the best bid; ``expected_winner``, if given, must be it."""

    lot_id: Identifier
    expected_winner: Identifier | None = None


class FileComplaint(EvaluationCommand):
    lot_id: Identifier
    grounds: Text


class UpholdComplaint(EvaluationCommand):
    complaint_id: Identifier
    remedy: Remedy
    reason: Text


class DismissComplaint(EvaluationCommand):
    complaint_id: Identifier
    reason: Text


class CancelLot(EvaluationCommand):
    lot_id: Identifier
    reason: Text


class CancelProcedure(EvaluationCommand):
    reason: Text


AnyEvaluationCommand = (
    StartEvaluation
    | RequestClarification
    | AnswerClarification
    | QualifyBid
    | DisqualifyBid
    | ScoreQuality
    | CompleteLotEvaluation
    | RecordAuctionResult
    | RequestJustification
    | SubmitJustification
    | AcceptJustification
    | RejectJustification
    | DecideAward
    | FileComplaint
    | UpholdComplaint
    | DismissComplaint
    | CancelLot
    | CancelProcedure
)
