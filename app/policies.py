"""How one aggregate's event leads to another's, in the transaction that records it: the
procedure's flow, read in one table.

Each policy reads what it needs (``read``, in the transaction) and decides purely
(``react``): the events it returns are written by the unit of work with the event that
caused them, or not at all. The bid log also follows its tender's deadline, lots and
cancellation, but that is folded into its state (``bidding.ledger``), not a reaction.
"""

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from app.store import StoreTransaction
from bidding import ledger
from bidding.log import bid_log_id
from contracts import contract
from procurement import auction, claims, evaluation, tender
from schemas.auction import AuctionCancelled, AuctionClosed
from schemas.claims import ClaimDecision, RegistrationClaimDecided
from schemas.commands import Actor, Role
from schemas.documents import TenderDocumentPublished
from schemas.evaluation import (
    AwardAnnulled,
    LotCancelled,
    ProcedureCancelled,
    RecordContractConcluded,
    StartEvaluation,
)
from schemas.events import (
    BidLogSealed,
    BidOpened,
    BidRejected,
    BidsOpened,
    BidSubmitted,
    BidWithdrawn,
    Envelope,
    Event,
    TenderCancelled,
    TenderRequirementsAmended,
    TenderUnsuccessful,
)
from schemas.values import Requirements


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
    """The log is sealed; a tender that never had one (no committee, so no bid) ends
    unsuccessful at once."""
    if log is None:
        return _unsuccessful(closed, closed.aggregate_id, closed.sequence, "no bid log")
    sealed = ledger.seal(log)
    if not sealed:
        return []
    return [Changes(bid_log_id(log.ocid), log.version, sealed, closed.actor, closed.occurred_at)]


# Requirements amended, or a document published that changes them -> the bids already sent
# wait for their bidders' reconfirmation.


async def _read_bidders(transaction: StoreTransaction, amended: Envelope, _: Any) -> Any:
    # Every bidder's entries, to find each one's current bid: amendments are rare.
    ocid = amended.aggregate_id
    event = amended.event
    if isinstance(event, TenderDocumentPublished) and not event.changes_requirements:
        return None, None  # a document that changes nothing significant asks nobody
    history = await transaction.load(bid_log_id(ocid))
    bidders = {
        item.event.receipt.bidder_id
        for item in history
        if isinstance(item.event, BidSubmitted | BidWithdrawn)
    }
    log = await transaction.bid_ledger(ocid, sorted(bidders), lock=True)
    if not isinstance(event, TenderDocumentPublished):
        return log, None
    # The requirements the document changes, as recorded up to it.
    published = tender.replay(
        [e.event for e in await transaction.load(ocid, until=amended.sequence)]
    )
    return log, published.requirements if published is not None else None


def ask_for_reconfirmation(
    amended: Envelope, read: tuple[ledger.Ledger | None, Requirements | None]
) -> list[Changes]:
    assert isinstance(amended.event, TenderRequirementsAmended | TenderDocumentPublished)
    log, requirements = read
    requested = ledger.request_reconfirmation(log, amended.event, requirements)
    if log is None or not requested:
        return []
    ocid = amended.aggregate_id
    return [Changes(bid_log_id(ocid), log.version, requested, amended.actor, amended.occurred_at)]


def _unsuccessful(trigger: Envelope, ocid: str, version: int, why: str) -> list[Changes]:
    """The tender ends unsuccessful: it closed with no bid to evaluate (``why``)."""
    reason = f"The tender closed with no bid to evaluate: {why}."
    ended = [TenderUnsuccessful(reason=reason)]
    return [Changes(ocid, version, ended, trigger.actor, trigger.occurred_at)]


# Bid log sealed empty -> the tender is unsuccessful. (A log whose every bid was withdrawn
# is not empty: its opening finds nothing, below.)


async def _read_tender(transaction: StoreTransaction, sealed: Envelope, _: Any) -> Any:
    ocid = sealed.aggregate_id.removesuffix(":bids")
    return tender.replay([item.event for item in await transaction.load(ocid)])


def unsuccessful_without_bids(sealed: Envelope, published: tender.Tender | None) -> list[Changes]:
    assert isinstance(sealed.event, BidLogSealed)
    if (
        published is None
        or sealed.event.tree_size
        or published.status is not tender.TenderStatus.CLOSED
    ):
        return []
    return _unsuccessful(sealed, published.ocid, published.version, "none was submitted")


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
    """The evaluation starts with the opened bids; with none, the tender is unsuccessful."""
    if not opening.opened:
        assert isinstance(done.event, BidsOpened)
        published = opening.published
        if published.status is not tender.TenderStatus.CLOSED:
            return []
        why = f"none of its bids could be opened ({done.event.rejected} rejected)"
        return _unsuccessful(done, published.ocid, published.version, why)
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
    evaluated = evaluation.replay(history)
    lot = evaluated.lots.get(state.lot_id) if evaluated else None
    if (
        evaluated is None
        or evaluated.cancelled
        or lot is None
        or lot.status is not evaluation.LotStatus.AUCTION
    ):
        return []  # the lot or the procedure was cancelled meanwhile: no result to record
    events = evaluation.decide(evaluated, command, _as_system(closed), closed.occurred_at)
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


# Tender cancelled -> its evaluation is cancelled: one cancellation, whichever way it came.
# Procedure cancelled -> its tender is cancelled, and so are its pending contracts and
# live auctions; a lot cancelled or an award annulled -> the same for that lot.


