"""How often one address may read, and one token or address may write, in memory.

Fixed windows of the ``limits`` package: one counter per key and window, so the memory an
attacker can make the API hold grows with the addresses it sends from, never with its rate.
Its asyncio storage: the threaded one starts a timer thread every few milliseconds, which
cost 80 µs a request here.

The counters are each API process's own: with N processes, a client whose connections
reach all of them gets up to N times its allowance. Shared counters would cost a database
write per request; where the exact figure matters, set each limit to the allowance over N.
"""

import math
import time

from limits import RateLimitItem, parse
from limits.aio.storage import MemoryStorage
from limits.aio.strategies import FixedWindowRateLimiter

from adapters.http_limits import HttpLimits


class RateLimits:
    def __init__(self, limits: HttpLimits) -> None:
        self._limiter = FixedWindowRateLimiter(MemoryStorage())
        self.reads = parse(limits.reads_per_address)
        self.writes = parse(limits.writes_per_token)
        self.anonymous_writes = parse(limits.anonymous_writes_per_address)

    async def spend(self, item: RateLimitItem, key: str) -> float | None:
        """Count one request against ``key``; None if allowed, else the seconds to wait."""
        if await self._limiter.hit(item, key):
            return None
        return await self.wait(item, key)

    async def wait(self, item: RateLimitItem, key: str) -> float | None:
        """The seconds until ``key`` may send again, or None if it may now."""
        if await self._limiter.test(item, key):
            return None
        reset_at = (await self._limiter.get_window_stats(item, key)).reset_time
        return max(1.0, math.ceil(reset_at - time.time()))
