"""Applying the auction's events: ``evolve`` one, in O(log n), ``replay`` them all."""

from collections.abc import Iterable
from dataclasses import replace

from procurement.auction.state import LIFECYCLE, Auction, Standing, scheduled
from schemas.auction import (
    AuctionCancelled,
    AuctionClosed,
    AuctionOpened,
    AuctionPriceAccepted,
    AuctionPriceRejected,
    AuctionScheduled,
)
from schemas.events import Event


def evolve(state: Auction | None, event: Event) -> Auction:
    """Apply one event in O(log n); an event the lifecycle does not allow is a corrupt history."""
    status = state.status if state else None
    after = LIFECYCLE.get((status, getattr(event, "type", "")))
    if after is None:
        msg = f"{type(event).__name__} cannot happen to an auction that is {status or 'not scheduled'}"
        raise ValueError(msg)
    if isinstance(event, AuctionScheduled):
        return scheduled(event)
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
