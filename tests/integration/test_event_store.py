"""The event store is append-only and its history cannot fork, however commands race."""

import asyncio
import uuid
from datetime import UTC, datetime

import asyncpg
import pytest

from adapters.postgres import eventstore
from schemas.events import TenderCancelled, envelope
from tests.integration.conftest import register_officer, tender_body
from tests.integration.stack import Stack


async def test_recorded_events_cannot_be_changed_or_deleted(stack: Stack) -> None:
    """UPDATE and DELETE on the event store are refused by the database itself."""
    officer = await register_officer(stack)
    for statement in (
        "UPDATE events SET type = 'Forged' WHERE aggregate_id = $1",
        "DELETE FROM events WHERE aggregate_id = $1",
    ):
        with pytest.raises(asyncpg.RaiseError, match="append-only"):
            await stack.pool.execute(statement, officer["officer_id"])


async def test_a_second_writer_of_the_same_sequence_is_refused(stack: Stack) -> None:
    """Appending an event at a sequence number already taken fails and records nothing."""
    officer = await register_officer(stack)
    async with stack.client(officer["token"]) as client:
        ocid = (await client.post("/tenders", json=tender_body())).json()["id"]
    forged = envelope(
        TenderCancelled(reason="Forged"),
        event_id=uuid.uuid4(),
        aggregate_id=ocid,
        sequence=1,
        actor=officer["officer_id"],
        occurred_at=datetime.now(UTC),
    )
    async with stack.pool.acquire() as connection:
        with pytest.raises(asyncpg.UniqueViolationError):
            async with connection.transaction():
                await eventstore.append(connection, [forged])
    stored = await stack.pool.fetch("SELECT type FROM events WHERE aggregate_id = $1", ocid)
    assert [row["type"] for row in stored] == ["TenderPublished"]


async def test_racing_amendments_line_up_without_gaps(stack: Stack) -> None:
    """Twenty concurrent amendments of one tender produce sequences 1..n with no gap or
    duplicate; each accepted amendment is in the history once."""
    officer = await register_officer(stack)
    async with stack.client(officer["token"]) as client:
        ocid = (await client.post("/tenders", json=tender_body())).json()["id"]

        async def amend(number: int) -> int:
            body = {"reason": f"Change {number}", "title": f"Office paper, version {number}"}
            return (await client.patch(f"/tenders/{ocid}", json=body)).status_code

        statuses = await asyncio.gather(*(amend(n) for n in range(20)))
    assert set(statuses) <= {200, 409}
    sequences = [
        row["sequence"]
        for row in await stack.pool.fetch(
            "SELECT sequence FROM events WHERE aggregate_id = $1 ORDER BY sequence", ocid
        )
    ]
    assert sequences == list(range(1, len(sequences) + 1))
    assert len(sequences) == 1 + statuses.count(200)
