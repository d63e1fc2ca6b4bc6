"""Auction prices, committed in groups.

Fifty bidders sending a price every 100 ms is 500 prices a second to one auction, one after
the other, since each is decided on the state the previous one left. One commit per price
waits for the disk each time; instead, the prices that arrive while one group is being
committed are decided in order on one state and recorded together, in one transaction.
A price is answered only once its group is committed.
"""

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import uuid4

import asyncpg

from adapters.postgres import eventstore
from adapters.postgres.auction_states import AuctionStates
from procurement import auction
from procurement.auction import Auction
from procurement.errors import WrongState
from schemas.auction import SubmitAuctionPrice
from schemas.commands import Actor
from schemas.events import Envelope, envelope

ATTEMPTS = 5


@dataclass(frozen=True)
class Recorded:
    event: Envelope  # the price, accepted or rejected
    state: Auction  # the auction once the price's group was recorded


@dataclass(frozen=True)
class _Waiting:
    command: SubmitAuctionPrice
    actor: Actor
    answer: "asyncio.Future[Recorded]"


class AuctionPrices:
    def __init__(
        self,
        pool: Any,
        states: AuctionStates,
        clock: Callable[[], datetime],
        on_recorded: Callable[[Auction], None] = lambda _state: None,
    ) -> None:
        self.pool = pool
        self.states = states  # shared with the command handler, and so are its locks
        self.clock = clock
        self.on_recorded = on_recorded  # told each state committed, e.g. to push live views
        self._waiting: dict[str, list[_Waiting]] = {}
        self._writers: dict[str, asyncio.Task[None]] = {}

    async def submit(self, command: SubmitAuctionPrice, actor: Actor) -> Recorded:
        auction_id = auction.auction_id(command.ocid, command.lot_id)
        answer: asyncio.Future[Recorded] = asyncio.get_running_loop().create_future()
        self._waiting.setdefault(auction_id, []).append(_Waiting(command, actor, answer))
        if auction_id not in self._writers:
            self._writers[auction_id] = asyncio.create_task(self._write(auction_id))
        return await answer

    async def _write(self, auction_id: str) -> None:
        try:
            while group := self._waiting.pop(auction_id, None):
                try:
                    recorded = await self._record(auction_id, group)
                except Exception as error:
                    for waiting in group:
                        waiting.answer.set_exception(error)
                else:
                    for waiting, one in zip(group, recorded, strict=True):
                        waiting.answer.set_result(one)
        finally:
            del self._writers[auction_id]

    async def _record(self, auction_id: str, group: list[_Waiting]) -> list[Recorded]:
        async with self.states.lock(auction_id), self.pool.acquire() as connection:
            known = self.states.last_known(auction_id)  # a round trip saved per group
            for _ in range(ATTEMPTS):  # another process may record first: decide again
                if known is None:
                    known = await self.states.at(connection, auction_id)
                state = auction.auction_must_exist(known, auction_id)
                now, envelopes = self.clock(), []
                for waiting in group:
                    (event,) = auction.submit_price(
                        state, waiting.actor.id, waiting.command.price, now
                    )
                    state = auction.evolve(state, event)
                    envelopes.append(
                        envelope(
                            event,
                            event_id=uuid4(),
                            aggregate_id=auction_id,
                            sequence=state.version,
                            actor=waiting.actor.id,
                            occurred_at=now,
                        )
                    )
                try:
                    await eventstore.append(connection, envelopes)
                except asyncpg.UniqueViolationError:
                    known = None  # someone else wrote: read what they did
                    continue
                self.states.remember(state)
                self.on_recorded(state)
                return [Recorded(item, state) for item in envelopes]
        msg = f"auction {auction_id} met too many concurrent prices; send the price again"
        raise WrongState(msg, code="busy")
