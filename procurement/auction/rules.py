"""The rules of an auction, named as the sentences they enforce.

**Prices.** A price must be a positive amount in cents (at most 18 digits) and at least
``minimum_decrement`` percent below the bidder's own last price (its initial price first):
``price <= last * (100 - decrement) / 100``, which for prices in cents is the same as ``price
<= that limit rounded down to the cent``, the "at most" the bidder is told. It need not beat
anyone else's price.

**Rejected prices are recorded, and reported.** Unlike the other aggregates, where a refused
command records nothing, every price a bidder sends becomes an event: accepted, or
``AuctionPriceRejected`` with its reason, so that a dispute about a price ("I sent it before
the close") is settled by the record. The rules raise, like every rule of the domain; there is
one set of them (``check_price``) and two ways to use it:

- The command handler calls ``submit_price``: it never raises for the price and returns one
  event, accepted or rejected. The handler commits that event and, when it is a rejection,
  then answers the bidder with ``error_of(event)``: the same error ``check_price`` raises,
  NotAllowed (403, not_a_participant), WrongState (409, not_open, late) or Rejected (422,
  invalid_price, not_decreasing), with the reason code as the error's ``code``.
- ``check_price`` alone records nothing: for a pre-flight check (a form validating before it
  sends, a dry run). At the same state and time its verdict is exactly what ``submit_price``
  would record.
"""

from collections.abc import Sequence
from datetime import datetime, timedelta
from decimal import Decimal, InvalidOperation, localcontext
from typing import NoReturn

from procurement.auction.scoring import ARITHMETIC, CENT, HUNDRED, most_a_bidder_may_offer
from procurement.auction.state import LIFECYCLE, Auction, AuctionStatus, closes_at
from procurement.errors import NotAllowed, NotFound, Rejected, WrongState
from procurement.evaluation import Evaluation, LotState, LotStatus
from procurement.tender import officer_must_act_for_the_buyer
from schemas.auction import AuctionParticipant, AuctionPriceRejected, RejectionReason
from schemas.commands import Actor, Role

MAX_DIGITS = 18  # of a price, cents included
# Article 35(5) asks for two working days between the invitations and the start; the caller
# passes its own calendar's equivalent, and this is the least it can be.
MINIMUM_NOTICE = timedelta(days=2)


# What a rejection is, answered to the sender: the kind of error for each reason.
_ERRORS: dict[RejectionReason, type[Rejected]] = {
    RejectionReason.NOT_A_PARTICIPANT: NotAllowed,
    RejectionReason.NOT_OPEN: WrongState,
    RejectionReason.LATE: WrongState,
    RejectionReason.INVALID_PRICE: Rejected,
    RejectionReason.NOT_DECREASING: Rejected,
}


def auction_must_exist(state: Auction | None, auction: str) -> Auction:
    if state is None:
        raise NotFound(f"there is no auction {auction}")
    return state


def scheduler_must_be_the_buyer_or_the_platform(actor: Actor, buyer_id: str) -> None:
    if actor.role is not Role.SYSTEM:
        officer_must_act_for_the_buyer(actor, buyer_id)


def auction_must_start_after_the_notice(
    starts_at: datetime, now: datetime, notice: timedelta
) -> None:
    if starts_at < now + notice:
        msg = (
            f"the auction would start at {starts_at.isoformat()}, less than {notice} after the "
            f"invitations ({now.isoformat()}); the earliest allowed is {(now + notice).isoformat()}"
        )
        raise Rejected(msg, code="notice_too_short")


def auction_needs_two_participants(participants: Sequence[AuctionParticipant]) -> None:
    if len(participants) < 2:
        msg = f"an auction needs at least two admissible tenderers, not {len(participants)}"
        raise Rejected(msg, code="too_few_participants")


def each_bidder_takes_part_once(participants: Sequence[AuctionParticipant]) -> None:
    ids = [p.bidder_id for p in participants]
    if len(ids) != len(set(ids)):
        repeated = sorted({i for i in ids if ids.count(i) > 1})
        raise Rejected(f"each bidder takes part once, repeated: {repeated}", code="repeated_bidder")


def quality_parts_must_fit_the_formula(
    price_weight: Decimal, participants: Sequence[AuctionParticipant]
) -> None:
    room = HUNDRED - price_weight
    for p in participants:
        if p.quality_part > room:
            msg = (
                f"the quality part of {p.bidder_id}, {p.quality_part}, is more than the {room} "
                f"points the formula leaves beside a price weight of {price_weight}"
            )
            raise Rejected(msg, code="quality_part_too_large")


def auction_must_be_due_to_open(state: Auction, now: datetime) -> None:
    if state.status is not AuctionStatus.SCHEDULED:
        msg = f"auction {state.auction_id} is {state.status}; only a scheduled auction opens"
        raise WrongState(msg)
    if now < state.starts_at:
        msg = f"auction {state.auction_id} opens at {state.starts_at.isoformat()}"
        raise WrongState(msg, code="start_ahead")


