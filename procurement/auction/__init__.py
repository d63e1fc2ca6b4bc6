"""The electronic reverse auction of one lot (Directive 2014/24/EU, Article 35), as pure functions.

One aggregate per lot, id ``<ocid>:auction:<lot_id>``. ``schedule`` invites every admissible
tenderer at once (``invitations`` says what each one is sent); the platform's timer calls
``open_auction`` at ``starts_at`` and ``close_if_due`` until the closing rule is met; bidders
send prices with ``submit_price``; the buyer may ``cancel``. ``evolve`` applies one event and
``replay`` rebuilds the state from the aggregate's own events. Time and ids are arguments.

**The score**, as published with the tender (``schemas.values.Requirements``)::

    price score = price_weight * lowest current price / the bidder's current price
    total       = price score + the bidder's quality part (fixed by the evaluation; 0 for priceOnly)

The price score is computed to 28 significant digits and rounded once, half up, to 0.0001
point (as in ``procurement.evaluation``); the quality part is already exact to 0.0001, so the
total is exact to 0.0001 and ties are decided on the rounded totals. Highest total first; a
tie goes to the bidder who reached its current price first, that is earlier in the auction's
sequence of accepted prices (initial prices count as reached together, before any auction
price), then to the lower bidder id.

**Prices.** A price must be a positive amount in cents (at most 18 digits) and at least
``minimum_decrement`` percent below the bidder's own last price (its initial price first):
``price <= last * (100 - decrement) / 100``, which for prices in cents is the same as ``price
<= that limit rounded down to the cent``, the "at most" the bidder is told. It need not beat
anyone else's price.

**Time.** The auction's clock starts at the opening (``AuctionOpened.opened_at``, which is
``starts_at`` when the timer is punctual, so a late timer never shortens the auction). It
closes at opened_at + duration_seconds (fixed_time), opened_at + rounds * round_seconds
(rounds; a price's round is 1 + whole round_seconds since the opening), or inactivity_seconds
after the opening or the last accepted price, whichever is later (inactivity). A price at or
after ``closes_at`` is late even if the timer has not closed the auction yet, and
``AuctionClosed.closed_at`` is ``closes_at``, not the moment the timer noticed.

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

**Cost.** The participants and the index from bidder id to position are fixed at the
scheduling and shared by every later state; the bidders' current prices live in a persistent
vector, so ``evolve`` and ``submit_price`` cost O(log n) for n participants, and the lowest
price is kept as it falls. ``ranking`` is O(n log n); ``bidder_views`` ranks once for all
bidders.
"""

from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from decimal import ROUND_FLOOR, ROUND_HALF_UP, Context, Decimal, InvalidOperation, localcontext
from enum import StrEnum
from typing import Any, Generic, NoReturn, TypeVar

from procurement.errors import NotAllowed, NotFound, Rejected, WrongState
from procurement.evaluation import Evaluation, LotState, LotStatus
from procurement.tender import officer_must_act_for_the_buyer
from schemas.auction import (
    AuctionCancelled,
    AuctionClosed,
    AuctionOpened,
    AuctionParticipant,
    AuctionPriceAccepted,
    AuctionPriceRejected,
    AuctionRank,
    AuctionScheduled,
    RejectionReason,
)
from schemas.commands import Actor, Role
from schemas.evaluation import FinalPrice, RecordAuctionResult
from schemas.events import Event
from schemas.values import AuctionEnd, AuctionRules, Value

POINT = Decimal("0.0001")
CENT = Decimal("0.01")
HUNDRED = Decimal(100)
MAX_DIGITS = 18  # of a price, cents included
# Article 35(5) asks for two working days between the invitations and the start; the caller
# passes its own calendar's equivalent, and this is the least it can be.
MINIMUM_NOTICE = timedelta(days=2)
_ARITHMETIC = Context(prec=28, rounding=ROUND_HALF_UP)


