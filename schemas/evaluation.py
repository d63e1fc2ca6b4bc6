"""Evaluation, award, standstill and complaints on the wire: the facts the evaluation starts
from, the commands of each step and the events they record.

One aggregate per tender, id ``<ocid>:evaluation``; its state is per lot. ``EvaluationStarted``
carries every fact the rules need, so the aggregate replays from its own events alone. The
rules are in ``procurement.evaluation``.
"""

from datetime import date
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
    StandstillGround,
    Text,
    TimeZoneName,
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
    standstill_ground: StandstillGround | None = None  # Article 2b, if the buyer stated one
    time_zone: TimeZoneName = "Europe/Bucharest"  # the buyer's: where the standstill's days end
    has_auction: bool
    committee: Annotated[tuple[Identifier, ...], Field(min_length=1, max_length=20)]
    # Everyone who tendered, those whose bids were rejected at the opening included: each
    # may seek review of the award (Directive 89/665/EEC, Article 1(3)). Empty in
    # evaluations started before it was recorded: the opened bids' bidders then.
    tenderers: Annotated[tuple[Identifier, ...], Field(max_length=MAX_BIDS)] = ()

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
    # The bid's own promises, as opened (the defaults stand for records made before they
    # were carried): how long it holds, and the bidder's self-declaration.
    valid_until: date | None = None  # the bid holds through this day (UTC)
    no_exclusion_grounds: bool = True
    meets_selection_criteria: bool = True

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
    # The auction's accepted price that set the final price, by its sequence number; 0 when
    # the price is as opened. Equal totals go to the lower: the price reached first.
    auction_sequence: int = Field(default=0, ge=0, le=1_000_000_000)


class AuctionBidder(Message):
    bid_id: Identifier
    bidder_id: Identifier
    initial_price: Value
    quality_part: Points  # fixed during the auction: only the price moves


class FinalPrice(Message):
    bid_id: Identifier
    price: Value
    # As in RankedBid: the auction price that set this price; 0: never lowered.
    auction_sequence: int = Field(default=0, ge=0, le=1_000_000_000)


class AbnormallyLowBasis(StrEnum):
    OTHERS_AVERAGE = "others_average"  # the average of the other admissible bids of the lot
    ESTIMATED_VALUE = "estimated_value"  # the lot's estimated value


class Remedy(StrEnum):
    RE_EVALUATE = "re_evaluate"  # the lot goes back to evaluation; the award is cleared
    CANCEL = "cancel"  # the lot is cancelled
    ANNUL_CANCELLATION = "annul_cancellation"  # the lot's cancellation is annulled: it resumes


class ComplaintSubject(StrEnum):
    """What a complaint asks the review body to review (Directive 89/665/EEC, Article 2(1)(b))."""

    AWARD = "award"  # the lot's award, during its standstill
    CANCELLATION = "cancellation"  # the buyer's cancellation of the lot


class LossReason(StrEnum):
    DISQUALIFIED = "disqualified"
    ABNORMALLY_LOW = "abnormally_low"  # its justification was rejected
    LOWER_SCORE = "lower_score"
    TIE_RECEIVED_LATER = "tie_received_later"
    TIE_REACHED_LATER = "tie_reached_later"  # the winner reached its price first, in the auction
    AWARD_ANNULLED = "award_annulled"  # it won, and its award was annulled


class AnnulmentReason(StrEnum):
    """Why the buyer annuls an award (Directive 2014/24/EU)."""

    REFUSED_TO_SIGN = "refused_to_sign"  # the winner will not conclude the contract
    NO_SUPPORTING_DOCUMENTS = "no_supporting_documents"  # Articles 59(4) and 60 not met
    EXCLUSION_GROUND = "exclusion_ground"  # found in an exclusion situation, Article 57


class UnsuccessfulReason(StrEnum):
    """Why a lot ends without an award."""

    NO_BIDS = "no_bids"  # no bid was opened for it
    NO_ADMISSIBLE_BIDS = "no_admissible_bids"  # every bid was rejected
    NO_BID_LEFT = "no_bid_left"  # abnormally low prices rejected, awards annulled


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
    """A committee member found the bid admissible, for the lots it names."""

    public = False
    type: Literal["BidQualified"] = "BidQualified"
    bid_id: Identifier
    bidder_id: Identifier
    lot_ids: LotIds
    officer_id: Identifier
    # Why the committee admits a bid whose own promises fail (expired validity, a declared
    # exclusion ground, an unmet selection criterion); None when they hold.
    reason: Text | None = None


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
    standstill_ends: (
        AwareDatetime  # the end of the standstill's last day, see procurement.standstill
    )
    standstill_ground: StandstillGround | None = None  # the Article 2b ground relied on, if any
    # The lot's how-manieth award: award ids are unique over the procedure's life. Events
    # recorded before annulments existed were each their lot's first.
    award_number: int = Field(default=1, ge=1, le=MAX_BIDS)


