"""The relay sends an event only once every event stored before it is committed or rolled
back. Positions come from a sequence, so a transaction can commit after a later position
was taken and committed: a consumer handed that later event would read a history missing
the earlier one and, rebuilding a procedure's OCDS releases from it, publish a release
that no later recomputation corrects."""

import asyncio
import uuid
from datetime import UTC, datetime

from adapters.postgres.eventstore import append
from schemas.events import AgencyRegistered, Envelope, envelope
from tests.integration.stack import Stack, eventually


def registration(agency_id: str) -> Envelope:
    return envelope(
        AgencyRegistered(agency_id=agency_id, name="Agenția de test", identifier="RO-1"),
        event_id=uuid.uuid4(),
        aggregate_id=agency_id,
        sequence=1,
        actor="operator",
        occurred_at=datetime.now(UTC),
    )


async def queued(stack: Stack, event: Envelope) -> bool:
    """Whether the event still waits in the outbox for the relay."""
    return bool(
        await stack.pool.fetchval(
            "SELECT 1 FROM outbox o JOIN events e USING (position) WHERE e.event_id = $1",
            event.event_id,
        )
    )


async def test_an_event_waits_for_the_transaction_that_took_an_earlier_position(
    stack: Stack,
) -> None:
    earlier = registration(f"agency-RO-CUI-{uuid.uuid4().int % 10**8}")
    later = registration(f"agency-RO-CUI-{uuid.uuid4().int % 10**8}")
    async with stack.pool.acquire() as slow:
        transaction = slow.transaction()
        await transaction.start()
        try:
            await append(slow, [earlier])
            async with stack.pool.acquire() as quick, quick.transaction():
                await append(quick, [later])
            positions = await stack.pool.fetch(
                "SELECT position FROM events WHERE event_id = ANY($1)",
                [earlier.event_id, later.event_id],
            )
            assert len(positions) == 1  # only the later one is committed yet
            await asyncio.sleep(3)  # the relay publishes within a second when nothing waits
            assert await queued(stack, later), "sent while an earlier position was uncommitted"
        finally:
            await transaction.commit()

    async def both_sent() -> bool:
        return not await queued(stack, earlier) and not await queued(stack, later)

    await eventually(both_sent, within=30)
    logs = "".join(path.read_text() for path in stack.log_dir.glob("worker-*.log"))
    assert "relay interrupted" not in logs  # it waited, it did not fail and retry
