"""Auction states kept in memory between commands, or between projected batches.

An auction takes hundreds of prices a second; replaying all of them for each new one would
make every price slower than the last. A cached state is brought up to date by reading only
the events after it, so it is never trusted beyond what the event store says.
"""

import asyncio
from collections import OrderedDict
from typing import Any

from adapters.postgres import eventstore
from procurement import auction
from procurement.auction import Auction

MAX_CACHED = 1000  # auctions; the least recently used is dropped and replayed if needed


class AuctionStates:
    def __init__(self) -> None:
        self._states: OrderedDict[str, Auction] = OrderedDict()
        self._locks: dict[str, asyncio.Lock] = {}

    def lock(self, auction_id: str) -> asyncio.Lock:
        """Serialises one process's commands to one auction: concurrent prices would
        otherwise race for the same sequence number and be decided again and again."""
        return self._locks.setdefault(auction_id, asyncio.Lock())

    async def at(
        self, connection: Any, auction_id: str, version: int | None = None
    ) -> Auction | None:
        """The auction after its event ``version`` (the latest when None)."""
        state = self._states.get(auction_id)
        if state is not None and version is not None and state.version > version:
            state = None  # ahead of what was asked: start again
        after = state.version if state is not None else 0
        if version is None or version > after:
            for item in await eventstore.load(connection, auction_id, after=after):
                if version is not None and item.sequence > version:
                    break
                state = auction.evolve(state, item.event)
        self.remember(state)
        return state

    def last_known(self, auction_id: str) -> Auction | None:
        """The state this process last saw, without asking the store: for a writer that
        will be refused (a duplicate sequence) if someone else has written since."""
        return self._states.get(auction_id)

    def remember(self, state: Auction | None) -> None:
        if state is None:
            return
        self._states[state.auction_id] = state
        self._states.move_to_end(state.auction_id)
        while len(self._states) > MAX_CACHED:
            dropped, _ = self._states.popitem(last=False)
            self._locks.pop(dropped, None)