def auction_id(ocid: str, lot_id: str) -> str:
    return f"{ocid}:auction:{lot_id}"


class AuctionStatus(StrEnum):
    SCHEDULED = "scheduled"  # invitations sent; not open yet
    OPEN = "open"  # prices are accepted until closes_at
    CLOSED = "closed"  # final: the ranking is fixed
    CANCELLED = "cancelled"  # final: no result


_ALL = tuple(AuctionStatus)

# The lifecycle as data: (status before, event type) -> status after. Anything else is illegal.
# A rejected price changes nothing, whenever it arrives.
LIFECYCLE: dict[tuple[AuctionStatus | None, str], AuctionStatus] = {
    (None, "AuctionScheduled"): AuctionStatus.SCHEDULED,
    (AuctionStatus.SCHEDULED, "AuctionOpened"): AuctionStatus.OPEN,
    (AuctionStatus.OPEN, "AuctionPriceAccepted"): AuctionStatus.OPEN,
    (AuctionStatus.OPEN, "AuctionClosed"): AuctionStatus.CLOSED,
    (AuctionStatus.SCHEDULED, "AuctionCancelled"): AuctionStatus.CANCELLED,
    (AuctionStatus.OPEN, "AuctionCancelled"): AuctionStatus.CANCELLED,
    **{(status, "AuctionPriceRejected"): status for status in _ALL},
}

# What a rejection is, answered to the sender: the kind of error for each reason.
_ERRORS: dict[RejectionReason, type[Rejected]] = {
    RejectionReason.NOT_A_PARTICIPANT: NotAllowed,
    RejectionReason.NOT_OPEN: WrongState,
    RejectionReason.LATE: WrongState,
    RejectionReason.INVALID_PRICE: Rejected,
    RejectionReason.NOT_DECREASING: Rejected,
}


# A persistent vector for the bidders' current prices.

T = TypeVar("T")
_BITS = 4
_WIDTH = 1 << _BITS
_MASK = _WIDTH - 1


class PersistentVector(Generic[T]):
    """A fixed-size persistent vector: a tree of tuples 16 wide. ``set`` returns a new vector
    that shares all but one path with the old one, so an update costs O(log n) and no earlier
    state changes."""

    __slots__ = ("_root", "_shift", "_size")

    def __init__(self, root: tuple[Any, ...], shift: int, size: int) -> None:
        self._root = root
        self._shift = shift  # bits of the index above the leaves
        self._size = size

    @classmethod
    def of(cls, items: Iterable[T]) -> "PersistentVector[T]":
        nodes: list[Any] = list(items)
        size, shift = len(nodes), 0
        nodes = [tuple(nodes[i : i + _WIDTH]) for i in range(0, size, _WIDTH)] or [()]
        while len(nodes) > 1:
            nodes = [tuple(nodes[i : i + _WIDTH]) for i in range(0, len(nodes), _WIDTH)]
            shift += _BITS
        return cls(nodes[0], shift, size)

    def __len__(self) -> int:
        return self._size

    def __getitem__(self, index: int) -> T:
        if not 0 <= index < self._size:
            raise IndexError(index)
        node, shift = self._root, self._shift
        while shift:
            node = node[(index >> shift) & _MASK]
            shift -= _BITS
        item: T = node[index & _MASK]
        return item

    def set(self, index: int, item: T) -> "PersistentVector[T]":
        if not 0 <= index < self._size:
            raise IndexError(index)
        return PersistentVector(_set(self._root, self._shift, index, item), self._shift, self._size)

    def __iter__(self) -> Iterator[T]:
        return _walk(self._root, self._shift)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, PersistentVector) and list(self) == list(other)

    __hash__ = None  # type: ignore[assignment]  # equal by content, like a list

    def __repr__(self) -> str:
        return f"PersistentVector({list(self)!r})"