class AwardAnnulled(EvaluationEvent):
    """The buyer annuls the award: the bid leaves the lot's ranking for good, and the lot
    goes back to be awarded to the next-ranked bid."""

    public = True
    type: Literal["AwardAnnulled"] = "AwardAnnulled"
    lot_id: Identifier
    bid_id: Identifier
    bidder_id: Identifier
    award_number: int = Field(ge=1, le=MAX_BIDS)
    reason_code: AnnulmentReason
    reason: Text
    officer_id: Identifier


class LotUnsuccessful(EvaluationEvent):
    """The lot ends without an award: no bid, or none left that can win."""

    public = True
    type: Literal["LotUnsuccessful"] = "LotUnsuccessful"
    lot_id: Identifier
    reason_code: UnsuccessfulReason
    reason: Text


class ContractConcluded(EvaluationEvent):
    """Both parties signed the contract of the lot's award: the lot's procedure is over, and
    only the contract's termination may end the contract."""

    public = True
    type: Literal["ContractConcluded"] = "ContractConcluded"
    lot_id: Identifier
    contract_id: Identifier


class ComplaintFiled(EvaluationEvent):
    public = True
    type: Literal["ComplaintFiled"] = "ComplaintFiled"
    complaint_id: Identifier
    lot_id: Identifier
    bidder_id: Identifier
    grounds: Text
    subject: ComplaintSubject = ComplaintSubject.AWARD


class ComplaintUpheld(EvaluationEvent):
    public = True
    type: Literal["ComplaintUpheld"] = "ComplaintUpheld"
    complaint_id: Identifier
    lot_id: Identifier
    remedy: Remedy
    reason: Text
    reviewer_id: Identifier
    review_body_id: Identifier | None = None  # the reviewer's body; unrecorded before
    subject: ComplaintSubject = ComplaintSubject.AWARD


class ComplaintDismissed(EvaluationEvent):
    public = True
    type: Literal["ComplaintDismissed"] = "ComplaintDismissed"
    complaint_id: Identifier
    lot_id: Identifier
    reason: Text
    reviewer_id: Identifier
    review_body_id: Identifier | None = None  # the reviewer's body; unrecorded before
    subject: ComplaintSubject = ComplaintSubject.AWARD


class LotCancelled(EvaluationEvent):
    public = True
    type: Literal["LotCancelled"] = "LotCancelled"
    lot_id: Identifier
    officer_id: Identifier
    reason: Text
    # When the buyer cancelled it: tenderers may seek review for 10 days after. None: before
    # it was recorded, or a cancellation that no complaint may reopen.
    cancelled_at: AwareDatetime | None = None


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
    """Admit the bid for ``lot_id``, or for each of its lots in evaluation when None.
    ``reason`` records why a bid whose own promises fail is admitted all the same."""

    bid_id: Identifier
    lot_id: Identifier | None = None
    reason: Text | None = None


class DisqualifyBid(EvaluationCommand):
    bid_id: Identifier
    reason: Text
    lot_id: Identifier | None = None  # None: each of the bid's lots in evaluation


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


class AnnulAward(EvaluationCommand):
    """Annul the lot's award (the winner refuses, fails to prove, or is excluded)."""

    lot_id: Identifier
    reason_code: AnnulmentReason
    reason: Text


class RecordContractConcluded(EvaluationCommand):
    """The platform records that the contract of a lot's award is concluded."""

    lot_id: Identifier
    contract_id: Identifier


class FileComplaint(EvaluationCommand):
    lot_id: Identifier
    grounds: Text
    subject: ComplaintSubject = ComplaintSubject.AWARD


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
    | AnnulAward
    | RecordContractConcluded
    | FileComplaint
    | UpholdComplaint
    | DismissComplaint
    | CancelLot
    | CancelProcedure
)
