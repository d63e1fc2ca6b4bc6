"""How one aggregate's event leads to another's, in the transaction that records it: the
procedure's flow, read in one table.

Each policy reads what it needs (``read``, in the transaction) and decides purely
(``react``): the events it returns are written by the unit of work with the event that
caused them, or not at all. The bid log also follows its tender's deadline, lots and
cancellation, but that is folded into its state (``bidding.ledger``), not a reaction.
"""

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from app.store import StoreTransaction
from bidding import ledger
from bidding.log import bid_log_id
from procurement import auction, claims, evaluation, tender
from schemas.auction import AuctionClosed
from schemas.claims import ClaimDecision, RegistrationClaimDecided
from schemas.commands import Actor, Role
from schemas.evaluation import StartEvaluation
from schemas.events import (
    BidOpened,
    BidRejected,
    BidSubmitted,
    BidWithdrawn,
    Envelope,
    Event,
    TenderRequirementsAmended,
)


@dataclass(frozen=True)
class Changes:
    """Events one decision adds to one aggregate, after its event ``version``. ``actor`` and
    ``occurred_at`` default to the command's."""

    aggregate_id: str
    version: int
    events: Sequence[Event]
    actor: str | None = None
    occurred_at: datetime | None = None


Read = Callable[[StoreTransaction, Envelope, Sequence[Envelope]], Awaitable[Any]]
React = Callable[[Envelope, Any], list[Changes]]


@dataclass(frozen=True)
class Policy:
    """``read(transaction, event, written)`` gathers what ``react(event, read)`` needs;
    ``written`` is what the transaction recorded so far."""

    read: Read
    react: React


EVALUATION_SERVICE = Actor(id="opening-ceremony", role=Role.SYSTEM)


def _as_system(trigger: Envelope) -> Actor:
    """A reaction is the platform's, on behalf of whoever caused it."""
    return Actor(id=trigger.actor, role=Role.SYSTEM)


# Tender closed -> its bid log is sealed under the Merkle root of its entries.


async def _read_bid_log(transaction: StoreTransaction, closed: Envelope, _: Any) -> Any:
    return await transaction.bid_ledger(closed.aggregate_id, lock=True, leaves=True)


def seal_bid_log(closed: Envelope, log: ledger.Ledger | None) -> list[Changes]:
    sealed = ledger.seal(log)
    if log is None or not sealed:
        return []
    return [Changes(bid_log_id(log.ocid), log.version, sealed, closed.actor, closed.occurred_at)]


# Requirements amended -> the bids already sent wait for their bidders' reconfirmation.


async def _read_bidders(transaction: StoreTransaction, amended: Envelope, _: Any) -> Any:
    # Every bidder's entries, to find each one's current bid: amendments are rare.
    ocid = amended.aggregate_id
    history = await transaction.load(bid_log_id(ocid))
    bidders = {
        item.event.receipt.bidder_id
        for item in history
        if isinstance(item.event, BidSubmitted | BidWithdrawn)
    }
    return await transaction.bid_ledger(ocid, sorted(bidders), lock=True)


def ask_for_reconfirmation(amended: Envelope, log: ledger.Ledger | None) -> list[Changes]:
    assert isinstance(amended.event, TenderRequirementsAmended)
    requested = ledger.request_reconfirmation(log, amended.event)
    if log is None or not requested:
        return []
    ocid = amended.aggregate_id
    return [Changes(bid_log_id(ocid), log.version, requested, amended.actor, amended.occurred_at)]


# Bids opened -> the committee's evaluation starts with the opened bids.


@dataclass(frozen=True)
class _Opening:
    published: tender.Tender
    log: ledger.Ledger
    opened: list[BidOpened]
    tenderers: tuple[str, ...] = ()  # whose bids were opened or rejected at the opening


async def _read_opening(
    transaction: StoreTransaction, done: Envelope, written: Sequence[Envelope]
) -> _Opening:
    ocid = done.aggregate_id.removesuffix(":bids")
    opened = [
        item.event
        for item in written
        if item.aggregate_id == done.aggregate_id and isinstance(item.event, BidOpened)
    ]
    published = tender.replay([item.event for item in await transaction.load(ocid)])
    assert published is not None, f"bids opened for {ocid}, which was never published"
    log = await transaction.bid_ledger(ocid, sorted({bid.bidder_id for bid in opened}))
    assert log is not None
    tenderers = {
        item.event.bidder_id
        for item in written
        if item.aggregate_id == done.aggregate_id
        and isinstance(item.event, BidOpened | BidRejected)
    }
    return _Opening(published, log, opened, tuple(sorted(tenderers)))


def start_evaluation(done: Envelope, opening: _Opening) -> list[Changes]:
    if not opening.opened:
        return []
    received = {
        (bid.bidder_id, bid.version): opening.log.receipts[(bid.bidder_id, bid.version)]
        for bid in opening.opened
    }
    command = StartEvaluation(
        ocid=opening.published.ocid,
        facts=evaluation.facts_from_tender(
            opening.published, sorted(opening.log.members), opening.tenderers
        ),
        bids=tuple(
            evaluation.opened_bid(bid, received[(bid.bidder_id, bid.version)].received_at)
            for bid in opening.opened
        ),
    )
    started = evaluation.decide(None, command, EVALUATION_SERVICE, done.occurred_at)
    aggregate_id = evaluation.evaluation_id(opening.published.ocid)
    return [Changes(aggregate_id, 0, started, EVALUATION_SERVICE.id, done.occurred_at)]


# Auction closed -> the evaluation records each bid's final price.


async def _read_auction(transaction: StoreTransaction, closed: Envelope, _: Any) -> Any:
    # Its schedule says all the result needs (lot, currency): not thousands of prices again.
    scheduled = await transaction.load(closed.aggregate_id, until=1)
    state = auction.replay(item.event for item in scheduled)
    assert state is not None
    history = await transaction.load(evaluation.evaluation_id(state.ocid))
    return state, [item.event for item in history]


def record_auction_result(closed: Envelope, read: Any) -> list[Changes]:
    state, history = read
    assert isinstance(closed.event, AuctionClosed)
    command = auction.result(closed.event, state)
    events = evaluation.decide(
        evaluation.replay(history), command, _as_system(closed), closed.occurred_at
    )
    aggregate_id = evaluation.evaluation_id(state.ocid)
    return [Changes(aggregate_id, len(history), events, closed.actor, closed.occurred_at)]


# Registration claim accepted -> the claimant holds the number's registration.


async def _read_claim(transaction: StoreTransaction, decided: Envelope, _: Any) -> Any:
    claim = claims.replay_claim(
        [item.event for item in await transaction.load(decided.aggregate_id)]
    )
    assert isinstance(decided.event, RegistrationClaimDecided)
    return claim, len(await transaction.load(decided.event.claimant_id))


def hand_over_registration(decided: Envelope, read: Any) -> list[Changes]:
    claim, version = read
    assert isinstance(decided.event, RegistrationClaimDecided)
    if decided.event.decision is not ClaimDecision.ACCEPT:
        return []
    registered = claims.transferred_registration(claim)
    return [Changes(registered.supplier_id, version, [registered])]


POLICIES: dict[str, Policy] = {
    "TenderClosed": Policy(_read_bid_log, seal_bid_log),
    "TenderRequirementsAmended": Policy(_read_bidders, ask_for_reconfirmation),
    "BidsOpened": Policy(_read_opening, start_evaluation),
    "AuctionClosed": Policy(_read_auction, record_auction_result),
    "RegistrationClaimDecided": Policy(_read_claim, hand_over_registration),
}
