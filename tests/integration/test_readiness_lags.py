"""Readiness on the real services when events stop flowing: with no stream worker, events
wait in the outbox and the read models fall behind, and `/health/ready` answers 503 naming
`relay_lag`, `outbox_size` and `projection_lag` once each passes its limit (set through the
settings); a worker catching up makes it ready again. A dead letter, set aside on its own,
leaves the platform ready and is named among the warnings until it is resolved."""

import asyncio
import uuid
from typing import Any

import httpx
import pytest

from adapters.readiness import Limits
from tests.integration.conftest import register_officer, running_stack
from tests.integration.stack import OPERATOR_TOKEN, Stack, eventually
from tests.integration.test_dead_letters import (
    append,
    letter_of,
    repair_the_stored_title,
    tender_event,
)

LOW = Limits(relay_lag_seconds=1.0, outbox_rows=3, projection_lag_seconds=1.0)
# Short enough that a dead letter counted as lag would fail readiness within the test, long
# enough that a worker busy on a shared machine keeps up.
SHORT = Limits(relay_lag_seconds=2.0, outbox_rows=1000, projection_lag_seconds=2.0)


async def readiness(stack: Stack) -> httpx.Response:
    async with stack.client() as client:
        return await client.get("/health/ready")


async def register_agencies(stack: Stack, count: int) -> None:
    async with stack.client(OPERATOR_TOKEN) as operator:
        for _ in range(count):
            identifier = f"RO-CUI-{uuid.uuid4().int % 10**8}"
            answer = await operator.post(
                "/agencies", json={"name": f"Agency {identifier}", "identifier": identifier}
            )
            assert answer.status_code == 201, answer.text


async def failing_checks(stack: Stack, expected: set[str]) -> dict[str, Any]:
    """The 503 body once exactly ``expected`` checks fail."""

    async def judged() -> dict[str, Any] | None:
        answer = await readiness(stack)
        if answer.status_code != 503:
            return None
        assert answer.headers["content-type"] == "application/problem+json"
        assert answer.headers["retry-after"]
        body: dict[str, Any] = answer.json()
        return body if set(body["failing"]) == expected else None

    return await eventually(judged, within=20)


async def test_events_that_reach_neither_kafka_nor_the_read_models_make_it_not_ready(
    postgres_server: str, tmp_path_factory: pytest.TempPathFactory
) -> None:
    """With no worker: one waiting event fails the relay and projection lags but not the
    outbox size; four fail the outbox size too; a worker started then clears all three."""
    async with running_stack(postgres_server, tmp_path_factory, workers=0, readiness=LOW) as stack:
        assert (await readiness(stack)).status_code == 200  # nothing waits yet
        await register_agencies(stack, 1)
        body = await failing_checks(stack, {"relay_lag", "projection_lag"})
        assert body["figures"]["outbox_rows"] == 1
        assert "limit 1 s" in body["failing"]["relay_lag"]
        assert "relay_lag" in body["detail"]
        assert "projection_lag" in body["detail"]

        await register_agencies(stack, 3)
        body = await failing_checks(stack, {"relay_lag", "outbox_size", "projection_lag"})
        assert "4 events wait for Kafka (limit 3)" in body["failing"]["outbox_size"]
        async with stack.client() as client:
            assert (await client.get("/health/live")).status_code == 200

        stack.start_worker()

        async def ready() -> httpx.Response | None:
            answer = await readiness(stack)
            return answer if answer.status_code == 200 else None

        body = (await eventually(ready, within=60)).json()
        assert body["status"] == "ready"
        assert body["outbox_rows"] == 0


async def test_a_dead_letter_is_a_warning_while_the_platform_stays_ready(
    postgres_server: str, tmp_path_factory: pytest.TempPathFactory
) -> None:
    """An event the tenders projection cannot apply is set aside: readiness stays 200 and
    names it under warnings with its count, past the lag limits; once the operator repairs
    and replays it, the warning is gone."""
    async with running_stack(postgres_server, tmp_path_factory, readiness=SHORT) as stack:
        assert (await readiness(stack)).json()["warnings"] == {}
        officer = await register_officer(stack)
        poison = tender_event(officer["agency_id"], "Road works\x00 2027")
        await append(stack, poison)
        letter = await letter_of(stack, poison.event_id)

        async def warned() -> dict[str, Any] | None:
            answer = await readiness(stack)
            if answer.status_code != 200:
                return None
            body: dict[str, Any] = answer.json()
            return body if body["warnings"] else None

        body = await warned_past_the_limits(warned)
        assert body["status"] == "ready"
        assert body["unresolved_dead_letters"] == 1
        assert list(body["warnings"]) == ["dead_letters"]
        assert "1 event" in body["warnings"]["dead_letters"]

        await repair_the_stored_title(stack, poison.event_id)
        async with stack.client(OPERATOR_TOKEN) as operator:
            replayed = await operator.post(f"/operations/dead-letters/{letter['id']}/replay")
        assert replayed.status_code == 200, replayed.text

        async def cleared() -> bool:
            answer = await readiness(stack)
            return answer.status_code == 200 and answer.json()["warnings"] == {}

        await eventually(cleared, within=10)


async def warned_past_the_limits(warned: Any) -> dict[str, Any]:
    """The warned answer, read again after the lag limits have passed, so that a dead letter
    counted as a lag would have failed readiness by then (and the last read would time out)."""
    await eventually(warned, within=10)
    await asyncio.sleep(SHORT.projection_lag_seconds + 1.5)
    body: dict[str, Any] = await eventually(warned, within=10)
    return body