def _set(node: tuple[Any, ...], shift: int, index: int, item: object) -> tuple[Any, ...]:
    slot = (index >> shift) & _MASK
    child = item if shift == 0 else _set(node[slot], shift - _BITS, index, item)
    return (*node[:slot], child, *node[slot + 1 :])


def _walk(node: tuple[Any, ...], shift: int) -> Iterator[Any]:
    if shift == 0:
        yield from node
    else:
        for child in node:
            yield from _walk(child, shift - _BITS)


# The state


@dataclass(frozen=True, slots=True)
class Standing:
    price: Decimal  # the bidder's current price
    sequence: int  # of the accepted price that set it; 0 for the initial price


@dataclass(frozen=True)
class Auction:
    auction_id: str
    ocid: str
    lot_id: str
    buyer_id: str
    currency: str
    starts_at: datetime
    rules: AuctionRules
    price_weight: Decimal
    show_leading_price: bool
    participants: tuple[AuctionParticipant, ...]  # as scheduled; fixed
    index: Mapping[str, int]  # bidder id -> position in participants and standings; fixed
    standings: PersistentVector[Standing]  # by position
    lowest: Decimal  # the lowest current price
    status: AuctionStatus
    version: int  # the sequence number of the last event applied
    opened_at: datetime | None = None
    last_accepted_at: datetime | None = None
    accepted: int = 0  # prices accepted so far: the sequence of the last one
    rejected: int = 0
    closed_at: datetime | None = None
    close_reason: AuctionEnd | None = None
    cancelled_at: datetime | None = None

    def standing(self, bidder_id: str) -> Standing:
        return self.standings[self.index[bidder_id]]


# Time


def closes_at(state: Auction) -> datetime:
    """When the auction closes by its rule, as things stand; before the opening, as planned."""
    origin = state.opened_at or state.starts_at
    rules = state.rules
    if rules.ends is AuctionEnd.FIXED_TIME:
        return origin + timedelta(seconds=rules.duration_seconds)
    if rules.ends is AuctionEnd.ROUNDS:
        return origin + timedelta(seconds=rules.rounds * rules.round_seconds)
    return (state.last_accepted_at or origin) + timedelta(seconds=rules.inactivity_seconds)


def round_at(state: Auction, at: datetime) -> int:
    """The round a price sent at ``at`` belongs to: 1 unless the auction runs in rounds."""
    if state.rules.ends is not AuctionEnd.ROUNDS or state.opened_at is None:
        return 1
    return (at - state.opened_at) // timedelta(seconds=state.rules.round_seconds) + 1


def next_due(state: Auction) -> datetime | None:
    """When the timer next has something to do: open at starts_at, then close at closes_at."""
    if state.status is AuctionStatus.SCHEDULED:
        return state.starts_at
    if state.status is AuctionStatus.OPEN:
        return closes_at(state)
    return None


# The score and the ranking


@dataclass(frozen=True, slots=True)
class Rank:
    """One line of the live ranking; ``as_message`` is the line as ``AuctionClosed`` records it."""

    rank: int
    bidder_id: str
    bid_id: str
    price: Decimal
    price_score: Decimal
    quality_part: Decimal
    total: Decimal

    def as_message(self) -> AuctionRank:
        return AuctionRank(
            rank=self.rank,
            bidder_id=self.bidder_id,
            bid_id=self.bid_id,
            price=self.price,
            price_score=self.price_score,
            quality_part=self.quality_part,
            total=self.total,
        )


def ranking(state: Auction) -> list[Rank]:
    """Every participant's current standing by the published formula, best first."""
    rows = []
    with localcontext(_ARITHMETIC):
        for participant, standing in zip(state.participants, state.standings, strict=True):
            by_price = (state.price_weight * state.lowest / standing.price).quantize(POINT)
            total = by_price + participant.quality_part
            rows.append((total, standing, participant, by_price))
    rows.sort(key=lambda row: (-row[0], row[1].sequence, row[2].bidder_id))
    return [
        Rank(
            rank,
            participant.bidder_id,
            participant.bid_id,
            standing.price,
            by_price,
            participant.quality_part,
            total,
        )
        for rank, (total, standing, participant, by_price) in enumerate(rows, 1)
    ]


