"""Evaluation, award, standstill and complaints of one tender, per lot, as pure functions.

One aggregate per tender, id ``<ocid>:evaluation``, holding the state of each lot. ``decide``
turns a command into events, ``evolve`` applies one, ``replay`` rebuilds the state from the
aggregate's own events: ``EvaluationStarted`` carries every fact the rules need. Time and the
validity of signatures come in as arguments; ids of clarifications and complaints are
numbered from the state (``clarification-1``, ``complaint-1``...).

Per lot: the committee qualifies the bids (asking for clarifications) and, for ratedCriteria,
scores them; the lot's evaluation is completed (``LotEvaluated``), or handed to the auction
(``LotReadyForAuction``, then ``AuctionResultRecorded``); abnormally low prices are flagged
on the final prices and justified; an officer of the buyer confirms the award; a standstill
follows, during which bidders may complain to a review officer. The legal moves of a lot are
the table ``LOT_LIFECYCLE``.

The score, as published with the tender (``schemas.values.Requirements``):

    price score  = price_weight * lowest price / bid price
    quality part = Σ over the criteria of weight * average of the members' scores / 100
    total        = price score + quality part

"lowest price" is the lowest among the bids in the lot's ranking: admissible, and not
removed for an abnormally low price whose justification was rejected; prices are the final
ones of the auction when there was one. Each member's latest score counts and the average is
over the members who scored. The price score and the quality part are each computed to 28
significant digits and rounded once, half up, to 0.0001 point; the total is their sum, so it
is exact to 0.0001. For priceOnly the quality part is 0. The ranking orders by total, highest
first; a tie goes to the bid received first (``received_at``, then ``bid_id``).

Abnormally low: a price strictly below ``abnormally_low_share`` % of the average of the other
bids in the ranking, or of the lot's estimated value, each threshold rounded half up to the
cent. The others' average is tried first and named as the basis when both apply. The check
runs once, when the lot's prices become final: at ``LotEvaluated``, or at
``AuctionResultRecorded`` on the auction's final prices.
"""

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from decimal import ROUND_HALF_UP, Context, Decimal, localcontext
from enum import StrEnum
from typing import Any

from procurement.errors import NotAllowed, NotFound, Rejected, WrongState
from procurement.tender import Tender, officer_must_act_for_the_buyer
from schemas.commands import Actor, Role
from schemas.evaluation import (
    AbnormallyLowBasis,
    AbnormallyLowFlagged,
    AcceptJustification,
    AnswerClarification,
    AnyEvaluationCommand,
    AuctionBidder,
    AuctionResultRecorded,
    AwardDecided,
    BidDisqualified,
    BidQualified,
    CancelLot,
    CancelProcedure,
    ClarificationAnswered,
    ClarificationRequested,
    ComplaintDismissed,
    ComplaintFiled,
    ComplaintUpheld,
    CompleteLotEvaluation,
    DecideAward,
    DismissComplaint,
    DisqualifyBid,
    EvaluationFacts,
    EvaluationStarted,
    FileComplaint,
    JustificationAccepted,
    JustificationRejected,
    JustificationRequested,
    JustificationSubmitted,
    LossReason,
    LotCancelled,
    LotEvaluated,
    LotFacts,
    LotReadyForAuction,
    OfferedPrice,
    OpenedBid,
    ProcedureCancelled,
    QualifyBid,
    QualityScored,
    RankedBid,
    RecordAuctionResult,
    RejectJustification,
    Remedy,
    RequestClarification,
    RequestJustification,
    ScoreQuality,
    StartEvaluation,
    SubmitJustification,
    Unsuccessful,
    UpholdComplaint,
)
from schemas.events import BidOpened, Event
from schemas.values import AwardCriteria, ProcedureType, Value

QUALITY_SCORE = "procurement-quality-score/1"  # the purpose of a member's signed score
POINT = Decimal("0.0001")
CENT = Decimal("0.01")
HUNDRED = Decimal(100)
_ARITHMETIC = Context(prec=28, rounding=ROUND_HALF_UP)


def evaluation_id(ocid: str) -> str:
    return f"{ocid}:evaluation"


class LotStatus(StrEnum):
    EVALUATION = "evaluation"  # qualification and scoring
    AUCTION = "auction"  # handed to the auction; waiting for its final prices
    RANKED = "ranked"  # prices final, ranked, abnormally low prices flagged
    AWARDED = "awarded"  # award decided; the standstill runs, or is over
    SUSPENDED = "suspended"  # a complaint is open: the standstill is suspended
    CANCELLED = "cancelled"  # final


_LIVE = (
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
    (LotStatus.AWARDED, "ComplaintFiled"): frozenset({LotStatus.SUSPENDED}),
    (LotStatus.SUSPENDED, "ComplaintFiled"): frozenset({LotStatus.SUSPENDED}),
    (LotStatus.SUSPENDED, "ComplaintUpheld"): frozenset(
        {LotStatus.EVALUATION, LotStatus.CANCELLED}
    ),  # re-evaluate, or cancel
    (LotStatus.SUSPENDED, "ComplaintDismissed"): frozenset(
        {LotStatus.AWARDED, LotStatus.SUSPENDED}
    ),  # suspended while others are open
    **{(status, "LotCancelled"): frozenset({LotStatus.CANCELLED}) for status in _LIVE},
    **{(status, "ProcedureCancelled"): frozenset({LotStatus.CANCELLED}) for status in _LIVE},
}

