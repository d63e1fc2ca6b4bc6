"""The deadline service closes each tender when its submission deadline passes, to the
second, and catches up on what fell due while no worker was running."""

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

from tests.integration.conftest import register_officer, tender_body
from tests.integration.stack import PAST_DEADLINE, Stack, eventually


async def publish(stack: Stack, token: str, deadline_in: timedelta) -> tuple[str, datetime]:
    body = tender_body(deadline_in=deadline_in)
    async with stack.client(token) as client:
        response = await client.post("/tenders", json=body)
    assert response.status_code == 201, response.text
    return response.json()["id"], datetime.fromisoformat(body["submission_deadline"])


async def closing(stack: Stack, ocid: str) -> Any:
    return await stack.pool.fetchrow(
        "SELECT occurred_at FROM events WHERE aggregate_id = $1 AND type = 'TenderClosed'", ocid
    )


async def test_a_tender_closes_within_a_second_of_its_deadline(stack: Stack) -> None:
    """TenderClosed is recorded after the deadline and less than a second later."""
    officer = await register_officer(stack)
    ocid, deadline = await publish(stack, officer["token"], timedelta(seconds=2))
    closed = await eventually(lambda: closing(stack, ocid), within=15)
    assert deadline <= closed["occurred_at"] < deadline + timedelta(seconds=1)
    async with stack.client() as public:

        async def public_status() -> str | None:
            status: str = (await public.get(f"/tenders/{ocid}")).json()["status"]
            return status if status in PAST_DEADLINE else None

        assert await eventually(public_status) in PAST_DEADLINE


async def test_an_extended_deadline_keeps_the_tender_open(stack: Stack) -> None:
    """A tender whose deadline was extended is not closed at the old deadline."""
    officer = await register_officer(stack)
    ocid, deadline = await publish(stack, officer["token"], timedelta(seconds=2))
    later = deadline + timedelta(seconds=60)
    async with stack.client(officer["token"]) as client:
        response = await client.patch(
            f"/tenders/{ocid}",
            json={"reason": "More time", "submission_deadline": later.isoformat()},
        )
    assert response.status_code == 200, response.text
    await asyncio.sleep((deadline - datetime.now(UTC)).total_seconds() + 1.5)
    assert await closing(stack, ocid) is None


async def test_tenders_due_while_workers_were_down_close_on_restart(stack: Stack) -> None:
    """With every worker stopped past a deadline, the next worker closes the tender at once,
    and only once."""
    officer = await register_officer(stack)
    ocid, deadline = await publish(stack, officer["token"], timedelta(seconds=3))

    async def projected() -> bool:
        return bool(await stack.pool.fetchval("SELECT 1 FROM tenders WHERE ocid = $1", ocid))

    await eventually(projected)
    for worker in stack.workers:
        worker.terminate()
        await asyncio.to_thread(worker.wait, 30)
    await asyncio.sleep((deadline - datetime.now(UTC)).total_seconds() + 1)
    assert await closing(stack, ocid) is None
    restarted_at = datetime.now(UTC)
    stack.start_worker()
    closed = await eventually(lambda: closing(stack, ocid), within=30)
    assert closed["occurred_at"] >= restarted_at
    closings = await stack.pool.fetchval(
        "SELECT count(*) FROM events WHERE aggregate_id = $1 AND type = 'TenderClosed'", ocid
    )
    assert closings == 1