def most_a_bidder_may_offer(state: Auction, bidder_id: str) -> Decimal:
    """The highest next price the decrement allows the bidder, in cents (may be 0.00)."""
    last = state.standing(bidder_id).price
    with localcontext(_ARITHMETIC):
        limit = last * (HUNDRED - state.rules.minimum_decrement) / HUNDRED
        return limit.quantize(CENT, rounding=ROUND_FLOOR)


# What bidders are sent and see


def invitations(event: AuctionScheduled) -> list[tuple[str, dict[str, Any]]]:
    """What each participant is sent, all at once: the auction's rules, the formula, and its
    own initial price and rank; never another bidder's identity, price or quality part."""
    state = _scheduled(event)
    ranks = {row.bidder_id: row for row in ranking(state)}
    common = {
        "auction_id": state.auction_id,
        "ocid": state.ocid,
        "lot_id": state.lot_id,
        "currency": state.currency,
        "starts_at": state.starts_at.isoformat(),
        "ends": _end_rule(state.rules),
        "minimum_decrement": f"{state.rules.minimum_decrement:.2f}",
        "participants": len(state.participants),
        "leading_price_shown": state.show_leading_price,
    }
    return [
        (
            participant.bidder_id,
            {
                **common,
                "formula": _formula(state, participant),
                "initial_price": f"{participant.initial_price:.2f}",
                "initial_rank": ranks[participant.bidder_id].rank,
            },
        )
        for participant in state.participants
    ]


def _end_rule(rules: AuctionRules) -> dict[str, Any]:
    if rules.ends is AuctionEnd.FIXED_TIME:
        return {"rule": rules.ends.value, "duration_seconds": rules.duration_seconds}
    if rules.ends is AuctionEnd.ROUNDS:
        return {
            "rule": rules.ends.value,
            "rounds": rules.rounds,
            "round_seconds": rules.round_seconds,
        }
    return {"rule": rules.ends.value, "inactivity_seconds": rules.inactivity_seconds}


def _formula(state: Auction, participant: AuctionParticipant) -> dict[str, str]:
    return {
        "score": "price_weight * lowest price / your price + your quality part",
        "price_weight": str(state.price_weight),
        "your_quality_part": f"{participant.quality_part:.4f}",
        "rounding": "the price score half up to 0.0001 point",
        "ties": "the bidder who reached its current price first",
    }


def bidder_view(state: Auction, bidder_id: str) -> dict[str, Any]:
    """What one bidder sees live. See ``bidder_views``."""
    participant_must_be_invited(state, bidder_id)
    return _views(state, ranking(state), only=bidder_id)[bidder_id]


def bidder_views(state: Auction) -> dict[str, dict[str, Any]]:
    """What every bidder sees, ranked once: its own price, score and rank, the number of
    participants, and, when the auction's specification says so (``show_leading_price``,
    Article 35(7)), the lowest current price and the best total, anonymously. Never another
    bidder's identity."""
    return _views(state, ranking(state))


def _views(state: Auction, ranks: list[Rank], only: str | None = None) -> dict[str, dict[str, Any]]:
    shown = state.show_leading_price
    common = {
        "auction_id": state.auction_id,
        "status": state.status.value,
        "currency": state.currency,
        "closes_at": closes_at(state).isoformat(),
        "version": state.version,  # of the event the view reflects: later views supersede it
        "participants": len(ranks),
        "leading_price": f"{state.lowest:.2f}" if shown else None,
        "best_total": f"{ranks[0].total:.4f}" if shown else None,
    }
    return {
        row.bidder_id: {
            **common,
            "your_price": f"{row.price:.2f}",
            "your_price_score": f"{row.price_score:.4f}",
            "your_total": f"{row.total:.4f}",
            "your_rank": row.rank,
            "your_next_price_at_most": f"{most_a_bidder_may_offer(state, row.bidder_id):.2f}",
        }
        for row in ranks
        if only is None or row.bidder_id == only
    }