def auction_must_be_live(state: Auction) -> None:
    if (state.status, "AuctionCancelled") not in LIFECYCLE:
        raise WrongState(f"auction {state.auction_id} is {state.status}; it cannot be cancelled")


def participant_must_be_invited(state: Auction, bidder_id: str) -> None:
    if bidder_id not in state.index:
        msg = f"{bidder_id} was not invited to auction {state.auction_id}"
        _refuse(RejectionReason.NOT_A_PARTICIPANT, msg)


def auction_must_be_taking_prices(state: Auction, now: datetime) -> None:
    if state.status is AuctionStatus.CANCELLED:
        _refuse(RejectionReason.NOT_OPEN, f"auction {state.auction_id} was cancelled")
    if state.status is AuctionStatus.SCHEDULED or state.opened_at is None:
        msg = (
            f"auction {state.auction_id} is not open yet: it opens at {state.starts_at.isoformat()}"
        )
        _refuse(RejectionReason.NOT_OPEN, msg)
    if now < state.opened_at:
        msg = f"auction {state.auction_id} opened at {state.opened_at.isoformat()}, after {now.isoformat()}"
        _refuse(RejectionReason.NOT_OPEN, msg)
    closing = closes_at(state)
    if state.status is AuctionStatus.CLOSED or now >= closing:
        msg = (
            f"auction {state.auction_id} closed at {closing.isoformat()} ({state.rules.ends}); "
            f"a price sent at {now.isoformat()} is late"
        )
        _refuse(RejectionReason.LATE, msg)


def price_must_be_an_amount_in_cents(state: Auction, price: Decimal) -> None:
    if not _in_cents(price):
        msg = (
            f"{price} is not a price: send a positive amount in {state.currency} "
            f"with at most 2 decimals and {MAX_DIGITS} digits"
        )
        _refuse(RejectionReason.INVALID_PRICE, msg)


def price_must_fall_by_the_minimum_decrement(
    state: Auction, bidder_id: str, price: Decimal
) -> None:
    limit = most_a_bidder_may_offer(state, bidder_id)
    if price > limit:
        last = state.standing(bidder_id).price
        decrement = state.rules.minimum_decrement
        msg = (
            f"{price:,.2f} is not at least {decrement:.2f}% below your last price {last:,.2f}: "
            f"at most {limit:,.2f}"
        )
        _refuse(RejectionReason.NOT_DECREASING, msg)


def _in_cents(price: Decimal) -> bool:
    if not price.is_finite() or price <= 0:
        return False
    with localcontext(ARITHMETIC):
        try:
            cents = price.quantize(CENT)
        except InvalidOperation:  # more digits than the context holds
            return False
    return cents == price and len(cents.as_tuple().digits) <= MAX_DIGITS


def _refuse(reason: RejectionReason, detail: str) -> NoReturn:
    raise _ERRORS[reason](detail, code=reason.value)


def lot_must_be_waiting_for_its_auction(evaluated: Evaluation, lot_id: str) -> LotState:
    lot = evaluated.lots.get(lot_id)
    if lot is None:
        raise NotFound(f"tender {evaluated.ocid} has no lot {lot_id}")
    if lot.status is not LotStatus.AUCTION or lot.auction is None:
        msg = (
            f"lot {lot_id} is {lot.status.value}: an auction is scheduled once the lot's "
            "evaluation is completed in a procedure with an auction and two bids are admissible"
        )
        raise WrongState(msg, code="not_ready_for_auction")
    return lot


def auction_must_not_be_scheduled_yet(state: Auction | None) -> None:
    if state is not None:
        msg = f"the auction {state.auction_id} is already scheduled, for {state.starts_at.isoformat()}"
        raise WrongState(msg, code="already_scheduled")


def only_the_platform_times_an_auction(actor: Actor) -> None:
    if actor.role is not Role.SYSTEM:
        raise NotAllowed(
            f"only the platform's timer opens and closes auctions; {actor.id} is {actor.role}"
        )


def check_price(state: Auction, bidder_id: str, price: Decimal, now: datetime) -> None:
    """Raise the error a price would be rejected with, recording nothing; see the module."""
    participant_must_be_invited(state, bidder_id)
    auction_must_be_taking_prices(state, now)
    price_must_be_an_amount_in_cents(state, price)
    price_must_fall_by_the_minimum_decrement(state, bidder_id, price)


def error_of(rejection: AuctionPriceRejected) -> Rejected:
    """The error to answer a recorded rejection with: what ``check_price`` raised."""
    return _ERRORS[rejection.reason_code](rejection.reason, code=rejection.reason_code.value)
