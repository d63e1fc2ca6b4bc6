"""The API's answer while its database is away: a 503 problem document with Retry-After,
and only for faults that are the database's absence."""

import asyncpg
import httpx
from fastapi import FastAPI

from entrypoints.http import database_down


async def _answer(error: Exception) -> httpx.Response:
    """What the API answers to a request whose route raises ``error``."""
    app = FastAPI()
    database_down.add_handlers(app)

    @app.get("/")
    async def fail() -> None:
        raise error

    transport = httpx.ASGITransport(app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://api") as client:
        return await client.get("/")


async def test_a_refused_connection_is_a_503_with_retry_after() -> None:
    """A refused connection (PostgreSQL restarting) answers 503, a problem, Retry-After."""
    answer = await _answer(ConnectionRefusedError(111, "Connection refused"))
    assert answer.status_code == 503
    assert answer.headers["content-type"] == "application/problem+json"
    assert answer.headers["retry-after"] == database_down.RETRY_AFTER
    assert answer.json()["code"] == "database_unavailable"


async def test_a_missing_socket_and_a_dropped_connection_are_503s() -> None:
    """A socket file gone with its server and a connection closed mid-query answer 503."""
    assert (await _answer(FileNotFoundError(2, "No such file"))).status_code == 503
    dropped = asyncpg.ConnectionDoesNotExistError("connection was closed")
    assert (await _answer(dropped)).status_code == 503


async def test_a_read_only_database_is_a_503_saying_so() -> None:
    """A refused write answers 503 that says the database takes no writes."""
    answer = await _answer(asyncpg.ReadOnlySQLTransactionError("read-only"))
    assert answer.status_code == 503
    assert "takes no writes" in answer.json()["detail"]


async def test_a_missing_file_of_its_own_is_not_blamed_on_the_database() -> None:
    """A FileNotFoundError that names a file is the route's own fault: not a 503."""
    answer = await _answer(FileNotFoundError(2, "No such file", "/etc/missing"))
    assert answer.status_code == 500
