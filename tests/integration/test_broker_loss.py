"""The embedded broker keeps its log in memory. Killing it in the middle of a stream of
commands loses every topic, record and offset; the platform republishes from the event
store and the read models end up exactly as the store says, each event applied once."""

import asyncio

from tests.integration.conftest import register_officer
from tests.integration.stack import Stack, eventually, read_models_match_the_store
from tests.integration.workload import command_stream


async def test_read_models_survive_a_broker_that_loses_everything(stack: Stack) -> None:
    """Kill -9 the broker after 100 of 280 commands, restart it empty on the
    same port, and the read models converge on the event store."""
    officer = await register_officer(stack)
    killed = asyncio.Event()

    async def kill_the_broker(accepted: int) -> None:
        if accepted == 100 and not killed.is_set():
            killed.set()
            stack.broker.kill()
            await asyncio.sleep(0.5)
            await asyncio.to_thread(stack.broker.start)

    ocids = await command_stream(stack, officer["token"], tenders=120, on_progress=kill_the_broker)
    assert killed.is_set()
    await eventually(lambda: read_models_match_the_store(stack), within=120)
    active = await stack.pool.fetchval(
        "SELECT count(*) FROM tenders WHERE ocid = ANY($1) AND status = 'active'", ocids
    )
    assert active == 80
    worker_log = (stack.log_dir / "worker-0.log").read_text()
    assert "republishing the event store" in worker_log
