"""Readiness tells the truth: a database that takes no writes makes the API not ready,
named as such, while it stays alive."""

import asyncpg
import httpx

from tests.integration.stack import Stack, eventually


async def _set_read_only(stack: Stack, read_only: bool) -> None:
    """Make the stack's database refuse (or take again) every write from every session:
    the setting holds for new sessions, so the open ones are ended and reconnect."""
    connection = await asyncpg.connect(stack.database_url)
    try:
        await connection.execute("SET default_transaction_read_only = off")  # this one writes
        database = await connection.fetchval("SELECT current_database()")
        change = "SET default_transaction_read_only = on" if read_only else "RESET ALL"
        await connection.execute(f'ALTER DATABASE "{database}" {change}')
        await connection.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
            " WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )
    finally:
        await connection.close()


async def test_ready_answers_with_the_figures(stack: Stack) -> None:
    """A platform that writes and keeps up is ready, and says how far behind it is."""
    async with stack.client() as client:
        answer = await client.get("/health/ready")
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["status"] == "ready"
    for figure in ("outbox_rows", "relay_lag_seconds", "projection_lag_seconds"):
        assert body[figure] >= 0, figure
    assert body["unresolved_dead_letters"] == 0
    assert body["forged_records"] == 0


async def test_a_read_only_database_is_not_ready_but_alive(stack: Stack) -> None:
    """With the database refusing writes, readiness answers 503 naming the write check,
    liveness stays 200, and readiness comes back once writes are taken again."""
    await _set_read_only(stack, True)
    try:
        async with stack.client() as client:

            async def not_ready() -> httpx.Response | None:
                answer = await client.get("/health/ready")
                return answer if answer.status_code == 503 else None

            answer = await eventually(not_ready, within=15)
            assert answer.headers["content-type"] == "application/problem+json"
            assert answer.headers["retry-after"]
            assert "database_write" in answer.json()["failing"]
            assert "read-only" in answer.json()["detail"]
            assert (await client.get("/health/live")).status_code == 200
    finally:
        await _set_read_only(stack, False)
    async with stack.client() as client:

        async def ready() -> bool:
            return (await client.get("/health/ready")).status_code == 200

        await eventually(ready, within=15)
