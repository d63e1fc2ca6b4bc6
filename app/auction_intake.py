"""Auction prices, committed in groups.

Fifty bidders sending a price every 100 ms is 500 prices a second to one auction, one after
the other, since each is decided on the state the previous one left. One commit per price
waits for the disk each time; instead, the prices that arrive while one group is being
committed are decided in order on one state and recorded together, in one transaction.
A price is answered only once its group is committed.
"""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from adapters.postgres.auction_states import AuctionStates
from adapters.postgres.eventstore import PostgresEventStore
from app.handlers import auction_state
from app.policies import Changes
from app.store import EventStore, StoreTransaction
from app.unit_of_work import GroupCommit, UnitOfWork, Writes, envelopes
from procurement import auction
from procurement.auction import Auction
from schemas.auction import SubmitAuctionPrice
from schemas.commands import Actor
from schemas.events import Envelope


@dataclass(frozen=True)
class Recorded:
    event: Envelope  # the price, accepted or rejected
    state: Auction  # the auction once the price's group was recorded


@dataclass(frozen=True)
class _Waiting:
    auction_id: str
    command: SubmitAuctionPrice
    actor: Actor


class AuctionPrices:
    def __init__(
        self,
        pool: Any,
        states: AuctionStates,
        clock: Callable[[], datetime],
        on_recorded: Callable[[Auction], None] = lambda _state: None,
        store: EventStore | None = None,
    ) -> None:
        self.pool = pool
        self.states = states  # shared with the command bus, and so are its locks
        self.clock = clock
        self.on_recorded = on_recorded  # told each state committed, e.g. to push live views
        self._uow = UnitOfWork(store or PostgresEventStore(pool), clock)
        self._stale: dict[str, bool] = {}  # a group is being tried: a retry reads the store
        self._group: GroupCommit[_Waiting, Recorded] = GroupCommit(
            self._uow,
            self._record,
            lane=lambda waiting: waiting.auction_id,
            guard=lambda lane: self.states.lock(str(lane)),
            committed=self._committed,
            what="the prices",
        )

    async def submit(self, command: SubmitAuctionPrice, actor: Actor) -> Recorded:
        auction_id = auction.auction_id(command.ocid, command.lot_id)
        return await self._group.submit(_Waiting(auction_id, command, actor))

    async def _record(
        self, tx: StoreTransaction, writes: Writes, group: list[_Waiting]
    ) -> list[Recorded]:
        """Decide the group's prices in order on one state, and record them together. The
        state this process last saw saves a read; if another process wrote since, the
        append is refused and the retry reads what it wrote."""
        auction_id = group[0].auction_id
        known = self.states.last_known(auction_id)
        if known is None or self._stale.pop(auction_id, False):
            known = await auction_state(tx, self.states, auction_id)
        self._stale[auction_id] = True  # until this group commits
        state = auction.auction_must_exist(known, auction_id)
        now, recorded = self.clock(), []
        for waiting in group:
            (event,) = auction.submit_price(state, waiting.actor.id, waiting.command.price, now)
            version = state.version
            state = auction.evolve(state, event)
            changes = Changes(auction_id, version, [event])
            recorded.extend(envelopes(changes, actor=waiting.actor.id, at=now))
        await self._uow.append(tx, writes, recorded)
        return [Recorded(item, state) for item in recorded]

    def _committed(self, results: list[Recorded]) -> None:
        state = results[-1].state
        self._stale.pop(state.auction_id, None)
        self.states.remember(state)
        self.on_recorded(state)