# Rules, named as the sentences they enforce


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
    with localcontext(_ARITHMETIC):
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


# Decisions


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
    """What the evaluation records when the auction closes: each bid's final price."""
    return RecordAuctionResult(
        ocid=state.ocid,
        lot_id=state.lot_id,
        final_prices=tuple(
            FinalPrice(bid_id=rank.bid_id, price=Value(amount=rank.price, currency=state.currency))
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


def check_price(state: Auction, bidder_id: str, price: Decimal, now: datetime) -> None:
    """Raise the error a price would be rejected with, recording nothing; see the module."""
    participant_must_be_invited(state, bidder_id)
    auction_must_be_taking_prices(state, now)
    price_must_be_an_amount_in_cents(state, price)
    price_must_fall_by_the_minimum_decrement(state, bidder_id, price)


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


def error_of(rejection: AuctionPriceRejected) -> Rejected:
    """The error to answer a recorded rejection with: what ``check_price`` raised."""
    return _ERRORS[rejection.reason_code](rejection.reason, code=rejection.reason_code.value)


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


# Evolution


def evolve(state: Auction | None, event: Event) -> Auction:
    """Apply one event in O(log n); an event the lifecycle does not allow is a corrupt history."""
    status = state.status if state else None
    after = LIFECYCLE.get((status, getattr(event, "type", "")))
    if after is None:
        msg = f"{type(event).__name__} cannot happen to an auction that is {status or 'not scheduled'}"
        raise ValueError(msg)
    if isinstance(event, AuctionScheduled):
        return _scheduled(event)
    assert state is not None
    version = state.version + 1
    if isinstance(event, AuctionPriceAccepted):
        return _accepted(state, event, version)
    if isinstance(event, AuctionPriceRejected):
        return replace(state, rejected=state.rejected + 1, version=version)
    if isinstance(event, AuctionOpened):
        return replace(state, status=after, opened_at=event.opened_at, version=version)
    if isinstance(event, AuctionClosed):
        return replace(
            state,
            status=after,
            closed_at=event.closed_at,
            close_reason=event.reason,
            version=version,
        )
    if isinstance(event, AuctionCancelled):
        return replace(state, status=after, cancelled_at=event.cancelled_at, version=version)
    return replace(state, status=after, version=version)


def replay(events: Iterable[Event]) -> Auction | None:
    state: Auction | None = None
    for event in events:
        state = evolve(state, event)
    return state


def _scheduled(event: AuctionScheduled) -> Auction:
    participants = event.participants
    return Auction(
        auction_id=auction_id(event.ocid, event.lot_id),
        ocid=event.ocid,
        lot_id=event.lot_id,
        buyer_id=event.buyer_id,
        currency=event.currency,
        starts_at=event.starts_at,
        rules=event.rules,
        price_weight=event.price_weight,
        show_leading_price=event.show_leading_price,
        participants=participants,
        index={p.bidder_id: i for i, p in enumerate(participants)},
        standings=PersistentVector.of(Standing(p.initial_price, 0) for p in participants),
        lowest=min(p.initial_price for p in participants),
        status=AuctionStatus.SCHEDULED,
        version=1,
    )


def _accepted(state: Auction, event: AuctionPriceAccepted, version: int) -> Auction:
    position = state.index.get(event.bidder_id)
    if position is None or event.sequence != state.accepted + 1:
        msg = f"accepted price {event.sequence} of {event.bidder_id} does not follow auction {state.auction_id}"
        raise ValueError(msg)
    return replace(
        state,
        standings=state.standings.set(position, Standing(event.price, event.sequence)),
        lowest=min(state.lowest, event.price),
        last_accepted_at=event.at,
        accepted=event.sequence,
        version=version,
    )