# The error code for a step refused because the lot is in this status.
_STATUS_CODES = {
    LotStatus.EVALUATION: "evaluation_in_progress",
    LotStatus.AUCTION: "auction_pending",
    LotStatus.RANKED: "evaluation_complete",
    LotStatus.AWARDED: "awarded",
    LotStatus.SUSPENDED: "suspended",
    LotStatus.CANCELLED: "lot_cancelled",
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


@dataclass(frozen=True)
class LotState:
    lot_id: str
    status: LotStatus
    decisions: dict[str, Decision]  # bid id -> the committee's latest decision
    scores: dict[tuple[str, str, str], MemberScore]  # (bid, criterion, member) -> latest
    auction: tuple[AuctionBidder, ...] | None = None
    final_prices: dict[str, Decimal] | None = None  # bid id -> price after the auction
    flags: dict[str, Flag] | None = None  # bid id -> abnormally low flag; None: not checked
    award: Award | None = None


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


# From the rest of the platform


def facts_from_tender(tender: Tender, committee: Sequence[str]) -> EvaluationFacts:
    """The facts of a closed tender that its evaluation needs, with its committee's members."""
    requirements = tender.requirements
    return EvaluationFacts(
        ocid=tender.ocid,
        buyer_id=tender.buyer_id,
        lots=tuple(LotFacts(lot_id=lot.id, estimated_value=lot.value) for lot in requirements.lots),
        award_criteria=requirements.award_criteria,
        price_weight=requirements.price_weight,
        quality_criteria=requirements.quality_criteria,
        abnormally_low_share=requirements.abnormally_low_share,
        standstill_days=requirements.standstill_days,
        has_auction=tender.procedure_type is ProcedureType.OPEN_WITH_AUCTION,
        committee=tuple(committee),
    )


def opened_bid(opened: BidOpened, received_at: datetime) -> OpenedBid:
    """What the evaluation needs of an opened bid; ``received_at`` is from its receipt."""
    return OpenedBid(
        bid_id=opened.bid_id,
        bidder_id=opened.bidder_id,
        is_sme=opened.content.declaration.is_sme,
        received_at=received_at,
        offers=tuple(
            OfferedPrice(lot_id=offer.lot_id, price=offer.price) for offer in opened.content.offers
        ),
    )


def score_fields(
    ocid: str,
    lot_id: str,
    bid_id: str,
    criterion_id: str,
    officer_id: str,
    score: Decimal,
    revision: int,
) -> dict[str, Any]:
    """What a member signs for a score, with purpose ``QUALITY_SCORE`` (see bidding.keys).

    The score is written with two decimals, so 87.5 and 87.50 sign the same bytes."""
    return {
        "ocid": ocid,
        "lot_id": lot_id,
        "bid_id": bid_id,
        "criterion_id": criterion_id,
        "officer_id": officer_id,
        "score": str(score.quantize(CENT)),
        "revision": revision,
    }


# The score and the ranking: pure functions of the state


def price_score(weight: Decimal, lowest: Decimal, price: Decimal) -> Decimal:
    with localcontext(_ARITHMETIC):
        return (weight * lowest / price).quantize(POINT)


def quality_part(facts: EvaluationFacts, lot: LotState, bid_id: str) -> Decimal:
    with localcontext(_ARITHMETIC):
        part = Decimal(0)
        for criterion in facts.quality_criteria:
            given = [
                member.score
                for (bid, criterion_id, _), member in lot.scores.items()
                if bid == bid_id and criterion_id == criterion.id
            ]
            if given:
                part += criterion.weight * sum(given, Decimal(0)) / (len(given) * HUNDRED)
        return part.quantize(POINT)


def admissible_bids(state: Evaluation, lot_id: str) -> list[OpenedBid]:
    lot = state.lots[lot_id]
    return [
        state.bids[bid_id]
        for bid_id, decision in sorted(lot.decisions.items())
        if decision.admissible
    ]


def ranked_prices(state: Evaluation, lot_id: str) -> dict[str, Decimal]:
    """The prices of the bids that compete for the lot: admissible and not removed as
    abnormally low, the auction's final prices once it is over."""
    lot = state.lots[lot_id]
    flags = lot.flags or {}
    prices: dict[str, Decimal] = {}
    for bid in admissible_bids(state, lot_id):
        flag = flags.get(bid.bid_id)
        offer = bid.offer(lot_id)
        if offer is None or (flag is not None and flag.status is FlagStatus.REJECTED):
            continue
        final = (lot.final_prices or {}).get(bid.bid_id)
        prices[bid.bid_id] = offer.price.amount if final is None else final
    return prices


def ranking(state: Evaluation, lot_id: str) -> list[RankedBid]:
    """The lot's ranking by the published formula, best first; see the module's docstring."""
    prices = ranked_prices(state, lot_id)
    if not prices:
        return []
    lowest = min(prices.values())
    currency = _currency(state, lot_id)
    rows = []
    for bid_id, price in prices.items():
        bid = state.bids[bid_id]
        by_price = price_score(state.facts.price_weight, lowest, price)
        by_quality = quality_part(state.facts, state.lots[lot_id], bid_id)
        rows.append((by_price + by_quality, bid.received_at, bid_id, price, by_price, by_quality))
    rows.sort(key=lambda row: (-row[0], row[1], row[2]))
    return [
        RankedBid(
            rank=rank,
            bid_id=bid_id,
            bidder_id=state.bids[bid_id].bidder_id,
            price=Value(amount=price, currency=currency),
            price_score=by_price,
            quality_part=by_quality,
            total=total,
            received_at=received_at,
        )
        for rank, (total, received_at, bid_id, price, by_price, by_quality) in enumerate(rows, 1)
    ]


def abnormally_low(state: Evaluation, lot_id: str) -> list[AbnormallyLowFlagged]:
    """The bids of the lot whose price is abnormally low; see the module's docstring."""
    prices = ranked_prices(state, lot_id)
    share = state.facts.abnormally_low_share
    estimate = _lot_facts(state, lot_id).estimated_value.amount
    flagged = []
    for bid_id, price in sorted(prices.items()):
        others = [other for other_id, other in prices.items() if other_id != bid_id]
        references = [(AbnormallyLowBasis.ESTIMATED_VALUE, estimate)]
        if others:
            with localcontext(_ARITHMETIC):
                average = sum(others, Decimal(0)) / len(others)
            references.insert(0, (AbnormallyLowBasis.OTHERS_AVERAGE, average))
        for basis, reference in references:
            threshold = _threshold(share, reference)
            if price < threshold:
                flagged.append(
                    AbnormallyLowFlagged(
                        lot_id=lot_id,
                        bid_id=bid_id,
                        bidder_id=state.bids[bid_id].bidder_id,
                        price=Value(amount=price, currency=_currency(state, lot_id)),
                        basis=basis,
                        reference=reference.quantize(CENT, rounding=ROUND_HALF_UP),
                        share=share,
                        threshold=threshold,
                    )
                )
                break
    return flagged


def _threshold(share: Decimal, reference: Decimal) -> Decimal:
    with localcontext(_ARITHMETIC):
        return (share * reference / HUNDRED).quantize(CENT)


def contract_may_be_signed(state: Evaluation, lot_id: str, now: datetime) -> bool:
    """Awarded, standstill over, no open complaint, not cancelled."""
    lot = state.lots.get(lot_id)
    if state.cancelled or lot is None or lot.status is not LotStatus.AWARDED:
        return False
    return lot.award is not None and now >= lot.award.standstill_ends


def what_the_evaluation_still_needs(state: Evaluation, lot_id: str, now: datetime) -> list[str]:
    """What stands between the lot and the end of its qualification and scoring, in words."""
    lot = state.lots[lot_id]
    needs = []
    bids = [bid for bid in state.bids.values() if lot_id in bid.lot_ids]
    undecided = sorted(bid.bid_id for bid in bids if bid.bid_id not in lot.decisions)
    if undecided:
        needs.append(f"qualify or reject bids {undecided}")
    waiting = sorted(
        request.request_id
        for request in state.clarifications.values()
        if lot_id in request.lot_ids and request.is_open(now)
    )
    if waiting:
        needs.append(f"wait for the answers to {waiting}")
    unscored = [
        f"{bid.bid_id}/{criterion.id}"
        for bid in admissible_bids(state, lot_id)
        for criterion in state.facts.quality_criteria
        if not any(key[:2] == (bid.bid_id, criterion.id) for key in lot.scores)
    ]
    if unscored:
        needs.append(f"score {unscored}")
    return needs


# Rules, named as the sentences they enforce


def evaluation_must_have_started(state: Evaluation | None, ocid: str) -> Evaluation:
    if state is None:
        msg = f"the evaluation of {ocid} has not started: it starts when the bids are opened"
        raise NotFound(msg, code="evaluation_not_started")
    if state.ocid != ocid:
        raise Rejected(f"this is the evaluation of {state.ocid}, not {ocid}", code="wrong_tender")
    return state


def system_must_act(actor: Actor, what: str) -> None:
    if actor.role is not Role.SYSTEM:
        raise NotAllowed(f"only the platform {what}; {actor.id} is {actor.role}")


def actor_must_sit_on_the_committee(state: Evaluation, actor: Actor) -> None:
    facts = state.facts
    member = actor.id in facts.committee and actor.agency_id == facts.buyer_id
    if actor.role is not Role.OFFICER or not member:
        msg = f"{actor.id} is not on the evaluation committee of {state.ocid}: only its members qualify and score bids"
        raise NotAllowed(msg)


def officer_of_the_buyer_or_system_must_act(state: Evaluation, actor: Actor) -> None:
    if actor.role is not Role.SYSTEM:
        officer_must_act_for_the_buyer(actor, state.facts.buyer_id)


def supplier_must_act_for_itself(actor: Actor, bidder_id: str, what: str) -> None:
    if actor.role is not Role.SUPPLIER or actor.id != bidder_id:
        raise NotAllowed(f"only {bidder_id} may {what}; {actor.id} is not that supplier")


def reviewer_must_rule(state: Evaluation, actor: Actor) -> None:
    if actor.role is not Role.REVIEWER:
        msg = f"only a review officer rules on complaints; {actor.id} is {actor.role}"
        raise NotAllowed(msg)
    if actor.agency_id == state.facts.buyer_id:
        msg = f"{actor.id} works for the buyer, {state.facts.buyer_id}, and may not rule on complaints against it"
        raise NotAllowed(msg, code="conflict_of_interest")


def procedure_must_not_be_cancelled(state: Evaluation) -> None:
    if state.cancelled:
        msg = f"the procedure {state.ocid} was cancelled: nothing more happens in it"
        raise WrongState(msg, code="procedure_cancelled")


def lot_must_be(lot: LotState, allowed: Iterable[LotStatus], doing: str) -> None:
    allowed = tuple(allowed)
    if lot.status not in allowed:
        when = " or ".join(allowed)
        msg = f"lot {lot.lot_id} is {lot.status}: one can {doing} only when it is {when}"
        raise WrongState(msg, code=_STATUS_CODES[lot.status])


def respond_by_must_be_ahead(respond_by: datetime, now: datetime) -> None:
    if respond_by <= now:
        msg = (
            f"the time to respond, {respond_by.isoformat()}, must be after now ({now.isoformat()})"
        )
        raise Rejected(msg, code="respond_by_in_past")


def bid_must_offer_for_the_lot(bid: OpenedBid, lot_id: str) -> OfferedPrice:
    offer = bid.offer(lot_id)
    if offer is None:
        msg = f"bid {bid.bid_id} makes no offer for lot {lot_id}; it offers for {list(bid.lot_ids)}"
        raise Rejected(msg, code="no_offer_for_lot")
    return offer


def bid_must_await_no_clarification(state: Evaluation, bid_id: str, now: datetime) -> None:
    waiting = sorted(
        f"{request.request_id} (due {request.respond_by.isoformat()})"
        for request in state.clarifications.values()
        if request.bid_id == bid_id and request.is_open(now)
    )
    if waiting:
        msg = (
            f"bid {bid_id} awaits the answer to {', '.join(waiting)}; decide on it after the answer"
        )
        raise WrongState(msg, code="clarification_open")


def bids_must_be_for_the_tender(facts: EvaluationFacts, bids: Sequence[OpenedBid]) -> None:
    for kind, ids in (("bid", [b.bid_id for b in bids]), ("bidder", [b.bidder_id for b in bids])):
        repeated = sorted(i for i, n in Counter(ids).items() if n > 1)
        if repeated:
            msg = f"each {kind} is evaluated once, but {repeated} repeat"
            raise Rejected(msg, code="duplicate_bid")
    for bid in bids:
        for offer in bid.offers:
            lot = facts.lot(offer.lot_id)
            if lot is None:
                msg = f"bid {bid.bid_id} offers for lot {offer.lot_id}, which {facts.ocid} does not have"
                raise Rejected(msg, code="unknown_lot")
            if offer.price.currency != lot.estimated_value.currency:
                msg = f"bid {bid.bid_id} prices lot {lot.lot_id} in {offer.price.currency}, not {lot.estimated_value.currency}"
                raise Rejected(msg, code="wrong_currency")


# Look-ups that name what is missing


def _lot(state: Evaluation, lot_id: str) -> LotState:
    lot = state.lots.get(lot_id)
    if lot is None:
        raise NotFound(f"{state.ocid} has no lot {lot_id}", code="unknown_lot")
    return lot


def _bid(state: Evaluation, bid_id: str) -> OpenedBid:
    bid = state.bids.get(bid_id)
    if bid is None:
        raise NotFound(f"{state.ocid} has no opened bid {bid_id}", code="unknown_bid")
    return bid


def _flag(lot: LotState, bid_id: str) -> Flag:
    flag = (lot.flags or {}).get(bid_id)
    if flag is None:
        msg = f"the price of bid {bid_id} for lot {lot.lot_id} was not flagged as abnormally low"
        raise WrongState(msg, code="not_flagged")
    return flag


def _lot_facts(state: Evaluation, lot_id: str) -> LotFacts:
    lot = state.facts.lot(lot_id)
    assert lot is not None, f"lot {lot_id} is in the state, so it is in the facts"
    return lot


def _currency(state: Evaluation, lot_id: str) -> str:
    return _lot_facts(state, lot_id).estimated_value.currency


def _lots_in_evaluation(state: Evaluation, bid: OpenedBid) -> tuple[str, ...]:
    lots = tuple(lot for lot in bid.lot_ids if state.lots[lot].status is LotStatus.EVALUATION)
    if not lots:
        statuses = {lot: str(state.lots[lot].status) for lot in bid.lot_ids}
        msg = f"bid {bid.bid_id} has no lot in evaluation ({statuses}): that is done during the evaluation"
        raise WrongState(msg, code="not_in_evaluation")
    return lots


# Decisions


def start(facts: EvaluationFacts, bids: Sequence[OpenedBid], now: datetime) -> list[Event]:
    """The evaluation of a tender whose bids were opened, in the order they were received."""
    bids_must_be_for_the_tender(facts, bids)
    ordered = tuple(sorted(bids, key=lambda bid: (bid.received_at, bid.bid_id)))
    return [EvaluationStarted(facts=facts, bids=ordered, started_at=now)]


def request_clarification(
    state: Evaluation, command: RequestClarification, actor: Actor, now: datetime
) -> list[Event]:
    bid = _bid(state, command.bid_id)
    actor_must_sit_on_the_committee(state, actor)
    procedure_must_not_be_cancelled(state)
    lots = _lots_in_evaluation(state, bid)
    respond_by_must_be_ahead(command.respond_by, now)
    return [
        ClarificationRequested(
            request_id=f"clarification-{len(state.clarifications) + 1}",
            bid_id=bid.bid_id,
            bidder_id=bid.bidder_id,
            lot_ids=lots,
            officer_id=actor.id,
            question=command.question,
            respond_by=command.respond_by,
        )
    ]


def answer_clarification(
    state: Evaluation, command: AnswerClarification, actor: Actor, now: datetime
) -> list[Event]:
    request = state.clarifications.get(command.request_id)
    if request is None:
        msg = f"{state.ocid} has no clarification request {command.request_id}"
        raise NotFound(msg, code="unknown_request")
    supplier_must_act_for_itself(actor, request.bidder_id, f"answer {request.request_id}")
    procedure_must_not_be_cancelled(state)
    if request.answer is not None:
        msg = f"{request.request_id} was already answered; a clarification is answered once"
        raise WrongState(msg, code="already_answered")
    if now >= request.respond_by:
        msg = f"{request.request_id} had to be answered by {request.respond_by.isoformat()}"
        raise WrongState(msg, code="too_late")
    lots = tuple(lot for lot in request.lot_ids if state.lots[lot].status is LotStatus.EVALUATION)
    if not lots:
        msg = f"the lots {list(request.lot_ids)} that {request.request_id} was about were cancelled"
        raise WrongState(msg, code="lot_cancelled")
    return [
        ClarificationAnswered(
            request_id=request.request_id,
            bid_id=request.bid_id,
            bidder_id=request.bidder_id,
            lot_ids=lots,
            answer=command.answer,
        )
    ]


def qualify(
    state: Evaluation, command: QualifyBid | DisqualifyBid, actor: Actor, now: datetime
) -> list[Event]:
    """The committee's decision on a bid, for each of its lots in evaluation; the latest
    decision counts until the lot's evaluation is completed."""
    bid = _bid(state, command.bid_id)
    actor_must_sit_on_the_committee(state, actor)
    procedure_must_not_be_cancelled(state)
    lots = _lots_in_evaluation(state, bid)
    bid_must_await_no_clarification(state, bid.bid_id, now)
    names = {"bid_id": bid.bid_id, "bidder_id": bid.bidder_id, "lot_ids": lots}
    if isinstance(command, DisqualifyBid):
        return [BidDisqualified(**names, officer_id=actor.id, reason=command.reason)]
    return [BidQualified(**names, officer_id=actor.id)]


def score(
    state: Evaluation, command: ScoreQuality, actor: Actor, signature_valid: bool
) -> list[Event]:
    """A member's score of one criterion, signed; see ``score_fields``."""
    lot = _lot(state, command.lot_id)
    bid = _bid(state, command.bid_id)
    if state.facts.award_criteria is AwardCriteria.PRICE_ONLY:
        msg = f"{state.ocid} is awarded on price only: there is no quality to score"
        raise Rejected(msg, code="price_only")
    if state.facts.criterion(command.criterion_id) is None:
        criteria = [c.id for c in state.facts.quality_criteria]
        msg = f"{state.ocid} has no quality criterion {command.criterion_id}; it has {criteria}"
        raise NotFound(msg, code="unknown_criterion")
    actor_must_sit_on_the_committee(state, actor)
    procedure_must_not_be_cancelled(state)
    lot_must_be(lot, [LotStatus.EVALUATION], "score bids")
    bid_must_offer_for_the_lot(bid, lot.lot_id)
    decision = lot.decisions.get(bid.bid_id)
    if decision is None or not decision.admissible:
        was = "rejected" if decision else "not qualified yet"
        msg = f"bid {bid.bid_id} is {was} for lot {lot.lot_id}: only admissible bids are scored"
        raise WrongState(msg, code="bid_not_admissible")
    if not signature_valid:
        msg = f"the signature is not {actor.id}'s committee key's over this score"
        raise Rejected(msg, code="invalid_signature")
    previous = lot.scores.get((bid.bid_id, command.criterion_id, actor.id))
    if previous is not None and command.revision <= previous.revision:
        msg = f"{actor.id} already gave revision {previous.revision} of this score; a new one needs a higher revision"
        raise Rejected(msg, code="stale_revision")
    return [
        QualityScored(
            lot_id=lot.lot_id,
            bid_id=bid.bid_id,
            criterion_id=command.criterion_id,
            officer_id=actor.id,
            score=command.score,
            revision=command.revision,
            signature=command.signature,
        )
    ]


def complete(
    state: Evaluation, command: CompleteLotEvaluation, actor: Actor, now: datetime
) -> list[Event]:
    """Close the lot's qualification and scoring: hand it to the auction when there is one
    and at least two bids to compete in it, otherwise rank it and flag abnormally low prices."""
    lot = _lot(state, command.lot_id)
    officer_of_the_buyer_or_system_must_act(state, actor)
    procedure_must_not_be_cancelled(state)
    lot_must_be(lot, [LotStatus.EVALUATION], "complete the evaluation")
    needs = what_the_evaluation_still_needs(state, lot.lot_id, now)
    if needs:
        msg = f"the evaluation of lot {lot.lot_id} is not complete: {'; '.join(needs)}"
        raise WrongState(msg, code="evaluation_incomplete")
    admissible = admissible_bids(state, lot.lot_id)
    if not admissible:
        msg = f"lot {lot.lot_id} has no admissible bid: cancel it instead"
        raise WrongState(msg, code="no_admissible_bid")
    if state.facts.has_auction and len(admissible) >= 2:
        return [_ready_for_auction(state, lot, admissible)]
    evaluated = LotEvaluated(lot_id=lot.lot_id)
    return [evaluated, *abnormally_low(evolve(state, evaluated), lot.lot_id)]


def _ready_for_auction(
    state: Evaluation, lot: LotState, admissible: list[OpenedBid]
) -> LotReadyForAuction:
    return LotReadyForAuction(
        lot_id=lot.lot_id,
        price_weight=state.facts.price_weight,
        bidders=tuple(
            AuctionBidder(
                bid_id=bid.bid_id,
                bidder_id=bid.bidder_id,
                initial_price=bid_must_offer_for_the_lot(bid, lot.lot_id).price,
                quality_part=quality_part(state.facts, lot, bid.bid_id),
            )
            for bid in admissible
        ),
    )


def record_auction_result(
    state: Evaluation, command: RecordAuctionResult, actor: Actor
) -> list[Event]:
    lot = _lot(state, command.lot_id)
    system_must_act(actor, "records the result of an auction")
    procedure_must_not_be_cancelled(state)
    lot_must_be(lot, [LotStatus.AUCTION], "record the result of its auction")
    entries = {entry.bid_id: entry for entry in lot.auction or ()}
    given = {price.bid_id: price.price for price in command.final_prices}
    if set(given) != set(entries):
        msg = f"the auction of lot {lot.lot_id} was between {sorted(entries)}, not {sorted(given)}"
        raise Rejected(msg, code="auction_bidders_mismatch")
    for bid_id, price in sorted(given.items()):
        initial = entries[bid_id].initial_price
        if price.currency != initial.currency:
            msg = f"the final price of {bid_id} is in {price.currency}, not {initial.currency}"
            raise Rejected(msg, code="wrong_currency")
        if price.amount > initial.amount:
            msg = f"the final price of {bid_id}, {price.amount}, is above its initial {initial.amount}: a reverse auction only lowers prices"
            raise Rejected(msg, code="price_increased")
    recorded = AuctionResultRecorded(
        lot_id=lot.lot_id, final_prices=tuple(sorted(command.final_prices, key=lambda p: p.bid_id))
    )
    return [recorded, *abnormally_low(evolve(state, recorded), lot.lot_id)]


def request_justification(
    state: Evaluation, command: RequestJustification, actor: Actor, now: datetime
) -> list[Event]:
    lot = _lot(state, command.lot_id)
    bid = _bid(state, command.bid_id)
    officer_must_act_for_the_buyer(actor, state.facts.buyer_id)
    procedure_must_not_be_cancelled(state)
    lot_must_be(lot, [LotStatus.RANKED], "ask for the justification of a price")
    flag = _flag(lot, bid.bid_id)
    if flag.status is not FlagStatus.FLAGGED:
        msg = f"the justification of bid {bid.bid_id} for lot {lot.lot_id} is already {flag.status}"
        raise WrongState(msg, code="justification_already_requested")
    respond_by_must_be_ahead(command.respond_by, now)
    return [
        JustificationRequested(
            lot_id=lot.lot_id,
            bid_id=bid.bid_id,
            bidder_id=bid.bidder_id,
            officer_id=actor.id,
            question=command.question,
            respond_by=command.respond_by,
        )
    ]


def submit_justification(
    state: Evaluation, command: SubmitJustification, actor: Actor, now: datetime
) -> list[Event]:
    lot = _lot(state, command.lot_id)
    bid = _bid(state, command.bid_id)
    supplier_must_act_for_itself(actor, bid.bidder_id, f"justify the price of bid {bid.bid_id}")
    procedure_must_not_be_cancelled(state)
    lot_must_be(lot, [LotStatus.RANKED], "justify a price")
    flag = _flag(lot, bid.bid_id)
    if flag.status is not FlagStatus.REQUESTED:
        msg = f"no justification of bid {bid.bid_id} for lot {lot.lot_id} is awaited: it is {flag.status}"
        raise WrongState(msg, code="justification_not_requested")
    assert flag.respond_by is not None, "a requested justification has a time to respond"
    if now >= flag.respond_by:
        msg = f"the justification was due by {flag.respond_by.isoformat()}"
        raise WrongState(msg, code="too_late")
    return [
        JustificationSubmitted(
            lot_id=lot.lot_id,
            bid_id=bid.bid_id,
            bidder_id=bid.bidder_id,
            justification=command.justification,
        )
    ]


def decide_justification(
    state: Evaluation,
    command: AcceptJustification | RejectJustification,
    actor: Actor,
    now: datetime,
) -> list[Event]:
    """The officer accepts or rejects a submitted justification; one not submitted in time
    may only be rejected."""
    lot = _lot(state, command.lot_id)
    bid = _bid(state, command.bid_id)
    officer_must_act_for_the_buyer(actor, state.facts.buyer_id)
    procedure_must_not_be_cancelled(state)
    lot_must_be(lot, [LotStatus.RANKED], "decide on a justification")
    flag = _flag(lot, bid.bid_id)
    lapsed = flag.status is FlagStatus.REQUESTED and now >= (flag.respond_by or now)
    rejecting = isinstance(command, RejectJustification)
    if flag.status is not FlagStatus.SUBMITTED and not (rejecting and lapsed):
        msg = f"the justification of bid {bid.bid_id} for lot {lot.lot_id} is {flag.status}: there is none to decide on"
        raise WrongState(msg, code="no_justification")
    names = {"lot_id": lot.lot_id, "bid_id": bid.bid_id, "officer_id": actor.id}
    if rejecting:
        return [JustificationRejected(**names, reason=command.reason)]
    return [JustificationAccepted(**names, reason=command.reason)]


def decide_award(
    state: Evaluation, command: DecideAward, actor: Actor, now: datetime
) -> list[Event]:
    """The officer confirms the award of the lot to the first of its ranking."""
    lot = _lot(state, command.lot_id)
    officer_must_act_for_the_buyer(actor, state.facts.buyer_id)
    procedure_must_not_be_cancelled(state)
    if lot.status is LotStatus.EVALUATION:
        needs = what_the_evaluation_still_needs(state, lot.lot_id, now) or ["complete it"]
        msg = (
            f"lot {lot.lot_id} is still in evaluation, it cannot be awarded yet: {'; '.join(needs)}"
        )
        raise WrongState(msg, code="evaluation_incomplete")
    lot_must_be(lot, [LotStatus.RANKED], "award the lot")
    ranked = ranking(state, lot.lot_id)
    if not ranked:
        msg = f"no bid is left in the ranking of lot {lot.lot_id}: cancel the lot"
        raise WrongState(msg, code="no_bid_left")
    winner = ranked[0]
    flag = (lot.flags or {}).get(winner.bid_id)
    if flag is not None and not flag.resolved:
        msg = (
            f"bid {winner.bid_id} ranks first for lot {lot.lot_id} but its price is abnormally low "
            f"and its justification is {flag.status}: it can win only once the justification is accepted"
        )
        raise WrongState(msg, code="abnormally_low_unresolved")
    if command.expected_winner not in (None, winner.bid_id):
        msg = f"the best bid for lot {lot.lot_id} is now {winner.bid_id}, not {command.expected_winner}"
        raise Rejected(msg, code="ranking_changed")
    return [
        AwardDecided(
            lot_id=lot.lot_id,
            bid_id=winner.bid_id,
            bidder_id=winner.bidder_id,
            value=winner.price,
            ranking=tuple(ranked),
            unsuccessful=tuple(_unsuccessful(state, lot, ranked)),
            officer_id=actor.id,
            decided_at=now,
            standstill_ends=now + timedelta(days=state.facts.standstill_days),
        )
    ]


def _unsuccessful(state: Evaluation, lot: LotState, ranked: list[RankedBid]) -> list[Unsuccessful]:
    winner, places = ranked[0], {row.bid_id: row for row in ranked}
    reasons = []
    for bid in state.bids.values():
        if lot.lot_id not in bid.lot_ids or bid.bid_id == winner.bid_id:
            continue
        code, reason = _why_not(lot, bid.bid_id, places.get(bid.bid_id), winner, len(ranked))
        reasons.append(
            Unsuccessful(
                bid_id=bid.bid_id, bidder_id=bid.bidder_id, reason_code=code, reason=reason
            )
        )
    return reasons


def _why_not(
    lot: LotState, bid_id: str, place: RankedBid | None, winner: RankedBid, out_of: int
) -> tuple[LossReason, str]:
    decision = lot.decisions[bid_id]
    if not decision.admissible:
        return LossReason.DISQUALIFIED, f"the bid was rejected: {decision.reason}"
    if place is None:
        flag = (lot.flags or {})[bid_id]
        return LossReason.ABNORMALLY_LOW, (
            f"its price, {flag.price}, is abnormally low (below {flag.threshold}, "
            f"{flag.basis.replace('_', ' ')}) and its justification was rejected: {flag.reason}"
        )
    if place.total == winner.total:
        return LossReason.TIE_RECEIVED_LATER, (
            f"it tied with the winning bid at {place.total} points; the winning bid was received "
            f"first ({winner.received_at.isoformat()}, this one {place.received_at.isoformat()})"
        )
    return LossReason.LOWER_SCORE, (
        f"it ranked {place.rank} of {out_of} with {place.total} points "
        f"(price {place.price_score}, quality {place.quality_part}); "
        f"the winning bid scored {winner.total}"
    )


def file_complaint(
    state: Evaluation, command: FileComplaint, actor: Actor, now: datetime
) -> list[Event]:
    lot = _lot(state, command.lot_id)
    if actor.role is not Role.SUPPLIER or not any(
        bid.bidder_id == actor.id and lot.lot_id in bid.lot_ids for bid in state.bids.values()
    ):
        msg = f"only a supplier that bid for lot {lot.lot_id} may complain about its award; {actor.id} did not"
        raise NotAllowed(msg)
    procedure_must_not_be_cancelled(state)
    lot_must_be(lot, [LotStatus.AWARDED, LotStatus.SUSPENDED], "complain about the award")
    assert lot.award is not None, "an awarded lot has its award"
    if now >= lot.award.standstill_ends:
        msg = f"the standstill of lot {lot.lot_id} ended at {lot.award.standstill_ends.isoformat()}: complaints had to be filed before"
        raise WrongState(msg, code="standstill_over")
    for complaint in state.complaints.values():
        if (complaint.lot_id, complaint.bidder_id, complaint.status) == (
            lot.lot_id,
            actor.id,
            ComplaintStatus.OPEN,
        ):
            msg = f"{actor.id} already has {complaint.complaint_id} open about lot {lot.lot_id}"
            raise WrongState(msg, code="complaint_pending")
    return [
        ComplaintFiled(
            complaint_id=f"complaint-{len(state.complaints) + 1}",
            lot_id=lot.lot_id,
            bidder_id=actor.id,
            grounds=command.grounds,
        )
    ]


def rule_on_complaint(
    state: Evaluation, command: UpholdComplaint | DismissComplaint, actor: Actor
) -> list[Event]:
    complaint = state.complaints.get(command.complaint_id)
    if complaint is None:
        msg = f"{state.ocid} has no complaint {command.complaint_id}"
        raise NotFound(msg, code="unknown_complaint")
    reviewer_must_rule(state, actor)
    procedure_must_not_be_cancelled(state)
    if complaint.status is not ComplaintStatus.OPEN:
        msg = f"{complaint.complaint_id} is {complaint.status}: there is nothing left to rule on"
        raise WrongState(msg, code="complaint_closed")
    lot_must_be(state.lots[complaint.lot_id], [LotStatus.SUSPENDED], "rule on a complaint about it")
    names = {
        "complaint_id": complaint.complaint_id,
        "lot_id": complaint.lot_id,
        "reason": command.reason,
        "reviewer_id": actor.id,
    }
    if isinstance(command, UpholdComplaint):
        return [ComplaintUpheld(**names, remedy=command.remedy)]
    return [ComplaintDismissed(**names)]


def cancel_lot(state: Evaluation, command: CancelLot, actor: Actor) -> list[Event]:
    lot = _lot(state, command.lot_id)
    officer_must_act_for_the_buyer(actor, state.facts.buyer_id)
    procedure_must_not_be_cancelled(state)
    lot_must_be(lot, _LIVE, "cancel the lot")
    return [LotCancelled(lot_id=lot.lot_id, officer_id=actor.id, reason=command.reason)]


def cancel_procedure(state: Evaluation, command: CancelProcedure, actor: Actor) -> list[Event]:
    officer_must_act_for_the_buyer(actor, state.facts.buyer_id)
    procedure_must_not_be_cancelled(state)
    return [ProcedureCancelled(officer_id=actor.id, reason=command.reason)]


def decide(
    state: Evaluation | None,
    command: AnyEvaluationCommand,
    actor: Actor,
    now: datetime,
    *,
    signature_valid: bool = False,
) -> list[Event]:
    """Every command of the evaluation; ``signature_valid`` is the caller's check of a
    ``ScoreQuality`` signature against the member's committee key (bidding.keys.verify)."""
    if isinstance(command, StartEvaluation):
        system_must_act(actor, "starts an evaluation, when the bids are opened")
        if state is not None:
            msg = f"the evaluation of {command.ocid} has already started"
            raise WrongState(msg, code="already_started")
        return start(command.facts, command.bids, now)
    evaluation = evaluation_must_have_started(state, command.ocid)
    match command:
        case RequestClarification():
            return request_clarification(evaluation, command, actor, now)
        case AnswerClarification():
            return answer_clarification(evaluation, command, actor, now)
        case QualifyBid() | DisqualifyBid():
            return qualify(evaluation, command, actor, now)
        case ScoreQuality():
            return score(evaluation, command, actor, signature_valid)
        case CompleteLotEvaluation():
            return complete(evaluation, command, actor, now)
        case RecordAuctionResult():
            return record_auction_result(evaluation, command, actor)
        case RequestJustification():
            return request_justification(evaluation, command, actor, now)
        case SubmitJustification():
            return submit_justification(evaluation, command, actor, now)
        case AcceptJustification() | RejectJustification():
            return decide_justification(evaluation, command, actor, now)
        case DecideAward():
            return decide_award(evaluation, command, actor, now)
        case FileComplaint():
            return file_complaint(evaluation, command, actor, now)
        case UpholdComplaint() | DismissComplaint():
            return rule_on_complaint(evaluation, command, actor)
        case CancelLot():
            return cancel_lot(evaluation, command, actor)
        case CancelProcedure():
            return cancel_procedure(evaluation, command, actor)


# Notices


def notices(event: Event) -> list[tuple[str, str]]:
    """What each bidder is told, as (bidder id, message): the award with the reasons, and
    the questions put to them."""
    match event:
        case AwardDecided():
            return _award_notices(event)
        case ClarificationRequested():
            return [
                (
                    event.bidder_id,
                    f"The evaluation committee asks about bid {event.bid_id} "
                    f"({event.request_id}), to answer by {event.respond_by.isoformat()}: {event.question}",
                )
            ]
        case JustificationRequested():
            return [
                (
                    event.bidder_id,
                    f"The price of bid {event.bid_id} for lot {event.lot_id} appears abnormally low. "
                    f"Justify it by {event.respond_by.isoformat()}: {event.question}",
                )
            ]
    return []


def _award_notices(award: AwardDecided) -> list[tuple[str, str]]:
    winner = award.ranking[0]
    ends = award.standstill_ends.isoformat()
    told = [
        (
            award.bidder_id,
            f"Bid {award.bid_id} won lot {award.lot_id} with {winner.total} points, for "
            f"{award.value.amount} {award.value.currency}. The contract may be signed once the "
            f"standstill ends, {ends}, if no complaint is upheld.",
        )
    ]
    for loser in award.unsuccessful:
        told.append(
            (
                loser.bidder_id,
                f"Bid {loser.bid_id} did not win lot {award.lot_id}: {loser.reason}. "
                f"Lot {award.lot_id} was awarded to bid {award.bid_id} with {winner.total} points. "
                f"You may complain until {ends}.",
            )
        )
    return told


# Evolution


def evolve(state: Evaluation | None, event: Event) -> Evaluation:
    """Apply one event; an event that ``LOT_LIFECYCLE`` does not allow is a corrupt history."""
    kind = type(event).__name__
    if state is None or isinstance(event, EvaluationStarted):
        if state is not None or not isinstance(event, EvaluationStarted):
            raise ValueError(
                f"{kind} cannot happen to an evaluation that is {'started' if state else 'not started'}"
            )
        return _started(event)
    if state.cancelled:
        raise ValueError(f"{kind} cannot happen to a cancelled procedure")
    moved = _lots_moved(state, event)
    for lot_id in moved:
        if (state.lots[lot_id].status, kind) not in LOT_LIFECYCLE:
            raise ValueError(
                f"{kind} cannot happen to lot {lot_id} that is {state.lots[lot_id].status}"
            )
    after = _apply(state, event)
    for lot_id in moved:
        was, now = state.lots[lot_id].status, after.lots[lot_id].status
        if now not in LOT_LIFECYCLE[was, kind]:
            raise ValueError(f"{kind} cannot take lot {lot_id} from {was} to {now}")
    return replace(after, version=state.version + 1)


def replay(events: Iterable[Event]) -> Evaluation | None:
    state: Evaluation | None = None
    for event in events:
        state = evolve(state, event)
    return state


def _lots_moved(state: Evaluation, event: Event) -> tuple[str, ...]:
    """The lots an event is about: the lots it names, or, for ProcedureCancelled, every lot
    not cancelled yet."""
    if isinstance(event, ProcedureCancelled):
        return tuple(
            lot.lot_id for lot in state.lots.values() if lot.status is not LotStatus.CANCELLED
        )
    lot_ids: tuple[str, ...] = getattr(event, "lot_ids", ())
    lot_id: str | None = getattr(event, "lot_id", None)
    moved = lot_ids if lot_id is None else (lot_id,)
    if not moved or any(lot not in state.lots for lot in moved):
        raise ValueError(f"{type(event).__name__} names lots {moved} the evaluation does not have")
    return moved


def _started(event: EvaluationStarted) -> Evaluation:
    return Evaluation(
        ocid=event.facts.ocid,
        facts=event.facts,
        bids={bid.bid_id: bid for bid in event.bids},
        lots={
            lot.lot_id: LotState(
                lot_id=lot.lot_id, status=LotStatus.EVALUATION, decisions={}, scores={}
            )
            for lot in event.facts.lots
        },
        clarifications={},
        complaints={},
        cancelled=False,
        version=1,
    )


def _with_lot(state: Evaluation, lot_id: str, **changes: Any) -> Evaluation:
    lots = dict(state.lots)
    lots[lot_id] = replace(lots[lot_id], **changes)
    return replace(state, lots=lots)


def _with_flag(state: Evaluation, lot_id: str, bid_id: str, **changes: Any) -> Evaluation:
    flags = dict(state.lots[lot_id].flags or {})
    flags[bid_id] = replace(flags[bid_id], **changes)
    return _with_lot(state, lot_id, flags=flags)


def _with_complaint(state: Evaluation, complaint_id: str, status: ComplaintStatus) -> Evaluation:
    complaints = dict(state.complaints)
    complaints[complaint_id] = replace(complaints[complaint_id], status=status)
    return replace(state, complaints=complaints)


def _apply(state: Evaluation, event: Event) -> Evaluation:
    match event:
        case ClarificationRequested():
            request = Clarification(
                request_id=event.request_id,
                bid_id=event.bid_id,
                bidder_id=event.bidder_id,
                lot_ids=event.lot_ids,
                question=event.question,
                respond_by=event.respond_by,
            )
            return replace(
                state, clarifications={**state.clarifications, event.request_id: request}
            )
        case ClarificationAnswered():
            answered = replace(state.clarifications[event.request_id], answer=event.answer)
            return replace(
                state, clarifications={**state.clarifications, event.request_id: answered}
            )
        case BidQualified() | BidDisqualified():
            reason = event.reason if isinstance(event, BidDisqualified) else None
            decision = Decision(isinstance(event, BidQualified), event.officer_id, reason)
            for lot_id in event.lot_ids:
                decisions = {**state.lots[lot_id].decisions, event.bid_id: decision}
                state = _with_lot(state, lot_id, decisions=decisions)
            return state
        case QualityScored():
            key = (event.bid_id, event.criterion_id, event.officer_id)
            scores = {
                **state.lots[event.lot_id].scores,
                key: MemberScore(event.score, event.revision),
            }
            return _with_lot(state, event.lot_id, scores=scores)
        case LotEvaluated():
            return _with_lot(state, event.lot_id, status=LotStatus.RANKED, flags={})
        case LotReadyForAuction():
            return _with_lot(state, event.lot_id, status=LotStatus.AUCTION, auction=event.bidders)
        case AuctionResultRecorded():
            prices = {final.bid_id: final.price.amount for final in event.final_prices}
            return _with_lot(
                state, event.lot_id, status=LotStatus.RANKED, final_prices=prices, flags={}
            )
        case AbnormallyLowFlagged():
            flag = Flag(event.basis, event.price.amount, event.threshold)
            flags = {**(state.lots[event.lot_id].flags or {}), event.bid_id: flag}
            return _with_lot(state, event.lot_id, flags=flags)
        case JustificationRequested():
            return _with_flag(
                state,
                event.lot_id,
                event.bid_id,
                status=FlagStatus.REQUESTED,
                respond_by=event.respond_by,
            )
        case JustificationSubmitted():
            return _with_flag(state, event.lot_id, event.bid_id, status=FlagStatus.SUBMITTED)
        case JustificationAccepted() | JustificationRejected():
            status = (
                FlagStatus.ACCEPTED
                if isinstance(event, JustificationAccepted)
                else FlagStatus.REJECTED
            )
            return _with_flag(state, event.lot_id, event.bid_id, status=status, reason=event.reason)
        case AwardDecided():
            award = Award(
                bid_id=event.bid_id,
                bidder_id=event.bidder_id,
                value=event.value,
                total=event.ranking[0].total,
                decided_at=event.decided_at,
                standstill_ends=event.standstill_ends,
            )
            return _with_lot(state, event.lot_id, status=LotStatus.AWARDED, award=award)
        case ComplaintFiled():
            complaint = Complaint(event.complaint_id, event.lot_id, event.bidder_id, event.grounds)
            state = replace(state, complaints={**state.complaints, event.complaint_id: complaint})
            return _with_lot(state, event.lot_id, status=LotStatus.SUSPENDED)
        case ComplaintUpheld():
            return _upheld(state, event)
        case ComplaintDismissed():
            state = _with_complaint(state, event.complaint_id, ComplaintStatus.DISMISSED)
            still_open = any(
                c.lot_id == event.lot_id and c.status is ComplaintStatus.OPEN
                for c in state.complaints.values()
            )
            return _with_lot(
                state, event.lot_id, status=LotStatus.SUSPENDED if still_open else LotStatus.AWARDED
            )
        case LotCancelled():
            state = _complaints_moot(state, event.lot_id)
            return _with_lot(state, event.lot_id, status=LotStatus.CANCELLED)
        case ProcedureCancelled():
            for lot_id in state.lots:
                state = _complaints_moot(state, lot_id)
            lots = {
                lot_id: replace(lot, status=LotStatus.CANCELLED)
                for lot_id, lot in state.lots.items()
            }
            return replace(state, lots=lots, cancelled=True)
    raise ValueError(f"{type(event).__name__} is not an event of an evaluation")


def _complaints_moot(state: Evaluation, lot_id: str) -> Evaluation:
    for complaint in state.complaints.values():
        if complaint.lot_id == lot_id and complaint.status is ComplaintStatus.OPEN:
            state = _with_complaint(state, complaint.complaint_id, ComplaintStatus.MOOT)
    return state


def _upheld(state: Evaluation, event: ComplaintUpheld) -> Evaluation:
    """The complaint is upheld and the other open ones about the lot become moot. To
    re-evaluate, the lot goes back to evaluation: qualification decisions and scores are
    kept; the award, the auction's result and the abnormally-low checks are cleared, to be
    made again when the evaluation is completed."""
    state = _with_complaint(state, event.complaint_id, ComplaintStatus.UPHELD)
    state = _complaints_moot(state, event.lot_id)
    if event.remedy is Remedy.CANCEL:
        return _with_lot(state, event.lot_id, status=LotStatus.CANCELLED)
    return _with_lot(
        state,
        event.lot_id,
        status=LotStatus.EVALUATION,
        award=None,
        auction=None,
        final_prices=None,
        flags=None,
    )
