"""Live auction views for the bidders following an auction, pushed as they change.

Two ways a view reaches a follower, whichever comes first (a follower keeps only views
newer than the one it has):

- The API process that records a group of prices hands its own followers their views at
  once, from the state it has just committed (``publish``).
- One LISTEN connection per API process hears the stream's read model announce a change
  (``readmodels.auction_views``, fed by the faust projection of the auction topic); the
  process reads the auction's views once and hands each follower its own. This is how
  prices recorded by another API process, and the timer's opening and closing, arrive.

A follower that falls behind gets the latest view, never a queue of stale ones: a rank is
only worth knowing as it is now.
"""

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator
from typing import Any

from procurement import auction
from procurement.auction import Auction
from readmodels.auction_views import CHANNEL


class Follower:
    def __init__(self, bidder_id: str) -> None:
        self.bidder_id = bidder_id
        self.view: dict[str, Any] | None = None
        self.changed = asyncio.Event()

    def offer(self, view: dict[str, Any] | None) -> None:
        if view is not None and (self.view is None or view["version"] > self.view["version"]):
            self.view = view
            self.changed.set()

    async def next_view(self) -> dict[str, Any]:
        await self.changed.wait()
        self.changed.clear()
        assert self.view is not None
        return self.view


class LiveViews:
    def __init__(self, pool: Any) -> None:
        self.pool = pool
        self._followers: dict[str, set[Follower]] = {}
        self._listener: Any = None
        self._refreshing: dict[str, bool] = {}  # auction id -> another change came meanwhile
        self._start = asyncio.Lock()
        self._tasks: set[asyncio.Task[None]] = set()

    async def close(self) -> None:
        if self._listener is not None:
            await self._listener.remove_listener(CHANNEL, self._announced)
            await self.pool.release(self._listener)
            self._listener = None

    @contextlib.asynccontextmanager
    async def follow(self, auction_id: str, bidder_id: str) -> AsyncIterator[Follower]:
        await self._listen()
        follower = Follower(bidder_id)
        self._followers.setdefault(auction_id, set()).add(follower)
        try:
            # The view as it is now, first. A crowd joins an auction at its start: while one
            # read is under way, it reads again for the newcomers instead of one read each.
            if auction_id in self._refreshing:
                self._refreshing[auction_id] = True
            else:
                await self._refresh(auction_id)
            yield follower
        finally:
            followers = self._followers[auction_id]
            followers.discard(follower)
            if not followers:
                del self._followers[auction_id]

    async def _listen(self) -> None:
        async with self._start:
            if self._listener is None:
                self._listener = await self.pool.acquire()
                await self._listener.add_listener(CHANNEL, self._announced)

    def publish(self, state: Auction) -> None:
        """Hand this process's followers their views of a state just committed."""
        followers = self._followers.get(state.auction_id)
        if not followers:
            return
        views = auction.bidder_views(state)
        for follower in followers:
            follower.offer(views.get(follower.bidder_id))

    def _announced(self, _connection: Any, _pid: int, _channel: str, payload: str) -> None:
        announced = json.loads(payload)
        auction_id, version = announced["auction_id"], announced["version"]
        followers = self._followers.get(auction_id)
        if not followers or all(
            f.view is not None and f.view["version"] >= version for f in followers
        ):
            return  # nobody here follows it, or everybody has it already
        if auction_id in self._refreshing:  # one read at a time; it will read again after
            self._refreshing[auction_id] = True
            return
        task = asyncio.get_running_loop().create_task(self._refresh(auction_id))
        self._tasks.add(task)  # held until done: the loop keeps only weak references
        task.add_done_callback(self._tasks.discard)

    async def _refresh(self, auction_id: str) -> None:
        self._refreshing[auction_id] = False
        try:
            while True:
                views = await self.pool.fetchval(
                    "SELECT views FROM auctions WHERE auction_id = $1", auction_id
                )
                for follower in self._followers.get(auction_id, ()):
                    follower.offer((views or {}).get(follower.bidder_id))
                if not self._refreshing.get(auction_id):
                    return
                self._refreshing[auction_id] = False
        finally:
            self._refreshing.pop(auction_id, None)
