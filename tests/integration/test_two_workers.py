"""Two stream workers share the partitions; stopping one mid-stream still delivers every
event to the read models exactly once."""

import asyncio

from tests.integration.conftest import register_officer
from tests.integration.stack import Stack, eventually, read_models_match_the_store
from tests.integration.workload import command_stream


async def test_stopping_one_of_two_workers_loses_nothing(stack: Stack) -> None:
    """A second worker joins, the first is stopped halfway, and the survivor takes over its
    partitions (and the relay) without losing or doubling an event."""
    stack.start_worker()
    officer = await register_officer(stack)
    stopped = asyncio.Event()

    async def stop_the_first_worker(accepted: int) -> None:
        if accepted == 120 and not stopped.is_set():
            stopped.set()
            stack.workers[0].terminate()

    await command_stream(stack, officer["token"], tenders=100, on_progress=stop_the_first_worker)
    assert stopped.is_set()
    await asyncio.to_thread(stack.workers[0].wait, 30)
    await eventually(lambda: read_models_match_the_store(stack), within=120)
    assert stack.workers[1].poll() is None
