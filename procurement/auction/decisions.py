"""The auction's decisions: scheduling, opening, prices, closing and cancelling, each returning
the events to record.
"""

from collections.abc import Sequence
from datetime import datetime, timedelta
from decimal import Decimal

from procurement.auction.rules import (
    MINIMUM_NOTICE,
    auction_must_be_due_to_open,
    auction_must_be_live,
    auction_must_not_be_scheduled_yet,
    auction_must_start_after_the_notice,
    auction_needs_two_participants,
    check_price,
    each_bidder_takes_part_once,
    lot_must_be_waiting_for_its_auction,
    only_the_platform_times_an_auction,
    quality_parts_must_fit_the_formula,
    scheduler_must_be_the_buyer_or_the_platform,
)
from procurement.auction.scoring import CENT, ranking
from procurement.auction.state import Auction, AuctionStatus, closes_at, round_at
from procurement.errors import Rejected
from procurement.evaluation import Evaluation
from procurement.tender import officer_must_act_for_the_buyer
from schemas.auction import (
    AuctionCancelled,
    AuctionClosed,
    AuctionOpened,
    AuctionParticipant,
    AuctionPriceAccepted,
    AuctionPriceRejected,
    AuctionScheduled,
    RejectionReason,
)
from schemas.commands import Actor
from schemas.evaluation import FinalPrice, RecordAuctionResult
from schemas.events import Event
from schemas.values import AuctionRules, Value


def schedule_from_evaluation(
    state: Auction | None,
    evaluated: Evaluation,
    rules: AuctionRules,
    actor: Actor,
    *,
    lot_id: str,
    starts_at: datetime,
    now: datetime,
    notice: timedelta = MINIMUM_NOTICE,
) -> list[Event]:
    """Schedule the auction of a lot whose evaluation handed it over (``LotReadyForAuction``):
    its admissible tenderers with their opened prices and fixed quality parts."""
    auction_must_not_be_scheduled_yet(state)
    lot = lot_must_be_waiting_for_its_auction(evaluated, lot_id)
    assert lot.auction is not None
    return schedule(
        actor,
        ocid=evaluated.ocid,
        lot_id=lot_id,
        buyer_id=evaluated.facts.buyer_id,
        currency=lot.auction[0].initial_price.currency,
        starts_at=starts_at,
        rules=rules,
        price_weight=evaluated.facts.price_weight,
        participants=[
            AuctionParticipant(
                bidder_id=bidder.bidder_id,
                bid_id=bidder.bid_id,
                initial_price=bidder.initial_price.amount,
                quality_part=bidder.quality_part,
            )
            for bidder in lot.auction
        ],
        now=now,
        notice=notice,
    )


def result(closed: AuctionClosed, state: Auction) -> RecordAuctionResult:
    """What the evaluation records when the auction closes: each bid's final price, and the
    sequence number of the auction price that set it, which breaks ties in the evaluation
    as it did in the auction."""
    return RecordAuctionResult(
        ocid=state.ocid,
        lot_id=state.lot_id,
        final_prices=tuple(
            FinalPrice(
                bid_id=rank.bid_id,
                price=Value(amount=rank.price, currency=state.currency),
                auction_sequence=rank.auction_sequence,
            )
            for rank in closed.ranking
        ),
    )


def schedule(
    actor: Actor,
    *,
    ocid: str,
    lot_id: str,
    buyer_id: str,
    currency: str,
    starts_at: datetime,
    rules: AuctionRules,
    price_weight: Decimal,
    participants: Sequence[AuctionParticipant],
    now: datetime,
    notice: timedelta = MINIMUM_NOTICE,
    show_leading_price: bool = True,
) -> list[Event]:
    """Set the auction up and invite every participant at once (see ``invitations``)."""
    scheduler_must_be_the_buyer_or_the_platform(actor, buyer_id)
    auction_must_start_after_the_notice(starts_at, now, notice)
    auction_needs_two_participants(participants)
    each_bidder_takes_part_once(participants)
    quality_parts_must_fit_the_formula(price_weight, participants)
    return [
        AuctionScheduled(
            ocid=ocid,
            lot_id=lot_id,
            buyer_id=buyer_id,
            currency=currency,
            starts_at=starts_at,
            rules=rules,
            price_weight=price_weight,
            participants=tuple(participants),
            show_leading_price=show_leading_price,
        )
    ]


def open_auction(state: Auction, actor: Actor, now: datetime) -> list[Event]:
    only_the_platform_times_an_auction(actor)
    auction_must_be_due_to_open(state, now)
    return [AuctionOpened(opened_at=now)]


def submit_price(state: Auction, bidder_id: str, price: Decimal, now: datetime) -> list[Event]:
    """One event, always: the price accepted, or rejected with its reason. Commit it, then
    answer a rejection with ``error_of``."""
    try:
        check_price(state, bidder_id, price, now)
    except Rejected as refusal:
        rejected = AuctionPriceRejected(
            bidder_id=bidder_id,
            price=price,
            at=now,
            reason_code=RejectionReason(refusal.code),
            reason=refusal.detail,
        )
        return [rejected]
    accepted = AuctionPriceAccepted(
        bidder_id=bidder_id,
        price=price.quantize(CENT),
        at=now,
        round=round_at(state, now),
        sequence=state.accepted + 1,
    )
    return [accepted]


def close_if_due(state: Auction, actor: Actor, now: datetime) -> list[Event]:
    """Close the auction when its rule is met: the final ranking, fixed. Nothing otherwise."""
    only_the_platform_times_an_auction(actor)
    if state.status is not AuctionStatus.OPEN or now < closes_at(state):
        return []
    return [
        AuctionClosed(
            closed_at=closes_at(state),
            reason=state.rules.ends,
            ranking=tuple(rank.as_message() for rank in ranking(state)),
        )
    ]


def cancel(state: Auction, actor: Actor, reason: str, now: datetime) -> list[Event]:
    officer_must_act_for_the_buyer(actor, state.buyer_id)
    auction_must_be_live(state)
    return [AuctionCancelled(officer_id=actor.id, reason=reason, cancelled_at=now)]