@dataclass(frozen=True)
class _Procedure:
    published: tender.Tender | None
    evaluated: evaluation.Evaluation | None
    evaluation_version: int
    contracts: dict[str, contract.Contract | None]  # of the lots affected, by aggregate id
    contract_versions: dict[str, int]
    auctions: dict[str, auction.Auction | None]


async def _read_procedure(transaction: StoreTransaction, cause: Envelope, _: Any) -> _Procedure:
    ocid = cause.aggregate_id.split(":", 1)[0]
    published = tender.replay([item.event for item in await transaction.load(ocid)])
    history = await transaction.load(evaluation.evaluation_id(ocid))
    evaluated = evaluation.replay(item.event for item in history)
    contracts, versions, auctions = {}, {}, {}
    for lot_id, number in _affected(cause.event, evaluated):
        contract_id = contract.contract_id_for(ocid, lot_id, number)
        events = await transaction.load(contract_id)
        contracts[contract_id] = contract.replay(item.event for item in events)
        versions[contract_id] = len(events)
        auction_id = auction.auction_id(ocid, lot_id)
        auctions[auction_id] = auction.replay(
            item.event for item in await transaction.load(auction_id)
        )
    return _Procedure(published, evaluated, len(history), contracts, versions, auctions)


def _affected(event: Event, evaluated: evaluation.Evaluation | None) -> list[tuple[str, int]]:
    """The lots an annulment or cancellation stops, with the number of their last award."""
    if isinstance(event, AwardAnnulled):
        return [(event.lot_id, event.award_number)]
    if evaluated is None or not isinstance(event, LotCancelled | ProcedureCancelled):
        return []  # a TenderCancelled acts through the ProcedureCancelled it leads to
    lots = [event.lot_id] if isinstance(event, LotCancelled) else list(evaluated.lots)
    return [(lot, max(evaluated.lots[lot].awards_decided, 1)) for lot in lots]


def stop_what_follows(cause: Envelope, read: _Procedure) -> list[Changes]:
    """Nothing goes on after the cause: the other side of a cancellation follows it, and
    the affected lots' pending contracts and live auctions are cancelled."""
    event, at = cause.event, cause.occurred_at
    reason = getattr(event, "reason", "")
    changes = []
    if isinstance(event, TenderCancelled):
        cancelled = evaluation.cancel_with_the_tender(read.evaluated, cause.actor, reason)
        if cancelled:
            ocid = cause.aggregate_id
            changes.append(
                Changes(evaluation.evaluation_id(ocid), read.evaluation_version, cancelled)
            )
    if isinstance(event, ProcedureCancelled) and read.published is not None:
        events = tender.cancel_with_the_procedure(read.published, reason)
        if events:
            changes.append(Changes(read.published.ocid, read.published.version, events))
    why = f"{type(event).__name__}: {reason}"
    for contract_id, drawn in read.contracts.items():
        ended = contract.cancel_with_the_award(drawn, why, cause.actor)
        if ended:
            changes.append(Changes(contract_id, read.contract_versions[contract_id], ended))
    for auction_id, scheduled in read.auctions.items():
        if scheduled is not None and (scheduled.status, "AuctionCancelled") in auction.LIFECYCLE:
            stopped = AuctionCancelled(officer_id=cause.actor, reason=why, cancelled_at=at)
            changes.append(Changes(auction_id, scheduled.version, [stopped]))
    return [replace(change, actor=cause.actor, occurred_at=at) for change in changes]


# Contract concluded (both signed) -> the lot's evaluation records it: the lot has ended.


async def _read_concluded(transaction: StoreTransaction, activated: Envelope, _: Any) -> Any:
    drawn = contract.replay(
        item.event for item in await transaction.load(activated.aggregate_id, until=1)
    )
    assert drawn is not None
    history = await transaction.load(evaluation.evaluation_id(drawn.drawn.ocid))
    return drawn, history


def record_contract_concluded(activated: Envelope, read: Any) -> list[Changes]:
    drawn, history = read
    state = evaluation.replay(item.event for item in history)
    if state is None:
        return []
    command = RecordContractConcluded(
        ocid=drawn.drawn.ocid, lot_id=drawn.drawn.lot_id, contract_id=drawn.contract_id
    )
    events = evaluation.decide(state, command, _as_system(activated), activated.occurred_at)
    aggregate_id = evaluation.evaluation_id(drawn.drawn.ocid)
    return [Changes(aggregate_id, len(history), events, activated.actor, activated.occurred_at)]


POLICIES: dict[str, Policy] = {
    "TenderClosed": Policy(_read_bid_log, seal_bid_log),
    "TenderRequirementsAmended": Policy(_read_bidders, ask_for_reconfirmation),
    "TenderDocumentPublished": Policy(_read_bidders, ask_for_reconfirmation),
    "BidLogSealed": Policy(_read_tender, unsuccessful_without_bids),
    "BidsOpened": Policy(_read_opening, start_evaluation),
    "AuctionClosed": Policy(_read_auction, record_auction_result),
    "TenderCancelled": Policy(_read_procedure, stop_what_follows),
    "ProcedureCancelled": Policy(_read_procedure, stop_what_follows),
    "LotCancelled": Policy(_read_procedure, stop_what_follows),
    "AwardAnnulled": Policy(_read_procedure, stop_what_follows),
    "ContractActivated": Policy(_read_concluded, record_contract_concluded),
    "RegistrationClaimDecided": Policy(_read_claim, hand_over_registration),
}
