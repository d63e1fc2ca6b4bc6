"""A stream of officer commands to run while the tests break things underneath it."""

import asyncio
from collections.abc import Awaitable, Callable

from tests.integration.conftest import tender_body
from tests.integration.stack import Stack


async def command_stream(
    stack: Stack,
    token: str,
    tenders: int,
    on_progress: Callable[[int], Awaitable[None]] | None = None,
    concurrency: int = 8,
) -> list[str]:
    """Publish ``tenders`` tenders, amend each, cancel every third; return their ocids.

    Every command must be accepted: the API depends on PostgreSQL only, never on Kafka.
    ``on_progress`` is awaited with the running count of accepted commands.
    """
    accepted = 0
    ocids: list[str] = []
    gate = asyncio.Semaphore(concurrency)

    async def accept(method: str, path: str, body: object) -> str:
        nonlocal accepted
        async with gate, stack.client(token) as client:
            response = await client.request(method, path, json=body)
        assert response.status_code in {200, 201}, response.text
        accepted += 1
        if on_progress is not None:
            await on_progress(accepted)
        ocid: str = response.json()["id"]
        return ocid

    async def one_tender(number: int) -> None:
        ocid = await accept("POST", "/tenders", tender_body())
        ocids.append(ocid)
        await accept(
            "PATCH", f"/tenders/{ocid}", {"reason": "Clarified", "title": f"Paper, batch {number}"}
        )
        if number % 3 == 0:
            await accept("POST", f"/tenders/{ocid}/cancellation", {"reason": "Merged into another"})

    await asyncio.gather(*(one_tender(n) for n in range(tenders)))
    return ocids
